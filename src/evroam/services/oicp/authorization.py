"""AuthorizeStart and AuthorizeStop from CPOs (digest §1.3 rows 1-2, "Hub processing
of AuthorizeStart"; §3).

AuthorizeStart, in this order:

1. an EvseID, when given, belongs to the calling operator (018);
2. a session with a new SessionID is stored (pending);
3. **offline**: the medium is looked up in the authentication data EMPs pushed
   (``authdata.offline_match``; a QR code's PIN checked against its hash). A match
   authorizes for that EMP; a known medium with a wrong PIN is refused there (the EMP
   said which PIN is right);
4. else, when the medium names its EMP (an EvcoID: QR code, Plug&Charge), the request
   goes to that EMP alone if it is online (has an endpoint), with the hub's SessionID;
   an EMP the hub does not know → 300;
5. else (an RFID UID) it goes to every online EMP at once; the first that authorizes
   (in partner order) wins, one that does not answer counts as not authorizing;
6. authorized: the session is settled (its EMP, how it was authorized, the medium's key
   for the stop) in a transaction that re-reads it; not authorized: it is deleted.

AuthorizeStop: the session must be the hub's and the calling operator's (400); one
authorized offline stops only with the same medium (and PIN); any other is asked of the
session's EMP, which must be online (300 otherwise).

The calls go through ``forward`` (``core.ports.OicpForward``): the edge builds the
message from the session and parses the answer; this module decides whom to ask.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from evroam.core.oicp import ForeignEvse, OicpPartner, OicpRole
from evroam.core.oicp_sessions import (
    AuthorizationMethod,
    CallFailure,
    Medium,
    NoSuchPartner,
    OicpSession,
    PartnerAnswer,
    PartnerCallFailed,
    SessionState,
)
from evroam.core.ports import OicpForward, OicpUnitOfWorkFactory
from evroam.services.oicp import sessions
from evroam.services.oicp.authdata import hash_pin, offline_match, pin_matches

log = logging.getLogger("evroam.oicp")


class Failure(StrEnum):
    """Why an authorization was refused (the edge picks the code for the medium)."""

    UNKNOWN_MEDIUM = "unknown medium"  # nobody authorized it
    WRONG_PIN = "wrong PIN"
    OTHER_MEDIUM = "other medium"  # an offline session stopped with another medium
    NO_PARTNER = "no partner"  # the EMP is unknown or cannot be called (300)
    NO_ANSWER = "no answer"  # the one EMP asked did not answer (310)
    NOT_OICP = "not OICP"  # its answer was not an authorization (320)
    REFUSED = "refused"  # the EMP said NotAuthorized: its answer is relayed


@dataclass(frozen=True, slots=True)
class Outcome:
    """``session`` when authorized; ``answer`` the EMP's, when one was asked and
    answered; ``failure`` why not."""

    session: OicpSession | None
    failure: Failure | None = None
    answer: PartnerAnswer | None = None
    detail: str | None = None

    @property
    def authorized(self) -> bool:
        return self.failure is None


def _call_failure(exc: PartnerCallFailed) -> Failure:
    return Failure.NO_ANSWER if exc.failure is CallFailure.NO_ANSWER else Failure.NOT_OICP


async def _ask(forward: OicpForward, emp: OicpPartner, session: OicpSession) -> PartnerAnswer:
    try:
        return await forward(emp, session)
    except PartnerCallFailed as exc:
        log.info("authorize start %s: %s", session.session_id, exc)
        raise


async def _broadcast(
    uow: OicpUnitOfWorkFactory, forward: OicpForward, session: OicpSession
) -> tuple[OicpPartner, PartnerAnswer] | None:
    """Step 5: every online EMP at once; the first (in partner order) that authorizes."""
    async with uow(read_only=True) as u:
        emps = [p for p in await u.oicp_partners.list() if p.holds(OicpRole.EMP) and p.endpoint]
    answers = await asyncio.gather(
        *(_ask(forward, emp, session) for emp in emps), return_exceptions=True
    )
    for emp, answer in zip(emps, answers, strict=True):
        if isinstance(answer, PartnerAnswer) and answer.accepted:
            return emp, answer
        if isinstance(answer, BaseException) and not isinstance(answer, PartnerCallFailed):
            raise answer
    return None


async def authorize_start(
    uow: OicpUnitOfWorkFactory,
    operator: OicpPartner,
    medium: Medium,
    evse: tuple[str, str] | None,
    forward: OicpForward,
    now: datetime,
    *,
    cpo_partner_session_id: str | None = None,
) -> Outcome:
    """``evse``: (EvseID as sent, canonical OperatorID it belongs to), when given."""
    if evse is not None and evse[1] != operator.canonical_id:
        raise ForeignEvse(f"EvseID {evse[0]} is not of operator {operator.partner_id}")
    session = OicpSession(
        session_id=sessions.new_session_id(),
        operator=operator.canonical_id,
        operator_id=operator.partner_id,
        method=AuthorizationMethod.OFFLINE,
        state=SessionState.PENDING,
        created_at=now,
        updated_at=now,
        evse_id=evse[0] if evse else None,
        identification=medium.wire,
        medium_key=medium.key,
        cpo_partner_session_id=cpo_partner_session_id,
    )
    await sessions.store_new(uow, session)
    try:
        outcome = await _decide(uow, session, medium, forward)
    except BaseException:
        await sessions.drop(uow, session.session_id)
        raise
    if outcome.failure is not None:
        await sessions.drop(uow, session.session_id)
        return outcome
    assert outcome.session is not None
    settled = outcome.session
    pin_hash = (
        await asyncio.to_thread(hash_pin, medium.pin)
        if medium.pin is not None and settled.method is AuthorizationMethod.OFFLINE
        else None
    )
    try:
        done = await sessions.settle(
            uow,
            session.session_id,
            SessionState.ACTIVE,
            now,
            outcome.answer,
            method=settled.method,
            provider=settled.provider,
            provider_id=settled.provider_id,
            pin_hash=pin_hash,
        )
    except BaseException:
        await sessions.drop(uow, session.session_id)
        raise
    return Outcome(done, None, outcome.answer)


def _with(session: OicpSession, method: AuthorizationMethod, emp: OicpPartner) -> OicpSession:
    return replace(session, method=method, provider=emp.canonical_id, provider_id=emp.partner_id)


async def _decide(
    uow: OicpUnitOfWorkFactory, session: OicpSession, medium: Medium, forward: OicpForward
) -> Outcome:
    """Steps 3-5 of the module docstring."""
    record, known = await offline_match(uow, medium)
    if record is not None:
        try:
            emp = await sessions.partner_of(uow, record.provider, OicpRole.EMP)
        except NoSuchPartner:
            emp = None
        if emp is not None:
            return Outcome(_with(session, AuthorizationMethod.OFFLINE, emp))
    if known and medium.pin is not None:
        return Outcome(None, Failure.WRONG_PIN)
    if medium.provider is not None:
        try:
            emp = await sessions.partner_of(uow, medium.provider, OicpRole.EMP)
        except NoSuchPartner as exc:
            return Outcome(None, Failure.NO_PARTNER, detail=str(exc))
        if not emp.endpoint:
            return Outcome(None, Failure.UNKNOWN_MEDIUM)
        try:
            answer = await _ask(forward, emp, session)
        except PartnerCallFailed as exc:
            return Outcome(None, _call_failure(exc), detail=emp.partner_id)
        if not answer.accepted:
            return Outcome(None, Failure.REFUSED, answer)
        return Outcome(_with(session, AuthorizationMethod.ONLINE, emp), None, answer)
    found = await _broadcast(uow, forward, session)
    if found is None:
        return Outcome(None, Failure.UNKNOWN_MEDIUM)
    emp, answer = found
    return Outcome(_with(session, AuthorizationMethod.ONLINE, emp), None, answer)


async def authorize_stop(
    uow: OicpUnitOfWorkFactory,
    operator: OicpPartner,
    session_id: str,
    medium: Medium,
    forward: OicpForward,
    now: datetime,
    *,
    cpo_partner_session_id: str | None = None,
) -> Outcome:
    """Stop ``session_id`` for ``operator`` with ``medium`` (module docstring)."""
    session = await sessions.owned(uow, session_id, OicpRole.CPO, operator.canonical_id)
    sessions.merge_partner_sessions(session, cpo=cpo_partner_session_id)
    answer: PartnerAnswer | None = None
    if session.method is AuthorizationMethod.OFFLINE:
        if medium.key != session.medium_key:
            return Outcome(session, Failure.OTHER_MEDIUM)
        if session.pin_hash is not None and not (
            medium.pin is not None
            and await asyncio.to_thread(pin_matches, medium.pin, session.pin_hash)
        ):
            return Outcome(session, Failure.WRONG_PIN)
    else:
        if session.provider is None:
            return Outcome(session, Failure.NO_PARTNER)
        try:
            emp = await sessions.partner_of(uow, session.provider, OicpRole.EMP)
        except NoSuchPartner as exc:
            return Outcome(session, Failure.NO_PARTNER, detail=str(exc))
        if not emp.endpoint:
            return Outcome(session, Failure.NO_PARTNER, detail=f"{emp.partner_id} is offline")
        try:
            answer = await forward(emp, session)
        except PartnerCallFailed as exc:
            return Outcome(session, _call_failure(exc), detail=emp.partner_id)
        if not answer.accepted:
            return Outcome(session, Failure.REFUSED, answer)
    done = await sessions.settle(
        uow,
        session_id,
        SessionState.STOPPED,
        now,
        answer,
        cpo_partner_session_id=session.cpo_partner_session_id,
    )
    return Outcome(done, None, answer)
