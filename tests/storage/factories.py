"""Core objects for storage tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    Partner,
    Party,
    Role,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_partner(**kw: Any) -> Partner:
    base: dict[str, Any] = dict(
        id=0,
        status=ConnectionStatus.CONNECTED,
        versions_url="https://p.example.com/ocpi/versions",
        version="2.2.1",
        endpoints=[Endpoint("credentials", InterfaceRole.SENDER, "https://p/cred")],
        roles=[
            Party("nl", "abc", Role.CPO, BusinessDetails("ABC", "https://abc.example.com")),
            Party("NL", "ABC", Role.EMSP, BusinessDetails("ABC")),
        ],
        token_out="their-token",
        registered_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        status_changed_at=NOW,
    )
    base.update(kw)
    return Partner(**base)


def party(cc: str, pid: str, role: Role = Role.CPO) -> Party:
    return Party(cc, pid, role, BusinessDetails(f"{cc}-{pid}"))
