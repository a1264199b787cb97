"""ChargingProfiles (OCPI 2.2.1 mod_charging_profiles, digest §5.7), both sides.

The module works like Commands (``services/commands.py``): each request is answered at
once (a ChargingProfileResponse), and later by a result POSTed to the caller's
``response_url``. It shares Commands' machinery: the request lifecycle on both sides
(``services/requests.py``: the ``response_url`` rule, storing before handing over or
calling, taking a result only from the partner asked) and the kept requests (``kind``
PROFILE), the result POST, the watchdog and the eMSP's expiry (``services/callbacks.py``).

CPO side, :meth:`ChargingProfilesService.receive` (GET ``?duration=&response_url=``,
PUT SetChargingProfile, DELETE ``?response_url=`` on ``{url}/{session_id}``), in this
order, and why:

1. ``response_url`` on a host and port the calling partner registered
   (:func:`~evroam.services.requests.check_response_url`): 2001, nothing stored.
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from evroam.core.backend import (
    ChargePointBackend,
    ChargingProfileResponseType,
    ChargingProfileResultType,
    ProfileRequest,
    ProfileRequestType,
)
from evroam.core.callbacks import (
    ReceivedState,
    Reply,
    RequestKind,
    SentRequest,
    UnknownRequest,
    party_label,
    party_of,
)
from evroam.core.errors import InvalidInput
from evroam.core.objects import Document, ObjectKey, StoredObject, dump_document
from evroam.core.ports import ChargingProfilesApi, UnitOfWork
from evroam.core.push import PushChange, PushMethod
from evroam.core.types import ModuleId, Partner, Role
from evroam.services.backend_reports import UnknownReportObject
from evroam.services.callbacks import Callbacks
from evroam.services.context import PartnerContext
from evroam.services.requests import PROFILES, Checked, KeptRequests, Party, own_session, party_in

log = logging.getLogger("evroam.chargingprofiles")

#: What the node POSTs itself when the chargers do not answer in time (see above).
TIMEOUT_RESULT = ChargingProfileResultType.UNKNOWN
#: Most kept requests of one session read to find who set a profile on it.
SETTERS_SCAN = 1000

Validator = Callable[[Document], Document]


@dataclass(frozen=True, slots=True)
class ProfileValidators:
    """The wire checks the service needs (from the 2.2.1 models; services import no
    protocol package): ``active`` an ActiveChargingProfile, ``result`` the result object
    of a request type (``(type, result, active profile or None) -> document``); both
    raise InvalidInput naming the bad field."""

    active: Validator
    result: Callable[[ProfileRequestType, str, Document | None], Document]


@dataclass(frozen=True, slots=True)
class ActiveProfile:
    """The latest ActiveChargingProfile a CPO PUT for a session, as the eMSP keeps it."""

    party: tuple[str, str]
    session_id: str
    document: Document
    received_at: datetime


class ChargingProfilesService(KeptRequests[ChargingProfilesApi]):
    """One per node: the CPO side needs ``backend`` (None: NOT_SUPPORTED), the eMSP side
    ``api`` and ``response_base`` (results arrive at ``{response_base}/{type}/{id}``)."""

    spec = PROFILES

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
        super().__init__(
            ctx,
            timeout=timeout,
            expire_after=expire_after,
            response_base=response_base,
            api=api,
            backend=backend,
            callbacks=callbacks,
        )
        self.validators = validators

    # ================================================================ CPO side

    async def receive(
        self,
        partner: Partner,
        request_type: ProfileRequestType,
        session_id: str,
        body: Document,
        addressed: Party | None = None,
    ) -> Reply:
        """A partner's GET/PUT/DELETE on one session. ``body``: the canonical request
        (``response_url``, with ``charging_profile`` for SET, ``duration`` for
        GET_ACTIVE); ``addressed``: the routing header TO, when sent."""
        # Another party's driver's session is REJECTED, not hidden: the spec names
        # exactly this case for REJECTED.
        stranger = Reply(
            ChargingProfileResponseType.REJECTED.value,
            0,
            f"session {session_id!r} is not one of your drivers'",
        )

        async def check(uow: UnitOfWork, parties: list[Party]) -> Checked:
            return await own_session(uow, partner, session_id, parties, stranger=stranger)

        async def hand_over(
            backend: ChargePointBackend, request_id: str, checked: Checked, now: datetime
        ) -> None:
            duration = body.get("duration")
            await backend.handle_profile(
                ProfileRequest(
                    id=request_id,
                    type=request_type,
                    party=checked.party,
                    session_id=checked.session_id or session_id,
                    received_at=now,
                    timeout_s=self.timeout,
                    profile=body.get("charging_profile"),
                    duration_s=int(duration) if duration is not None else None,
                )
            )

        return await self._receive(partner, request_type.value, body, addressed, check, hand_over)

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

    async def _find_session(self, session_id: str) -> tuple[Party, Document] | None:
        """The CPO party and document of a session a partner sent this node, by id:
        looked up under each CPO party of the registered partners."""
        async with self.ctx.uow(read_only=True) as uow:
            partners = await uow.partners.list()
            found: list[tuple[Party, Document]] = []
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

    def _sender_party(self, session: Document | None) -> Party:
        """The node's party the request is from: the session's token issuer when it is
        ours (the CPO checks exactly that), else the node's eMSP party."""
        token_party = party_in(session.get("cdr_token")) if session else None
        if token_party is not None and token_party in [p.key for p in self.ctx.own_parties]:
            return token_party
        return self._default_sender()

    async def send(
        self,
        request_type: ProfileRequestType,
        session_id: str,
        *,
        party: Party | None = None,
        profile: Document | None = None,
        duration: int | None = None,
    ) -> SentRequest:
        """Send a GET (``duration``), SET (``profile``, a checked ChargingProfile) or
        CLEAR for ``session_id`` to the CPO holding it (``party``, else the one whose
        session this node holds). The stored request, with the CPO's answer (or why
        there was none)."""
        api = self.api
        if api is None:
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
        fields: Document = {}
        if request_type == ProfileRequestType.SET:
            fields = {"charging_profile": profile}
        elif request_type == ProfileRequestType.GET_ACTIVE:
            fields = {"duration": duration}

        async def call(partner: Partner, body: Document) -> Reply:
            return await api.send(partner, request_type, session_id, body, sender, party)

        return await self._send(party, sender, request_type.value, fields, session_id, call)

    async def receive_result(
        self, partner: Partner, request_type: ProfileRequestType, request_id: str, doc: Document
    ) -> bool:
        """A result POSTed to one of the node's response URLs: only from the partner the
        request went to (UnknownRequest otherwise), stored once; whether it was."""
        return await self._take_result(
            partner, request_type.value, request_id, str(doc["result"]), doc
        )

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
                    document_json=dump_document(doc),
                    partner_id=partner.id,
                    shared=False,
                )
            )
            await uow.commit()

    # ================================================================ operator

    async def active_profile(
        self, session_id: str, party: Party | None = None
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
