"""The hub's sessions: made, settled, looked up for a partner, ended (digest §3).

Shared by the services of each process (authorization, remote start and reservation,
CDRs, notifications). The rules:

* the hub makes every SessionID (a random GUID) and stores the session *before* it
  forwards the first message, so a partner's quick follow-up (a notification racing
  the answer) finds it;
* a later message must name a session the hub made for the sending partner (the CPO
  of the session for CPO messages, its EMP for EMP messages), else "Session is
  invalid" (400) and nothing changes; a session whose CDR arrived is over;
* a session whose first forward is still under way already counts: a CPO may start
  charging and notify before its answer to the remote start reaches the hub;
* a failed authorization deletes its session;
* the partners' session IDs are kept from the first message that carries them and
  carried through every later message and answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from evroam.core.oicp import OicpPartner, OicpRole
from evroam.core.oicp_sessions import (
    NoSuchPartner,
    OicpSession,
    PartnerAnswer,
    SessionState,
    UnknownSession,
)
from evroam.core.ports import OicpUnitOfWork, OicpUnitOfWorkFactory


def new_session_id() -> str:
    """A GUID in the form OICP shows (``b2688855-7f00-0002-6d8e-48d883f6abb6``)."""
    return str(uuid.uuid4())


def merge_partner_sessions(
    session: OicpSession, cpo: str | None = None, emp: str | None = None
) -> None:
    """Keep the partners' session IDs the first message carrying them gave."""
    if cpo and session.cpo_partner_session_id is None:
        session.cpo_partner_session_id = cpo
    if emp and session.emp_partner_session_id is None:
        session.emp_partner_session_id = emp


def merge_answer(session: OicpSession, answer: PartnerAnswer) -> None:
    merge_partner_sessions(session, answer.cpo_partner_session_id, answer.emp_partner_session_id)


async def store_new(uow: OicpUnitOfWorkFactory, session: OicpSession) -> None:
    """Store a session being made, after checking in the same transaction that its CPO
    (and its EMP, once known) are still partners of the hub."""
    async with uow() as u:
        await _require(u, session.operator, OicpRole.CPO)
        if session.provider is not None:
            await _require(u, session.provider, OicpRole.EMP)
        await u.oicp_sessions.add(session)
        await u.commit()


async def drop(uow: OicpUnitOfWorkFactory, session_id: str) -> None:
    """Delete a session whose first step failed."""
    async with uow() as u:
        await u.oicp_sessions.remove(session_id)
        await u.commit()


async def _require(u: OicpUnitOfWork, canonical_id: str, role: OicpRole) -> OicpPartner:
    partner = await u.oicp_partners.get(canonical_id)
    if partner is None or not partner.holds(role):
        raise NoSuchPartner(f"{canonical_id} is no {role.value} partner of this hub")
    return partner


async def partner_of(uow: OicpUnitOfWorkFactory, canonical_id: str, role: OicpRole) -> OicpPartner:
    async with uow(read_only=True) as u:
        return await _require(u, canonical_id, role)


def check_owner(session: OicpSession | None, role: OicpRole, canonical_id: str) -> OicpSession:
    """The session if it is live and ``canonical_id`` is its party in ``role``;
    ``UnknownSession`` otherwise, with the same words whether the session does not exist
    or is another partner's (a partner learns nothing of others' sessions)."""
    party = None
    if session is not None:
        party = session.operator if role is OicpRole.CPO else session.provider
    if session is None or party != canonical_id or session.state is SessionState.CLOSED:
        raise UnknownSession("the SessionID is not a live session of the hub for this partner")
    return session


async def owned(
    uow: OicpUnitOfWorkFactory, session_id: str, role: OicpRole, canonical_id: str
) -> OicpSession:
    async with uow(read_only=True) as u:
        return check_owner(await u.oicp_sessions.get(session_id), role, canonical_id)


async def settle(
    uow: OicpUnitOfWorkFactory,
    session_id: str,
    state: SessionState,
    now: datetime,
    answer: PartnerAnswer | None = None,
    **changes: object,
) -> OicpSession:
    """Move a session to ``state`` with ``changes``, in a transaction holding its row;
    ``UnknownSession`` if it vanished meanwhile (its CDR arrived, an operator removed
    it)."""
    async with uow() as u:
        session = await u.oicp_sessions.get_for_update(session_id)
        if session is None:
            raise UnknownSession("the session ended while its message was forwarded")
        for name, value in changes.items():
            setattr(session, name, value)
        if answer is not None:
            merge_answer(session, answer)
        if session.state is not SessionState.CLOSED:
            session.state = state
        session.updated_at = now
        await u.oicp_sessions.save(session)
        await u.commit()
    return session
