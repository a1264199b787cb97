"""The operator's view of the hub's charging processes: sessions, their CDRs and the
charging notifications kept for offline EMPs (the operator API, ``web/oicp/sessions.py``).

Read-only: nothing here changes a session. The edge masks identifications before it
answers (``oicp/v2_3/masking.py``); this layer hands over what is stored, never a PIN
hash (``OicpSession.pin_hash`` stays in the hub).
"""

from __future__ import annotations

from dataclasses import dataclass

from evroam.core.oicp_sessions import (
    CdrFilter,
    KeptNotification,
    OicpSession,
    SessionFilter,
    StoredCdr,
)
from evroam.core.ports import OicpUnitOfWorkFactory

#: Most rows one listing answers; an operator narrows with the filters.
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class SessionDetail:
    session: OicpSession
    cdr: StoredCdr | None
    notifications: list[KeptNotification]


def _bounded(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


async def list_sessions(
    uow: OicpUnitOfWorkFactory, session_filter: SessionFilter, limit: int
) -> list[OicpSession]:
    """The newest matching sessions, at most ``limit`` (1..MAX_LIMIT)."""
    async with uow(read_only=True) as u:
        return await u.oicp_sessions.search(session_filter, _bounded(limit))


async def session_detail(uow: OicpUnitOfWorkFactory, session_id: str) -> SessionDetail | None:
    """A session with its CDR and kept notifications, read in one transaction so the
    three agree; ``None`` for a SessionID the hub does not hold."""
    async with uow(read_only=True) as u:
        session = await u.oicp_sessions.get(session_id)
        if session is None:
            return None
        cdr = await u.oicp_cdrs.get(session_id)
        kept = await u.oicp_notifications.for_session(session_id)
    return SessionDetail(session, cdr, kept)


@dataclass(frozen=True, slots=True)
class CdrView:
    """A CDR with its partners' IDs as registered (``DE*ABC``; the CDR keeps the
    canonical ``DEABC``), or the canonical ID of a partner since removed."""

    cdr: StoredCdr
    operator_id: str
    provider_id: str | None


async def list_cdrs(uow: OicpUnitOfWorkFactory, cdr_filter: CdrFilter, limit: int) -> list[CdrView]:
    """The newest matching CDRs, at most ``limit`` (1..MAX_LIMIT)."""
    async with uow(read_only=True) as u:
        found = await u.oicp_cdrs.search(cdr_filter, _bounded(limit))
        if not found:
            return []
        names = {p.canonical_id: p.partner_id for p in await u.oicp_partners.list()}
    return [
        CdrView(
            c,
            names.get(c.operator, c.operator),
            names.get(c.provider, c.provider) if c.provider is not None else None,
        )
        for c in found
    ]
