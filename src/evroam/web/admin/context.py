"""What the operator API's routes reach, set on its app's state at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

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
