"""The lifecycle of a request answered at once and later by a POST to ``response_url``,
written once for Commands (``services/commands.py``) and ChargingProfiles
(``services/chargingprofiles.py``); the watchdog and the result POST are
``services/callbacks.py``.

What differs between the two is what a request names and how the chargers take it;
the rest is the same sequence, and keeping one copy of it keeps the two modules from
drifting apart on the points that matter (the order of storing and calling, which
partner a result is taken from):

CPO side, :meth:`KeptRequests._receive`:

0. The caller must hold a role that sends the kind (an eMSP or a hub for commands; an
   eMSP, SCSP or hub for charging profiles): a CPO partner cannot start sessions at
   another CPO's chargers with a token it made up. 2001, nothing stored.
1. ``response_url`` must be an http(s) URL on a host and port the calling partner
   registered (:func:`check_response_url`): the node will POST there later and must
   never be made to call an address the partner did not register. 2001, nothing stored.
2. No charge-point backend, or no CPO party: NOT_SUPPORTED, nothing stored.
3. The kind's checks against the node's own data (a :class:`Refusal` answers at once).
4. The request is stored WAITING and committed BEFORE the backend gets it: a backend
   that answers at once finds it.
5. The backend takes it: ACCEPTED with the node's timeout. A backend that cannot:
   REJECTED (NOT_SUPPORTED where it says so) at once, the request REFUSED, nothing
   POSTed later (a result follows only an ACCEPTED response).

eMSP side, :meth:`KeptRequests._send`: the request is stored SENT with a fresh
``response_url`` (``{response_base}/{type}/{id}``, unique per request) before the call,
so a result that overtakes the CPO's answer still finds it; then the answer (or why
there was none). :meth:`KeptRequests._take_result` takes a result only from the partner
the request went to (no one learns of another's requests), once.

The response values used here (ACCEPTED, REJECTED, NOT_SUPPORTED, UNKNOWN_SESSION) are
shared by CommandResponseType and ChargingProfileResponseType.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from evroam.core.backend import BackendError, ChargePointBackend
from evroam.core.callbacks import (
    ReceivedRequest,
    ReceivedState,
    Reply,
    RequestKind,
    SentRequest,
    SentState,
    UnknownRequest,
    party_label,
)
from evroam.core.errors import DomainError, InvalidInput, NotRegistered
from evroam.core.objects import Document, ObjectKey
from evroam.core.ports import UnitOfWork
from evroam.core.types import InterfaceRole, ModuleId, Partner, Role
from evroam.services.callbacks import MODULES, Callbacks
from evroam.services.context import PartnerContext
from evroam.services.sessions import FINISHED

log = logging.getLogger("evroam.requests")

ACCEPTED = "ACCEPTED"
REJECTED = "REJECTED"
NOT_SUPPORTED = "NOT_SUPPORTED"
UNKNOWN_SESSION = "UNKNOWN_SESSION"

Party = tuple[str, str]


# ---------------------------------------------------------------- partner checks


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def origins(partner: Partner) -> set[tuple[str, int]]:
    """(host, port) of every URL the partner registered: its versions URL and endpoints."""
    out: set[tuple[str, int]] = set()
    for url in [partner.versions_url or "", *(e.url for e in partner.endpoints)]:
        try:
            parts = urlsplit(url)
            if parts.hostname:
                out.add((parts.hostname.lower(), _port(parts.scheme, parts.port)))
        except ValueError:
            continue
    return out


def check_response_url(partner: Partner, url: str) -> None:
    """InvalidInput unless ``url`` is http(s) on a host and port the partner registered."""
    try:
        parts = urlsplit(url)
        origin = (
            (parts.hostname or "").lower(),
            _port(parts.scheme, parts.port),
        )
    except ValueError:
        raise InvalidInput("response_url: not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("response_url: must be an http or https URL")
    if parts.username or parts.password:
        raise InvalidInput("response_url: must not carry credentials")
    if origin not in origins(partner):
        raise InvalidInput(
            "response_url: must point at a host and port you registered (your versions "
            "URL or endpoints)"
        )


def is_hub(partner: Partner) -> bool:
    return any(r.role == Role.HUB for r in partner.roles)


def party_in(doc: Any) -> Party | None:
    """The (country_code, party_id) a document (a Token, a CdrToken) names, upper-case."""
    if not isinstance(doc, dict) or not doc.get("country_code") or not doc.get("party_id"):
        return None
    return (str(doc["country_code"]).upper(), str(doc["party_id"]).upper())


# ---------------------------------------------------------------- the kinds


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What differs between the kinds in the shared steps: the kept requests' ``kind``,
    and the words the operator and the logs read (``noun`` one request, ``plural`` what
    a node sends)."""

    kind: RequestKind
    noun: str
    plural: str
    senders: frozenset[Role]  # the roles that may send it (OCPI 2.2.1 §5.8 role table)

    @property
    def module(self) -> ModuleId:
        return MODULES[self.kind]


