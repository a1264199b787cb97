"""ChargingProfiles (OCPI 2.2.1 mod_charging_profiles, digest §5.7), both sides.

The module works like Commands (``services/commands.py``): each request is answered at
once (a ChargingProfileResponse), and later by a result POSTed to the caller's
``response_url``. It shares Commands' machinery (``services/callbacks.py``): the kept
requests (``kind`` PROFILE), the result POST through the outbox, the watchdog, the
eMSP's expiry, and the ``response_url`` rule.

CPO side, :meth:`ChargingProfilesService.receive` (GET ``?duration=&response_url=``,
PUT SetChargingProfile, DELETE ``?response_url=`` on ``{url}/{session_id}``), in this
order, and why:

1. ``response_url`` on a host and port the calling partner registered
   (:func:`~evroam.services.commands.check_response_url`): 2001, nothing stored.
2. No charge-point backend: NOT_SUPPORTED (nothing stored).
3. The session: one of the node's own (UNKNOWN_SESSION otherwise), whose token the
   caller's party issued. A session of another party's driver is REJECTED: the spec
   reserves profiles to the token's owner and names exactly this case for REJECTED
   ("Session might not be from a customer of the eMSP"). A finished session (COMPLETED,
   INVALID) is REJECTED too: a profile limits a charge that is going on.
4. The request is stored WAITING and committed before the backend gets it, which then
   takes it (``handle_profile``); ACCEPTED with the node's timeout. A backend that
   cannot take it: REJECTED (NOT_SUPPORTED where it says so) at once, REFUSED, nothing
   POSTed later.

Results, :meth:`report_result` (``BackendReports.profile_result``): the result object
of the request's type (ActiveChargingProfileResult, ChargingProfileResult,
ClearProfileResult) is recorded and its POST queued in one transaction.

**Timeout.** OCPI 2.2.1 gives ChargingProfiles no TIMEOUT result (ChargingProfileResultType
is ACCEPTED, REJECTED, UNKNOWN) and says only that an eMSP may assume a result that did not
come within ``timeout`` never will. The node still closes every request it accepted: when
the chargers say nothing in time, the watchdog POSTs ``UNKNOWN`` itself (the request is
kept as TIMEOUT; ``services/callbacks.py``). Of the three values it is the one that claims
nothing about the charger: ACCEPTED or REJECTED would tell the eMSP what the charger did,
which the node does not know. A result the chargers report after that is kept for the
operator and not sent (OCPI has no second result).

**Active profile pushes**, :meth:`active_profile_changed` (``BackendReports``): the
ActiveChargingProfile is PUT to ``{url}/{session_id}`` of the chargingprofiles Sender of
each eMSP party that once SET a profile on that session successfully (the spec forbids the
push to anyone else). The record of that is the kept requests themselves: a SET of that
party, for that session, answered ACCEPTED by the chargers (state DONE); a SET that timed
out does not count, as the eMSP was never told it succeeded.

eMSP side, :meth:`send`: the request is stored SENT with a fresh ``response_url``
(``{response_base}/{type}/{id}``) before the call, then the CPO's answer. The CPO is the
partner holding the session's CPO party: the one named, else the one whose session the
node holds under that id. :meth:`receive_result` takes the result only from that
partner, once; :meth:`receive_active` keeps the latest ActiveChargingProfile a CPO PUTs
for a session it was sent a SET for (the store's CHARGING_PROFILES object of that
session, never shared). Unanswered requests expire with the commands (the watchdog).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from evroam.core.backend import (
    BackendError,
    ChargePointBackend,
    ChargingProfileResponseType,
    ChargingProfileResultType,
    ProfileRequest,
    ProfileRequestType,
)
from evroam.core.callbacks import (
    ReceivedRequest,
    ReceivedState,
    Reply,
    RequestKind,
    SentRequest,
    SentState,
    UnknownRequest,
    party_label,
    party_of,
)
from evroam.core.errors import DomainError, InvalidInput, NotRegistered
from evroam.core.objects import Document, ObjectKey, StoredObject
from evroam.core.ports import UnitOfWork
from evroam.core.push import PushChange, PushMethod
from evroam.core.types import InterfaceRole, ModuleId, Partner, Role
from evroam.services.backend_reports import UnknownReportObject
from evroam.services.callbacks import Callbacks
from evroam.services.commands import FINISHED, check_response_url
from evroam.services.context import PartnerContext

log = logging.getLogger("evroam.chargingprofiles")

#: What the node POSTs itself when the chargers do not answer in time (see above).
TIMEOUT_RESULT = ChargingProfileResultType.UNKNOWN
#: Most kept requests of one session read to find who set a profile on it.
SETTERS_SCAN = 1000

Validator = Callable[[Document], Document]


class ChargingProfilesApi(Protocol):
    """The outbound calls of the eMSP side (``ocpi/v2_2_1/chargingprofiles/client.py``):
    GET/PUT/DELETE ``{url}/{session_id}`` on the CPO's Receiver, its answer as a
    :class:`Reply` (DomainError when there was no usable answer)."""

    async def send(
        self,
        partner: Partner,
        request_type: ProfileRequestType,
        session_id: str,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply: ...


@dataclass(frozen=True, slots=True)
class ProfileValidators:
    """The wire checks the service needs (from the 2.2.1 models; services import no
    protocol package): ``active`` an ActiveChargingProfile, ``result`` the result object
    of a request type (``(type, result, active profile or None) -> document``); both
    raise InvalidInput naming the bad field."""

    active: Validator
    result: Callable[[ProfileRequestType, str, Document | None], Document]


def _party(doc: Any) -> tuple[str, str] | None:
    if not isinstance(doc, dict) or not doc.get("country_code") or not doc.get("party_id"):
        return None
    return (str(doc["country_code"]).upper(), str(doc["party_id"]).upper())


def _is_hub(partner: Partner) -> bool:
    return any(r.role == Role.HUB for r in partner.roles)


@dataclass(frozen=True, slots=True)
class ActiveProfile:
    """The latest ActiveChargingProfile a CPO PUT for a session, as the eMSP keeps it."""

    party: tuple[str, str]
    session_id: str
    document: Document
    received_at: datetime


class _Refusal(Exception):
    def __init__(self, result: ChargingProfileResponseType, message: str) -> None:
        super().__init__(message)
        self.reply = Reply(result.value, 0, message)


class ChargingProfilesService:
    """One per node: the CPO side needs ``backend`` (None: NOT_SUPPORTED), the eMSP side
    ``api`` and ``response_base`` (results arrive at ``{response_base}/{type}/{id}``)."""

    def __init__(
        self,
        ctx: PartnerContext,
        validators: ProfileValidators,
        *,
        timeout: int,
        expire_after: int,
        response_base: str,
        api: ChargingProfilesApi | None = None,
        backend: ChargePointBackend | None = None,
        callbacks: Callbacks | None = None,
    ) -> None:
        self.ctx = ctx
        self.validators = validators
        self.timeout = timeout
        self.expire_after = expire_after
        self.response_base = response_base.rstrip("/")
        self.api = api
        self.backend = backend
        self.callbacks = callbacks or Callbacks(ctx)

    # ================================================================ CPO side

    def _cpo_parties(self, addressed: tuple[str, str] | None) -> list[tuple[str, str]]:
        ours = [p.key for p in self.ctx.own_parties if p.role == Role.CPO]
        if addressed is not None and addressed in ours:
            return [addressed, *(p for p in ours if p != addressed)]
        return ours

    async def receive(
        self,
        partner: Partner,
        request_type: ProfileRequestType,
        session_id: str,
        body: Document,
        addressed: tuple[str, str] | None = None,
    ) -> Reply:
        """A partner's GET/PUT/DELETE on one session. ``body``: the canonical request
        (``response_url``, with ``charging_profile`` for SET, ``duration`` for
        GET_ACTIVE); ``addressed``: the routing header TO, when sent."""
        check_response_url(partner, str(body.get("response_url", "")))
        if self.backend is None:
            return Reply(
                ChargingProfileResponseType.NOT_SUPPORTED.value, 0, "this CPO runs no charge points"
            )
        parties = self._cpo_parties(addressed)
        if not parties:
            return Reply(ChargingProfileResponseType.NOT_SUPPORTED.value, 0, "this node is no CPO")
        now = self.ctx.now()
        request_id = str(uuid.uuid4())
        async with self.ctx.uow() as uow:
            try:
                party, requester, stored_id = await self._check_session(
                    uow, partner, session_id, parties
                )
            except _Refusal as refusal:
                log.info(
                    "charging profile %s from %s refused: %s",
                    request_type.value,
                    partner.label,
                    refusal,
                )
                return refusal.reply
            await uow.received_requests.add(
                ReceivedRequest(
                    id=request_id,
                    kind=RequestKind.PROFILE,
                    type=request_type.value,
                    partner_id=partner.id,
                    party=party_label(party),
                    requester=party_label(requester),
                    body=body,
                    response_url=str(body["response_url"]),
                    state=ReceivedState.WAITING,
                    timeout_at=now + timedelta(seconds=self.timeout),
                    created_at=now,
                    session_id=stored_id,
                )
            )
            await uow.commit()
        duration = body.get("duration")
        request = ProfileRequest(
            id=request_id,
            type=request_type,
            party=party,
            session_id=stored_id,
            received_at=now,
            timeout_s=self.timeout,
            profile=body.get("charging_profile"),
            duration_s=int(duration) if duration is not None else None,
        )
        try:
            await self.backend.handle_profile(request)
        except Exception as exc:
            not_supported = isinstance(exc, BackendError) and exc.not_supported
            if not isinstance(exc, BackendError):
                log.exception("backend failed to take charging profile request %s", request_id)
            result = (
                ChargingProfileResponseType.NOT_SUPPORTED
                if not_supported
                else ChargingProfileResponseType.REJECTED
            )
            message = str(exc) if isinstance(exc, BackendError) else "the charge point is away"
            if await self.callbacks.refuse(request_id, result.value, message):
                return Reply(result.value, 0, message)
        return Reply(ChargingProfileResponseType.ACCEPTED.value, self.timeout)

    async def _check_session(
        self, uow: UnitOfWork, partner: Partner, session_id: str, parties: list[tuple[str, str]]
    ) -> tuple[tuple[str, str], tuple[str, str], str]:
        """(the CPO party holding it, the eMSP party whose driver it is, its id as
        stored) of one of the node's running sessions the caller may set profiles on."""
        for party in parties:
            stored = await uow.objects.get(ModuleId.SESSIONS, ObjectKey(*party, session_id))
            if stored is None or stored.partner_id is not None:
                continue
            session = json.loads(stored.document_json)
            owner = _party(session.get("cdr_token"))
            if owner is None or (owner not in partner.party_keys and not _is_hub(partner)):
                raise _Refusal(
                    ChargingProfileResponseType.REJECTED,
                    f"session {session_id!r} is not one of your drivers'",
                )
            if session.get("status") in FINISHED:
                raise _Refusal(
                    ChargingProfileResponseType.REJECTED, f"session {session_id!r} is over"
                )
            return party, owner, str(session.get("id") or session_id)
        raise _Refusal(
            ChargingProfileResponseType.UNKNOWN_SESSION, f"unknown session {session_id!r}"
        )

    async def report_result(
        self,
        request_id: str,
        result: ChargingProfileResultType,
        active_profile: Document | None = None,
    ) -> None:
        """The chargers' result of a request (``BackendReports.profile_result``): its
        result object POSTed to ``response_url`` through the outbox; after the timeout
        kept, not sent; a second one ignored. UnknownRequest for an id the node never
        accepted; InvalidInput for a profile that is not an ActiveChargingProfile."""
        result = ChargingProfileResultType(result)
        async with self.ctx.uow(read_only=True) as uow:
            request = await uow.received_requests.get(request_id)
        if request is None or request.kind != RequestKind.PROFILE:
            raise UnknownRequest(f"unknown charging profile request {request_id!r}")
        request_type = ProfileRequestType(request.type)
        body = self.validators.result(request_type, result.value, active_profile)
        await self.callbacks.answer(request_id, result.value, body)

    async def active_profile_changed(
        self, party: tuple[str, str], session_id: str, active_profile: Document
    ) -> None:
        """The chargers' active profile of a session changed
        (``BackendReports.active_profile_changed``): PUT to every eMSP party that once set
        a profile on it successfully. UnknownReportObject for a session the
        node does not hold; InvalidInput for a bad ActiveChargingProfile."""
        doc = self.validators.active(active_profile)
        party = (party[0].upper(), party[1].upper())
        async with self.ctx.uow() as uow:
            stored = await uow.objects.get(ModuleId.SESSIONS, ObjectKey(*party, session_id))
            if stored is None or stored.partner_id is not None:
                raise UnknownReportObject(
                    f"no session {session_id!r} of {party_label(party)} on this node"
                )
            sid = str(json.loads(stored.document_json).get("id") or session_id)
            kept = await uow.received_requests.search(
                kind=RequestKind.PROFILE,
                states=[ReceivedState.DONE],
                session_id=sid,
                limit=SETTERS_SCAN,
            )
            setters = sorted(
                {
                    r.requester
                    for r in kept
                    if r.type == ProfileRequestType.SET.value
                    and r.result == ChargingProfileResultType.ACCEPTED.value
                    and r.party == party_label(party)
                }
            )
            if not setters:
                log.info("session %s: active profile changed; no eMSP set one, nothing sent", sid)
                return
            changes = [
                PushChange(
                    ModuleId.CHARGING_PROFILES,
                    ObjectKey(*party, sid),
                    PushMethod.PUT,
                    (sid,),
                    doc,
                    audience=party_of(requester),
                )
                for requester in setters
            ]
            if self.ctx.outbox is None:
                log.warning("no push outbox: the active profile of %s is not sent", sid)
                return
            await self.ctx.outbox.enqueue(uow, changes)
            await uow.commit()
        self.ctx.outbox.wake()

    # ================================================================ eMSP side

    async def _find_session(self, session_id: str) -> tuple[tuple[str, str], Document] | None:
        """The CPO party and document of a session a partner sent this node, by id:
        looked up under each CPO party of the registered partners."""
        async with self.ctx.uow(read_only=True) as uow:
            partners = await uow.partners.list()
            found: list[tuple[tuple[str, str], Document]] = []
            for partner in partners:
                for role in partner.roles:
                    if role.role not in (Role.CPO, Role.HUB):
                        continue
                    stored = await uow.objects.get(
                        ModuleId.SESSIONS, ObjectKey(*role.key, session_id)
                    )
                    if stored is not None and stored.partner_id == partner.id:
                        found.append((role.key, json.loads(stored.document_json)))
        if len(found) > 1:
            parties = ", ".join(party_label(p) for p, _ in found)
            raise InvalidInput(f"session {session_id!r} is held by {parties}: name the party")
        return found[0] if found else None

    def _sender_party(self, session: Document | None) -> tuple[str, str]:
        """The node's party the request is from: the session's token issuer when it is
        ours (the CPO checks exactly that), else the node's eMSP party."""
        ours = [p.key for p in self.ctx.own_parties]
        token_party = _party(session.get("cdr_token")) if session else None
        if token_party is not None and token_party in ours:
            return token_party
        for p in self.ctx.own_parties:
            if p.role == Role.EMSP:
                return p.key
        if not ours:
            raise InvalidInput("this node has no party to send charging profiles as")
        return ours[0]

    async def send(
        self,
        request_type: ProfileRequestType,
        session_id: str,
        *,
        party: tuple[str, str] | None = None,
        profile: Document | None = None,
        duration: int | None = None,
    ) -> SentRequest:
        """Send a GET (``duration``), SET (``profile``, a checked ChargingProfile) or
        CLEAR for ``session_id`` to the CPO holding it (``party``, else the one whose
        session this node holds). The stored request, with the CPO's answer (or why
        there was none)."""
        if self.api is None:
            raise InvalidInput("this node cannot send charging profiles")
        if request_type == ProfileRequestType.SET and profile is None:
            raise InvalidInput("charging_profile: required to set a profile")
        if request_type == ProfileRequestType.GET_ACTIVE and duration is None:
            raise InvalidInput("duration: required to ask for the active profile")
        session: Document | None = None
        found = await self._find_session(session_id)
        if party is None:
            if found is None:
                raise InvalidInput(
                    f"no partner sent this node a session {session_id!r}: name the CPO party"
                )
            party = found[0]
        party = (party[0].upper(), party[1].upper())
        if found is not None and found[0] == party:
            session = found[1]
            session_id = str(session.get("id") or session_id)
        sender = self._sender_party(session)
        async with self.ctx.uow(read_only=True) as uow:
            partner = await uow.partners.find_by_party(*party)
        if partner is None:
            raise InvalidInput(f"no partner holds {party_label(party)}")
        if not partner.registered or not partner.token_out:
            raise NotRegistered(f"partner {party_label(party)} is not registered")
        endpoint = partner.endpoint(ModuleId.CHARGING_PROFILES.value, InterfaceRole.RECEIVER)
        if endpoint is None or endpoint.role != InterfaceRole.RECEIVER:
            raise InvalidInput(f"partner {party_label(party)} offers no chargingprofiles Receiver")
        request_id = str(uuid.uuid4())
        response_url = f"{self.response_base}/{request_type.value}/{request_id}"
        body: Document = {"response_url": response_url}
        if request_type == ProfileRequestType.SET:
            body = {"charging_profile": profile, "response_url": response_url}
        elif request_type == ProfileRequestType.GET_ACTIVE:
            body = {"duration": duration, "response_url": response_url}
        now = self.ctx.now()
        async with self.ctx.uow() as uow:
            await uow.sent_requests.add(
                SentRequest(
                    id=request_id,
                    kind=RequestKind.PROFILE,
                    type=request_type.value,
                    partner_id=partner.id,
                    party=party_label(party),
                    sender=party_label(sender),
                    body=body,
                    response_url=response_url,
                    state=SentState.SENT,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.timeout + self.expire_after),
                    session_id=session_id,
                )
            )
            await uow.commit()
        try:
            reply = await self.api.send(partner, request_type, session_id, body, sender, party)
        except DomainError as exc:
            log.warning(
                "charging profile %s to %s failed: %s", request_type.value, party_label(party), exc
            )
            async with self.ctx.uow() as uow:
                await uow.sent_requests.record_failure(request_id, str(exc), self.ctx.now())
                await uow.commit()
        else:
            at = self.ctx.now()
            waits = reply.timeout if reply.timeout is not None else self.timeout
            message = reply.message
            if reply.status_code != 1000:
                message = f"OCPI {reply.status_code}" + (f": {message}" if message else "")
            async with self.ctx.uow() as uow:
                await uow.sent_requests.record_response(
                    request_id,
                    reply.result,
                    reply.timeout,
                    message,
                    at + timedelta(seconds=waits + self.expire_after),
                    at,
                )
                await uow.commit()
        sent = await self.get(request_id)
        assert isinstance(sent, SentRequest)
        return sent

    async def receive_result(
        self, partner: Partner, request_type: ProfileRequestType, request_id: str, doc: Document
    ) -> bool:
        """A result POSTed to one of the node's response URLs: only from the partner the
        request went to (UnknownRequest otherwise), stored once; whether it was."""
        async with self.ctx.uow() as uow:
            request = await uow.sent_requests.get(request_id)
            if (
                request is None
                or request.kind != RequestKind.PROFILE
                or request.type != request_type.value
                or request.partner_id != partner.id
            ):
                raise UnknownRequest(f"unknown charging profile request {request_id!r}")
            stored = await uow.sent_requests.record_result(
                request_id, str(doc["result"]), doc, self.ctx.now()
            )
            await uow.commit()
        if not stored:
            log.info("charging profile request %s: a second result ignored", request_id)
        return stored

    async def receive_active(self, partner: Partner, session_id: str, doc: Document) -> None:
        """An ActiveChargingProfile a CPO PUT for ``session_id``: kept (the latest wins)
        when this node sent that partner a SET for the session; UnknownRequest
        otherwise (a CPO pushes only where the eMSP set a profile)."""
        async with self.ctx.uow() as uow:
            sent = await uow.sent_requests.search(
                kind=RequestKind.PROFILE, session_id=session_id, limit=SETTERS_SCAN
            )
            sets = [
                r
                for r in sent
                if r.partner_id == partner.id and r.type == ProfileRequestType.SET.value
            ]
            if not sets:
                raise UnknownRequest(f"no charging profile was set on session {session_id!r}")
            now = self.ctx.now()
            await uow.objects.put(
                StoredObject(
                    module=ModuleId.CHARGING_PROFILES,
                    key=ObjectKey(*party_of(sets[0].party), session_id),
                    last_updated=now,
                    document_json=json.dumps(doc, separators=(",", ":"), ensure_ascii=False),
                    partner_id=partner.id,
                    shared=False,
                )
            )
            await uow.commit()

    # ================================================================ operator

    async def active_profile(
        self, session_id: str, party: tuple[str, str] | None = None
    ) -> ActiveProfile | None:
        """The latest ActiveChargingProfile a CPO PUT for the session (None: none yet);
        the CPO party is the one the node last sent a request for it, unless named."""
        if party is None:
            async with self.ctx.uow(read_only=True) as uow:
                sent = await uow.sent_requests.search(
                    kind=RequestKind.PROFILE, session_id=session_id, limit=1
                )
            if not sent:
                return None
            party = party_of(sent[0].party)
        async with self.ctx.uow(read_only=True) as uow:
            stored = await uow.objects.get(
                ModuleId.CHARGING_PROFILES, ObjectKey(*party, session_id)
            )
        if stored is None or stored.partner_id is None:
            return None
        return ActiveProfile(
            party, session_id, json.loads(stored.document_json), stored.last_updated
        )

    async def get(self, request_id: str) -> ReceivedRequest | SentRequest | None:
        """A charging profile request the node sent or received, by id."""
        async with self.ctx.uow(read_only=True) as uow:
            sent = await uow.sent_requests.get(request_id)
            if sent is not None and sent.kind == RequestKind.PROFILE:
                return sent
            received = await uow.received_requests.get(request_id)
            if received is not None and received.kind == RequestKind.PROFILE:
                return received
        return None

    async def list_sent(
        self, states: list[SentState], limit: int, session_id: str | None = None
    ) -> list[SentRequest]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.sent_requests.search(
                kind=RequestKind.PROFILE, states=states, session_id=session_id, limit=limit
            )

    async def list_received(
        self, states: list[ReceivedState], limit: int, session_id: str | None = None
    ) -> list[ReceivedRequest]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.received_requests.search(
                kind=RequestKind.PROFILE, states=states, session_id=session_id, limit=limit
            )
