"""Commands (OCPI 2.2.1 mod_commands, digest §5.6), both sides.

CPO side, :meth:`CommandsService.receive` (the Receiver ``POST {commands}/{command}``),
in this order, and why:

1. ``response_url`` must be an http(s) URL on a host and port the calling partner
   registered (its versions URL or one of its endpoints): the node will POST there
   later, and must never be made to call an address the partner did not register.
   Otherwise 2001, nothing stored (DESIGN "Partners are untrusted").
2. A node without a charge-point backend answers NOT_SUPPORTED (nothing stored).
3. The command's objects are checked against the node's own data: the Location (2003
   with REJECTED, as the spec's sequence diagram has it; an unknown EVSE or connector
   of it alike), a token of one of the caller's parties (2001 with REJECTED: only the
   eMSP's own tokens may be used), a session whose token the caller issued
   (UNKNOWN_SESSION otherwise, never telling one eMSP of another's sessions). A HUB
   partner may act for any party behind it.
4. The request is stored WAITING with ``timeout_at`` and committed BEFORE the backend
   gets it: a backend that answers at once finds it (``report_result``).
5. The backend takes it (``handle_command`` returns once it has). The answer is
   ACCEPTED with the node's timeout. If the backend cannot take it
   (:class:`BackendError`), the answer is REJECTED (NOT_SUPPORTED where the backend says
   so) at once, and the stored request is REFUSED with no result POSTed: OCPI sends a
   CommandResult only after an ACCEPTED CommandResponse, and the caller already has the
   truth. Awaiting the hand-over keeps the answer honest at the cost of the backend's
   hand-over time (the webhook adapter bounds it).

Later :meth:`report_result` (the backend's ``command_result``) records the result and
queues the CommandResult POST in one transaction; the watchdog answers TIMEOUT
(``services/callbacks.py``). A reservation the CPO cancels after accepting it is one
more result, CANCELED_RESERVATION, to the ReserveNow's ``response_url``.

eMSP side, :meth:`send`: the request is stored SENT with a fresh ``response_url``
(unique per request) before the call, so a result that overtakes the CPO's answer
still finds it; then the CPO's CommandResponse is stored. :meth:`receive_result`
takes the result on that URL, only from the partner the command went to, once.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from evroam.core.backend import (
    BackendError,
    ChargePointBackend,
    ChargerCommand,
    CommandResponseType,
    CommandResultType,
    CommandType,
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
)
from evroam.core.errors import DomainError, InvalidInput, NotRegistered
from evroam.core.objects import Document, ObjectKey
from evroam.core.ports import CommandsApi, UnitOfWork
from evroam.core.types import InterfaceRole, ModuleId, Partner, Role
from evroam.services.callbacks import Callbacks, result_body
from evroam.services.context import PartnerContext

log = logging.getLogger("evroam.commands")

#: Commands naming a Location (and maybe an EVSE and connector) of the CPO.
AT_LOCATION = frozenset(
    {CommandType.START_SESSION, CommandType.RESERVE_NOW, CommandType.UNLOCK_CONNECTOR}
)
#: Commands carrying the driver's Token.
WITH_TOKEN = frozenset({CommandType.START_SESSION, CommandType.RESERVE_NOW})
#: Sessions that are over take no STOP_SESSION.
FINISHED = frozenset({"COMPLETED", "INVALID"})
CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"


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


def _is_hub(partner: Partner) -> bool:
    return any(r.role == Role.HUB for r in partner.roles)


def _party(doc: Any) -> tuple[str, str] | None:
    if not isinstance(doc, dict) or not doc.get("country_code") or not doc.get("party_id"):
        return None
    return (str(doc["country_code"]).upper(), str(doc["party_id"]).upper())


def _find(items: Any, key: str, wanted: str) -> dict[str, Any] | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get(key, "")).upper() == wanted.upper():
            return item
    return None


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the checks found: the CPO party the command is for, the party that sent it
    (the result's only audience), and the session it names."""

    party: tuple[str, str]
    requester: tuple[str, str]
    session_id: str | None = None