COMMANDS = KindSpec(RequestKind.COMMAND, "command", "commands", frozenset({Role.EMSP, Role.HUB}))
PROFILES = KindSpec(
    RequestKind.PROFILE,
    "charging profile request",
    "charging profiles",
    frozenset({Role.EMSP, Role.SCSP, Role.HUB}),
)


@dataclass(frozen=True, slots=True)
class Checked:
    """What a kind's checks found: the CPO party the request is for, the party that sent
    it (the result's only audience), and the session it names, as stored."""

    party: Party
    requester: Party
    session_id: str | None = None


class Refusal(Exception):
    """A check's answer at once (REJECTED with 2003, UNKNOWN_SESSION...): nothing stored."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.message)
        self.reply = reply


def refuse(result: str, message: str, status: int = 1000) -> Refusal:
    return Refusal(Reply(result, 0, message, status))


async def own_session(
    uow: UnitOfWork,
    partner: Partner,
    session_id: str,
    parties: list[Party],
    *,
    stranger: Reply,
) -> Checked:
    """One of the node's running sessions whose token the caller (or a party behind a
    HUB) issued. Another's driver's session is answered ``stranger`` (the kind decides
    whether to admit it exists), a finished one REJECTED, none UNKNOWN_SESSION."""
    for party in parties:
        stored = await uow.objects.get(ModuleId.SESSIONS, ObjectKey(*party, session_id))
        if stored is None or stored.partner_id is not None:
            continue
        session = json.loads(stored.document_json)
        owner = party_in(session.get("cdr_token"))
        if owner is None or (owner not in partner.party_keys and not is_hub(partner)):
            raise Refusal(stranger)
        if session.get("status") in FINISHED:
            raise refuse(REJECTED, f"session {session_id!r} is over")
        return Checked(party, owner, str(session.get("id") or session_id))
    raise refuse(UNKNOWN_SESSION, f"unknown session {session_id!r}")


#: A kind's checks, in the transaction that stores the request: (uow, the node's CPO
#: parties, the addressed one first) -> what they found; Refusal to answer at once.
Check = Callable[[UnitOfWork, list[Party]], Awaitable[Checked]]
#: Hands an accepted request to the chargers: (backend, request id, checked, received at).
HandOver = Callable[[ChargePointBackend, str, Checked, datetime], Awaitable[None]]
#: The call to the CPO: (partner, body with response_url) -> its answer at once.
Call = Callable[[Partner, Document], Awaitable[Reply]]


#: The kind's outbound calls (the version's client), used by the subclass only.
Api = TypeVar("Api")


class KeptRequests(Generic[Api]):
    """The shared steps of a service whose requests are kept (one subclass per kind,
    naming its :class:`KindSpec` as ``spec``). The CPO side needs ``backend`` (None:
    NOT_SUPPORTED), the eMSP side ``api`` and ``response_base`` (results arrive at
    ``{response_base}/{type}/{id}``)."""

    spec: ClassVar[KindSpec]

    def __init__(
        self,
        ctx: PartnerContext,
        *,
        timeout: int,
        expire_after: int,
        response_base: str,
        api: Api | None = None,
        backend: ChargePointBackend | None = None,
        callbacks: Callbacks | None = None,
    ) -> None:
        self.ctx = ctx
        self.api = api
        self.timeout = timeout
        self.expire_after = expire_after
        self.response_base = response_base.rstrip("/")
        self.backend = backend
        self.callbacks = callbacks or Callbacks(ctx)

    # ================================================================ CPO side

    def _cpo_parties(self, addressed: Party | None) -> list[Party]:
        """The node's CPO parties, the one the request is addressed to first."""
        ours = [p.key for p in self.ctx.own_parties if p.role == Role.CPO]
        if addressed is not None and addressed in ours:
            return [addressed, *(p for p in ours if p != addressed)]
        return ours

    async def _receive(
        self,
        partner: Partner,
        request_type: str,
        body: Document,
        addressed: Party | None,
        check: Check,
        hand_over: HandOver,
    ) -> Reply:
        """Steps 1-5 of the module docstring for a partner's request (``body``: the
        canonical request, ``response_url`` included)."""
        if not any(p.role in self.spec.senders for p in partner.roles):
            roles = "/".join(sorted(r.value for r in self.spec.senders))
            raise InvalidInput(f"{self.spec.plural} are sent by a {roles}; you hold none of these")
        check_response_url(partner, str(body.get("response_url", "")))
        if self.backend is None:
            return Reply(NOT_SUPPORTED, 0, "this CPO runs no charge points")
        parties = self._cpo_parties(addressed)
        if not parties:
            return Reply(NOT_SUPPORTED, 0, "this node is no CPO")
        now = self.ctx.now()
        request_id = str(uuid.uuid4())
        async with self.ctx.uow() as uow:
            try:
                checked = await check(uow, parties)
            except Refusal as refusal:
                log.info(
                    "%s %s from %s refused: %s",
                    self.spec.noun,
                    request_type,
                    partner.label,
                    refusal,
                )
                return refusal.reply
            await uow.received_requests.add(
                ReceivedRequest(
                    id=request_id,
                    kind=self.spec.kind,
                    type=request_type,
                    partner_id=partner.id,
                    party=party_label(checked.party),
                    requester=party_label(checked.requester),
                    body=body,
                    response_url=str(body["response_url"]),
                    state=ReceivedState.WAITING,
                    timeout_at=now + timedelta(seconds=self.timeout),
                    created_at=now,
                    session_id=checked.session_id,
                )
            )
            await uow.commit()
        try:
            await hand_over(self.backend, request_id, checked, now)
        except Exception as exc:
            if not isinstance(exc, BackendError):
                log.exception("backend failed to take %s %s", self.spec.noun, request_id)
            not_supported = isinstance(exc, BackendError) and exc.not_supported
            result = NOT_SUPPORTED if not_supported else REJECTED
            message = str(exc) if isinstance(exc, BackendError) else "the charge point is away"
            if await self.callbacks.refuse(request_id, result, message):
                return Reply(result, 0, message)
        return Reply(ACCEPTED, self.timeout)

    # ================================================================ eMSP side

    def _default_sender(self) -> Party:
        """The node's party a request goes out as when nothing names one: its eMSP
        party, else its first."""
        for p in self.ctx.own_parties:
            if p.role == Role.EMSP:
                return p.key
        if not self.ctx.own_parties:
            raise InvalidInput(f"this node has no party to send {self.spec.plural} as")
        return self.ctx.own_parties[0].key

    async def _partner(self, party: Party) -> Partner:
        """The registered partner holding the CPO ``party``, with a Receiver of the kind."""
        async with self.ctx.uow(read_only=True) as uow:
            partner = await uow.partners.find_by_party(*party)
        if partner is None:
            raise InvalidInput(f"no partner holds {party_label(party)}")
        if not partner.registered or not partner.token_out:
            raise NotRegistered(f"partner {party_label(party)} is not registered")
        module = self.spec.module.value
        endpoint = partner.endpoint(module, InterfaceRole.RECEIVER)
        if endpoint is None or endpoint.role != InterfaceRole.RECEIVER:
            raise InvalidInput(f"partner {party_label(party)} offers no {module} Receiver")
        return partner

    async def _send(
        self,
        party: Party,
        sender: Party,
        request_type: str,
        fields: Document,
        session_id: str | None,
        call: Call,
    ) -> SentRequest:
        """Send a request of ``fields`` (without ``response_url``: the node sets its own)
        to the partner holding the CPO ``party``, as the node's ``sender``. The stored
        request, with the CPO's answer (or why there was none)."""
        partner = await self._partner(party)
        request_id = str(uuid.uuid4())
        response_url = f"{self.response_base}/{request_type}/{request_id}"
        body = {**fields, "response_url": response_url}
        now = self.ctx.now()
        async with self.ctx.uow() as uow:
            await uow.sent_requests.add(
                SentRequest(
                    id=request_id,
                    kind=self.spec.kind,
                    type=request_type,
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
            reply = await call(partner, body)
        except DomainError as exc:
            log.warning(
                "%s %s to %s failed: %s", self.spec.noun, request_type, party_label(party), exc
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
        found = await self.get_sent(request_id)
        assert found is not None
        return found

    async def _take_result(
        self,
        partner: Partner,
        request_type: str,
        request_id: str,
        result: str,
        doc: Document,
        replaces: Callable[[SentRequest], bool] | None = None,
    ) -> bool:
        """A result POSTed to one of the node's response URLs: only from the partner the
        request went to (UnknownRequest otherwise), stored once (``replaces``: may it
        overwrite the stored one); whether it was stored."""
        async with self.ctx.uow() as uow:
            request = await uow.sent_requests.get(request_id)
            if (
                request is None
                or request.kind != self.spec.kind
                or request.type != request_type
                or request.partner_id != partner.id
            ):
                raise UnknownRequest(f"unknown {self.spec.noun} {request_id!r}")
            replace = replaces is not None and replaces(request)
            stored = await uow.sent_requests.record_result(
                request_id, result, doc, self.ctx.now(), replace=replace
            )
            await uow.commit()
        if not stored:
            log.info("%s %s: a second result (%s) ignored", self.spec.noun, request_id, result)
        return stored

    # ================================================================ operator

    async def get_sent(self, request_id: str) -> SentRequest | None:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.sent_requests.get(request_id)

    async def get(self, request_id: str) -> ReceivedRequest | SentRequest | None:
        """A request of the kind the node sent or received, by id."""
        async with self.ctx.uow(read_only=True) as uow:
            sent = await uow.sent_requests.get(request_id)
            if sent is not None and sent.kind == self.spec.kind:
                return sent
            received = await uow.received_requests.get(request_id)
            if received is not None and received.kind == self.spec.kind:
                return received
        return None

    async def list_sent(
        self, states: list[SentState], limit: int, session_id: str | None = None
    ) -> list[SentRequest]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.sent_requests.search(
                kind=self.spec.kind, states=states, session_id=session_id, limit=limit
            )

    async def list_received(
        self, states: list[ReceivedState], limit: int, session_id: str | None = None
    ) -> list[ReceivedRequest]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.received_requests.search(
                kind=self.spec.kind, states=states, session_id=session_id, limit=limit
            )
