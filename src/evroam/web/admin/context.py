"""What the operator API's routes reach, set on its app's state at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from evroam.config import Settings
from evroam.services.partner_services import PartnerServices


@dataclass(frozen=True, slots=True)
class AdminContext:
    settings: Settings
    partners: PartnerServices


def get_admin_context(request: Request) -> AdminContext:
    ctx = request.app.state.admin
    if not isinstance(ctx, AdminContext):  # only before start-up completed
        raise RuntimeError("operator API context is not ready")
    return ctx


async def _admin_context(request: Request) -> AdminContext:
    """The dependency form: ``async`` because FastAPI runs a plain ``def`` dependency on
    its thread pool, a thread hand-over on every request for a dictionary lookup."""
    return get_admin_context(request)


AdminDep = Annotated[AdminContext, Depends(_admin_context)]