class _Refusal(Exception):
    """A check's answer at once (REJECTED with 2003, UNKNOWN_SESSION...)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.message)
        self.reply = reply


def _refuse(result: CommandResponseType, message: str, status: int = 1000) -> _Refusal:
    return _Refusal(Reply(result.value, 0, message, status))


class CommandsService:
    """One per node: the CPO side needs ``backend`` (None: NOT_SUPPORTED), the eMSP side
    ``api`` and ``response_base`` (the URL under which the node takes results:
    ``{response_base}/{command}/{id}``)."""

    def __init__(
        self,
        ctx: PartnerContext,
        *,
        timeout: int,
        expire_after: int,
        response_base: str,
        api: CommandsApi | None = None,
        backend: ChargePointBackend | None = None,
        callbacks: Callbacks | None = None,
    ) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self.expire_after = expire_after
        self.response_base = response_base.rstrip("/")
        self.api = api
        self.backend = backend
        self.callbacks = callbacks or Callbacks(ctx)

    # ================================================================ CPO side

    def _cpo_parties(self, addressed: tuple[str, str] | None) -> list[tuple[str, str]]:
        """The node's CPO parties, the one the request is addressed to first."""
        ours = [p.key for p in self.ctx.own_parties if p.role == Role.CPO]
        if addressed is not None and addressed in ours:
            return [addressed, *(p for p in ours if p != addressed)]
        return ours

    async def receive(
        self,
        partner: Partner,
        command: CommandType,
        body: Document,
        addressed: tuple[str, str] | None = None,
        sender: tuple[str, str] | None = None,
    ) -> Reply:
        """A partner's command (``body``: the canonical request object). ``addressed``
        and ``sender``: the routing headers' TO and FROM parties (checked by the edge
        to be ours and the caller's), when the request carried them."""
        check_response_url(partner, str(body.get("response_url", "")))
        if self.backend is None:
            return Reply(
                CommandResponseType.NOT_SUPPORTED.value, 0, "this CPO runs no charge points"
            )
        parties = self._cpo_parties(addressed)
        if not parties:
            return Reply(CommandResponseType.NOT_SUPPORTED.value, 0, "this node is no CPO")
        now = self.ctx.now()
        request_id = str(uuid.uuid4())
        async with self.ctx.uow() as uow:
            try:
                checked = await self._check(uow, partner, command, body, parties, sender)
            except _Refusal as refusal:
                log.info("%s from %s refused: %s", command.value, partner.label, refusal)
                return refusal.reply
            await uow.received_requests.add(
                ReceivedRequest(
                    id=request_id,
                    kind=RequestKind.COMMAND,
                    type=command.value,
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
        expiry = body.get("expiry_date")
        charger = ChargerCommand(
            id=request_id,
            type=command,
            party=checked.party,
            emsp=checked.requester,
            received_at=now,
            timeout_s=self.timeout,
            token=body.get("token"),
            location_id=body.get("location_id"),
            evse_uid=body.get("evse_uid"),
            connector_id=body.get("connector_id"),
            session_id=body.get("session_id"),
            reservation_id=body.get("reservation_id"),
            expiry_date=_timestamp(str(expiry)) if expiry else None,
            authorization_reference=body.get("authorization_reference"),
        )
        try:
            await self.backend.handle_command(charger)
        except Exception as exc:
            not_supported = isinstance(exc, BackendError) and exc.not_supported
            if not isinstance(exc, BackendError):
                log.exception("backend failed to take command %s", request_id)
            result = (
                CommandResponseType.NOT_SUPPORTED if not_supported else CommandResponseType.REJECTED
            )
            message = str(exc) if isinstance(exc, BackendError) else "the charge point is away"
            if await self.callbacks.refuse(request_id, result.value, message):
                return Reply(result.value, 0, message)
        return Reply(CommandResponseType.ACCEPTED.value, self.timeout)

    async def _check(
        self,
        uow: UnitOfWork,
        partner: Partner,
        command: CommandType,
        body: Document,
        parties: list[tuple[str, str]],
        sender: tuple[str, str] | None,
    ) -> _Checked:
        hub = _is_hub(partner)
        requester = sender or self._caller_party(partner)
        if command in WITH_TOKEN:
            token_party = _party(body.get("token"))
            if token_party is None or (token_party not in partner.party_keys and not hub):
                raise _refuse(
                    CommandResponseType.REJECTED,
                    "token: not one of your parties' tokens",
                    status=2001,
                )
            requester = token_party
        if command == CommandType.STOP_SESSION:
            return await self._check_session(uow, partner, str(body["session_id"]), parties)
        if command not in AT_LOCATION:
            return _Checked(parties[0], requester)
        party = await self._check_location(uow, command, body, parties)
        return _Checked(party, requester)

    @staticmethod
    def _caller_party(partner: Partner) -> tuple[str, str]:
        for role in (Role.EMSP, Role.HUB):
            for p in partner.roles:
                if p.role == role:
                    return p.key
        return partner.roles[0].key if partner.roles else ("", "")

    async def _check_location(
        self,
        uow: UnitOfWork,
        command: CommandType,
        body: Document,
        parties: list[tuple[str, str]],
    ) -> tuple[str, str]:
        """The CPO party holding the Location; its EVSE (not REMOVED) and connector
        when named. Unknown: 2003 with REJECTED (the spec's UNLOCK_CONNECTOR diagram)."""
        location_id = str(body["location_id"])
        for party in parties:
            stored = await uow.objects.get(ModuleId.LOCATIONS, ObjectKey(*party, location_id))
            if stored is None or stored.partner_id is not None:
                continue
            try:
                location = json.loads(stored.document_json)
            except ValueError:
                continue
            evse_uid = body.get("evse_uid")
            if evse_uid is None:
                return party
            evse = _find(location.get("evses"), "uid", str(evse_uid))
            if evse is None or evse.get("status") == "REMOVED":
                raise _refuse(
                    CommandResponseType.REJECTED,
                    f"unknown EVSE {evse_uid!r} at location {location_id!r}",
                    status=2003,
                )
            connector_id = body.get("connector_id")
            if connector_id is None:
                capabilities = evse.get("capabilities")
                if command == CommandType.START_SESSION and CONNECTOR_REQUIRED in (
                    capabilities if isinstance(capabilities, list) else []
                ):
                    raise _refuse(
                        CommandResponseType.REJECTED,
                        f"connector_id: EVSE {evse_uid!r} needs one ({CONNECTOR_REQUIRED})",
                        status=2002,
                    )
                return party
            if _find(evse.get("connectors"), "id", str(connector_id)) is None:
                raise _refuse(
                    CommandResponseType.REJECTED,
                    f"unknown connector {connector_id!r} of EVSE {evse_uid!r}",
                    status=2003,
                )
            return party
        raise _refuse(
            CommandResponseType.REJECTED, f"unknown location {location_id!r}", status=2003
        )

    async def _check_session(
        self, uow: UnitOfWork, partner: Partner, session_id: str, parties: list[tuple[str, str]]
    ) -> _Checked:
        """One of the node's sessions whose token the caller issued; any other is
        unknown to it (UNKNOWN_SESSION), a finished one REJECTED."""
        for party in parties:
            stored = await uow.objects.get(ModuleId.SESSIONS, ObjectKey(*party, session_id))
            if stored is None or stored.partner_id is not None:
                continue
            session = json.loads(stored.document_json)
            owner = _party(session.get("cdr_token"))
            if owner is None or (owner not in partner.party_keys and not _is_hub(partner)):
                break
            if session.get("status") in FINISHED:
                raise _refuse(CommandResponseType.REJECTED, f"session {session_id!r} is over")
            return _Checked(party, owner, session_id)
        raise _refuse(CommandResponseType.UNKNOWN_SESSION, f"unknown session {session_id!r}")

    async def report_result(
        self, command_id: str, result: CommandResultType, message: str | None = None
    ) -> None:
        """The chargers' result of a command (``BackendReports.command_result``): POSTed
        to its ``response_url`` through the outbox; after TIMEOUT kept, not sent; a
        second result ignored. UnknownRequest for an id the node never accepted."""
        result = CommandResultType(result)

        def cancels(request: ReceivedRequest) -> bool:
            return (
                request.type == CommandType.RESERVE_NOW.value
                and request.result == CommandResultType.ACCEPTED.value
                and result == CommandResultType.CANCELED_RESERVATION
            )

        await self.callbacks.answer(
            command_id, result.value, result_body(result.value, message), again=cancels
        )

    # ================================================================ eMSP side

    async def own_token(self, uid: str, token_type: str = "RFID") -> Document:
        """One of the node's own tokens, to send whole in START_SESSION or RESERVE_NOW."""
        async with self.ctx.uow(read_only=True) as uow:
            for p in self.ctx.own_parties:
                stored = await uow.objects.get(
                    ModuleId.TOKENS, ObjectKey(p.country_code, p.party_id, uid, token_type)
                )
                if stored is not None and stored.partner_id is None:
                    doc: Document = json.loads(stored.document_json)
                    return doc
        raise InvalidInput(f"token: no own {token_type} token with uid {uid!r}")

    def _sender_party(self, command: CommandType, body: Document) -> tuple[str, str]:
        ours = [p.key for p in self.ctx.own_parties]
        if command in WITH_TOKEN:
            token_party = _party(body.get("token"))
            if token_party is None or token_party not in ours:
                raise InvalidInput("token: not a token of this node's parties")
            return token_party
        for p in self.ctx.own_parties:
            if p.role == Role.EMSP:
                return p.key
        if not ours:
            raise InvalidInput("this node has no party to send commands as")
        return ours[0]

    async def send(
        self, party: tuple[str, str], command: CommandType, body: Document
    ) -> SentRequest:
        """Send ``command`` to the partner holding the CPO ``party``; ``body`` is the
        checked request object without ``response_url`` (the node sets its own). The
        stored request, with the CPO's answer (or why there was none)."""
        if self.api is None:
            raise InvalidInput("this node cannot send commands")
        party = (party[0].upper(), party[1].upper())
        sender = self._sender_party(command, body)
        async with self.ctx.uow(read_only=True) as uow:
            partner = await uow.partners.find_by_party(*party)
        if partner is None:
            raise InvalidInput(f"no partner holds {party_label(party)}")
        if not partner.registered or not partner.token_out:
            raise NotRegistered(f"partner {party_label(party)} is not registered")
        endpoint = partner.endpoint(ModuleId.COMMANDS.value, InterfaceRole.RECEIVER)
        if endpoint is None or endpoint.role != InterfaceRole.RECEIVER:
            raise InvalidInput(f"partner {party_label(party)} offers no commands Receiver")
        request_id = str(uuid.uuid4())
        response_url = f"{self.response_base}/{command.value}/{request_id}"
        body = {**body, "response_url": response_url}
        now = self.ctx.now()
        wait = timedelta(seconds=self.timeout + self.expire_after)
        async with self.ctx.uow() as uow:
            await uow.sent_requests.add(
                SentRequest(
                    id=request_id,
                    kind=RequestKind.COMMAND,
                    type=command.value,
                    partner_id=partner.id,
                    party=party_label(party),
                    sender=party_label(sender),
                    body=body,
                    response_url=response_url,
                    state=SentState.SENT,
                    created_at=now,
                    expires_at=now + wait,
                    session_id=body.get("session_id"),
                )
            )
            await uow.commit()
        try:
            reply = await self.api.send(partner, command, body, sender, party)
        except DomainError as exc:
            log.warning("%s to %s failed: %s", command.value, party_label(party), exc)
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

    async def receive_result(
        self, partner: Partner, command: CommandType, request_id: str, result: str, doc: Document
    ) -> bool:
        """A CommandResult POSTed to one of our response URLs: only from the partner
        the command went to (UnknownRequest otherwise: no one learns of another's
        commands); stored once. Whether it was stored."""
        async with self.ctx.uow() as uow:
            request = await uow.sent_requests.get(request_id)
            if (
                request is None
                or request.kind != RequestKind.COMMAND
                or request.type != command.value
                or request.partner_id != partner.id
            ):
                raise UnknownRequest(f"unknown command {request_id!r}")
            replace = (
                request.type == CommandType.RESERVE_NOW.value
                and request.result == CommandResultType.ACCEPTED.value
                and result == CommandResultType.CANCELED_RESERVATION.value
            )
            stored = await uow.sent_requests.record_result(
                request_id, result, doc, self.ctx.now(), replace=replace
            )
            await uow.commit()
        if not stored:
            log.info("command %s: a second result (%s) ignored", request_id, result)
        return stored

    # ================================================================ operator

    async def get_sent(self, request_id: str) -> SentRequest | None:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.sent_requests.get(request_id)

    async def get(self, request_id: str) -> ReceivedRequest | SentRequest | None:
        """A command the node sent or received, by id."""
        async with self.ctx.uow(read_only=True) as uow:
            sent = await uow.sent_requests.get(request_id)
            if sent is not None and sent.kind == RequestKind.COMMAND:
                return sent
            received = await uow.received_requests.get(request_id)
            if received is not None and received.kind == RequestKind.COMMAND:
                return received
        return None

    async def list_sent(self, states: list[SentState], limit: int) -> list[SentRequest]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.sent_requests.search(
                kind=RequestKind.COMMAND, states=states, limit=limit
            )

    async def list_received(self, states: list[ReceivedState], limit: int) -> list[ReceivedRequest]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.received_requests.search(
                kind=RequestKind.COMMAND, states=states, limit=limit
            )
