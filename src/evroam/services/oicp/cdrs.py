"""Charge detail records on the hub (digest §1.3 rows 5-6, §3).

A CDR from a CPO, in this order:

1. its EvseID belongs to the calling operator (018);
2. in one transaction holding the session's row: the SessionID is one the hub made for
   this operator (400 otherwise), and the CDR is stored, keyed by the SessionID. A
   second CDR for a session is refused with 022: the SessionID is valid (the hub made
   it for this CPO), what is wrong is the data, a record the hub already holds; the
   refusal names when the first arrived, so a CPO retrying after a lost answer knows
   its CDR is in. The session is closed: nothing of it follows a CDR;
3. then, outside the transaction, it is forwarded to the session's EMP if that EMP is
   online; a failed forward does not fail the CPO's call (the CDR is stored) and leaves
   the CDR marked not forwarded, for the EMP to fetch with GetChargeDetailRecords
   (``CDRForwarded`` false). Offline EMPs always fetch.

GetChargeDetailRecords returns only the calling EMP's CDRs (those of sessions it
authorized, online, offline or remotely), by the hub's receipt time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from evroam.core.oicp import ForeignEvse, InvalidRequest, OicpPartner, OicpRole
from evroam.core.oicp_sessions import (
    CdrQuery,
    DuplicateCdr,
    NoSuchPartner,
    OicpSession,
    PartnerCallFailed,
    SessionState,
    StoredCdr,
)
from evroam.core.ports import OicpForward, OicpUnitOfWorkFactory
from evroam.services.oicp import sessions

log = logging.getLogger("evroam.oicp")

#: Most SessionIDs one GetChargeDetailRecords may filter on (an IN list bound).
MAX_SESSION_IDS = 1000


@dataclass(frozen=True, slots=True)
class IncomingCdr:
    session_id: str
    evse_id: str
    evse_operator: str  # canonical OperatorID of the EvseID
    record: str  # the CDR as JSON text, as it will be kept and forwarded
    cpo_partner_session_id: str | None = None
    emp_partner_session_id: str | None = None


@dataclass(frozen=True, slots=True)
class CdrReceipt:
    session: OicpSession
    cdr: StoredCdr


async def receive_cdr(
    uow: OicpUnitOfWorkFactory, operator: OicpPartner, incoming: IncomingCdr, now: datetime
) -> CdrReceipt:
    """Steps 1-2 of the module docstring; :func:`forward_cdr` does step 3."""
    if incoming.evse_operator != operator.canonical_id:
        raise ForeignEvse(f"EvseID {incoming.evse_id} is not of operator {operator.partner_id}")
    async with uow() as u:
        session = await u.oicp_sessions.get_for_update(incoming.session_id)
        if session is not None and session.state is SessionState.CLOSED:
            first = await u.oicp_cdrs.get(incoming.session_id)
            if first is not None and session.operator == operator.canonical_id:
                raise DuplicateCdr(_duplicate(first))
        session = sessions.check_owner(session, OicpRole.CPO, operator.canonical_id)
        cdr = StoredCdr(
            session_id=session.session_id,
            operator=session.operator,
            provider=session.provider,
            evse_id=incoming.evse_id,
            record=incoming.record,
            received_at=now,
            forwarded=False,
        )
        if not await u.oicp_cdrs.add(cdr):
            first = await u.oicp_cdrs.get(incoming.session_id)
            raise DuplicateCdr(_duplicate(first))
        sessions.merge_partner_sessions(
            session, incoming.cpo_partner_session_id, incoming.emp_partner_session_id
        )
        session.state = SessionState.CLOSED
        session.updated_at = now
        await u.oicp_sessions.save(session)
        await u.commit()
    return CdrReceipt(session, cdr)


def _duplicate(first: StoredCdr | None) -> str:
    when = f" at {first.received_at.isoformat(timespec='seconds')}" if first else ""
    return f"the hub already received the CDR of this session{when}: one CDR per session"


async def forward_cdr(
    uow: OicpUnitOfWorkFactory, receipt: CdrReceipt, forward: OicpForward
) -> bool:
    """Step 3: whether the session's EMP took the CDR (``Result`` true). Never raises
    for the partner's failures: the CPO's call succeeded once the CDR was stored."""
    session = receipt.session
    if session.provider is None:
        return False
    try:
        emp = await sessions.partner_of(uow, session.provider, OicpRole.EMP)
    except NoSuchPartner:
        return False
    if not emp.endpoint:
        return False
    try:
        answer = await forward(emp, session)
    except PartnerCallFailed as exc:
        log.warning("CDR of session %s not forwarded: %s", session.session_id, exc)
        return False
    if not answer.accepted:
        log.warning(
            "CDR of session %s refused by %s with %s",
            session.session_id,
            emp.partner_id,
            answer.code,
        )
        return False
    async with uow() as u:
        await u.oicp_cdrs.mark_forwarded(session.session_id)
        await u.commit()
    return True


async def get_cdrs(
    uow: OicpUnitOfWorkFactory, query: CdrQuery, offset: int, limit: int
) -> tuple[list[StoredCdr], int]:
    """One page of the provider's CDRs matching ``query`` and how many match."""
    if query.end < query.start:
        raise InvalidRequest("To is before From")
    if len(query.session_ids) > MAX_SESSION_IDS:
        raise InvalidRequest(f"at most {MAX_SESSION_IDS} SessionIDs per request")
    async with uow(read_only=True) as u:
        return await u.oicp_cdrs.query(query, offset, limit)
