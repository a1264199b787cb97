"""What a version package declares about each of its module interfaces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter

from evroam.config import Settings
from evroam.core.types import InterfaceRole, Role


@dataclass(frozen=True, slots=True)
class Module:
    """One interface of one module: mounted at ``/ocpi/{version}/{path}``, announced in the
    version details as (identifier, role) when ``enabled`` says this node offers it."""

    identifier: str
    role: InterfaceRole
    path: str
    router: Callable[[], APIRouter]
    enabled: Callable[[Settings], bool] = lambda _settings: True


def has_role(*roles: Role) -> Callable[[Settings], bool]:
    def check(settings: Settings) -> bool:
        return any(p.role in roles for p in settings.parties)

    return check
