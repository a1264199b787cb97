"""AuthorizeRemoteStart/Stop and AuthorizeRemoteReservationStart/Stop from EMPs (digest
§1.3 rows 3-4 and 8-9): the hub checks, makes the session, forwards to the CPO and
relays the CPO's acknowledgement.

Start (charging or reservation), in this order:

1. the operator is derived from the EvseID (its prefix); not a CPO partner of the hub
   → 300;
2. if that operator pushed EVSE data, the EVSE must be among it (603) and Hubject
   compatible (604); an operator that pushed none is not checked (digest §1.3);
3. the CPO must be callable (an endpoint), else 300;
4. a session with a new SessionID is stored (the EMP's own SessionID, which it should
   not send, is not used: the hub makes SessionIDs), then the request is forwarded to
   the CPO with it;
5. the CPO accepts: the session becomes active, with the CPO's partner session ID; it
   refuses or does not answer (310) or gives no OICP answer (320): the session is
   deleted and the EMP told why.

Stop: the session must be the hub's and the calling EMP's, and the EvseID of its
operator (400 otherwise); a reservation stop needs a reservation session. It is
forwarded to the session's CPO; the CPO's acknowledgement is relayed and, if positive,
the session marked stopped. After a reservation stop the CPO sends a CDR (row 9), so the
session stays open for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from evroam.core.oicp import OicpPartner, OicpRole
from evroam.core.oicp_sessions import (
    AuthorizationMethod,
    EvseNotCompatible,
    Medium,
    NoSuchPartner,
    OicpSession,
    PartnerAnswer,
    PartnerCallFailed,
    SessionState,
    UnknownEvse,
    UnknownSession,
)
from evroam.core.ports import OicpForward, OicpUnitOfWorkFactory
from evroam.services.oicp import sessions

log = logging.getLogger("evroam.oicp")


@dataclass(frozen=True, slots=True)
class RemoteStart:
    """A remote start or reservation start: the EvseID as sent, its canonical form and
    its operator's canonical ID, the remote identification."""

    evse_id: str
    canonical_evse_id: str
    operator: str
    medium: Medium
    reservation: bool = False
    emp_partner_session_id: str | None = None
    cpo_partner_session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Forwarded:
    """The CPO's answer (``answer``) or why there is none (``failure``)."""

    session: OicpSession
    answer: PartnerAnswer | None = None
    failure: PartnerCallFailed | None = None

    @property
    def accepted(self) -> bool:
        return self.answer is not None and self.answer.accepted


async def _callable_cpo(uow: OicpUnitOfWorkFactory, operator: str) -> OicpPartner:
    cpo = await sessions.partner_of(uow, operator, OicpRole.CPO)
    if not cpo.endpoint:
        raise NoSuchPartner(f"operator {cpo.partner_id} cannot be called by the hub")
    return cpo


async def _check_evse(uow: OicpUnitOfWorkFactory, start: RemoteStart) -> None:
    """Step 2 of the module docstring."""
    async with uow(read_only=True) as u:
        data = u.oicp_evse_data
        if not await data.has_evse_data(start.operator):
            return
        compatible = await data.hubject_compatible(start.operator, start.canonical_evse_id)
    if compatible is None:
        raise UnknownEvse(f"operator has no EVSE {start.evse_id}")
    if not compatible:
        raise EvseNotCompatible(f"EVSE {start.evse_id} is not Hubject compatible")


async def remote_start(
    uow: OicpUnitOfWorkFactory,
    provider: OicpPartner,
    start: RemoteStart,
    forward: OicpForward,
    now: datetime,
) -> Forwarded:
    """Steps 1-5 of the module docstring for ``provider`` (the caller, as EMP)."""
    await sessions.partner_of(uow, start.operator, OicpRole.CPO)
    await _check_evse(uow, start)
    cpo = await _callable_cpo(uow, start.operator)
    session = OicpSession(
        session_id=sessions.new_session_id(),
        operator=cpo.canonical_id,
        operator_id=cpo.partner_id,
        method=AuthorizationMethod.RESERVATION if start.reservation else AuthorizationMethod.REMOTE,
        state=SessionState.PENDING,
        created_at=now,
        updated_at=now,
        evse_id=start.evse_id,
        provider=provider.canonical_id,
        provider_id=provider.partner_id,
        identification=start.medium.wire,
        medium_key=start.medium.key,
        cpo_partner_session_id=start.cpo_partner_session_id,
        emp_partner_session_id=start.emp_partner_session_id,
    )
    await sessions.store_new(uow, session)
    try:
        answer = await forward(cpo, session)
    except PartnerCallFailed as exc:
        log.info("remote start %s: %s", session.session_id, exc)
        await sessions.drop(uow, session.session_id)
        return Forwarded(session, None, exc)
    except BaseException:
        await sessions.drop(uow, session.session_id)
        raise
    if not answer.accepted:
        await sessions.drop(uow, session.session_id)
        return Forwarded(session, answer)
    try:
        done = await sessions.settle(uow, session.session_id, SessionState.ACTIVE, now, answer)
    except UnknownSession:
        # Ended (its CDR came, or a stop and CDR) before the CPO's answer was read.
        done = session
    return Forwarded(done, answer)


async def remote_stop(
    uow: OicpUnitOfWorkFactory,
    provider: OicpPartner,
    session_id: str,
    evse_operator: str,
    forward: OicpForward,
    now: datetime,
    *,
    reservation: bool = False,
    emp_partner_session_id: str | None = None,
) -> Forwarded:
    """Stop rules of the module docstring."""
    session = await sessions.owned(uow, session_id, OicpRole.EMP, provider.canonical_id)
    if session.operator != evse_operator:
        raise UnknownSession("the EvseID is not of the session's operator")
    if reservation and session.method is not AuthorizationMethod.RESERVATION:
        raise UnknownSession("the session is not a reservation")
    sessions.merge_partner_sessions(session, emp=emp_partner_session_id)
    cpo = await _callable_cpo(uow, session.operator)
    try:
        answer = await forward(cpo, session)
    except PartnerCallFailed as exc:
        log.info("remote stop %s: %s", session.session_id, exc)
        return Forwarded(session, None, exc)
    if not answer.accepted:
        return Forwarded(session, answer)
    try:
        done = await sessions.settle(
            uow,
            session_id,
            SessionState.STOPPED,
            now,
            answer,
            emp_partner_session_id=session.emp_partner_session_id,
        )
    except UnknownSession:
        done = session
    return Forwarded(done, answer)
