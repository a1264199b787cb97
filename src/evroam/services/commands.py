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

The steps both modules share (1, 2, 4, 5 above; the eMSP side below) are
``services/requests.py``; this module adds what a command names and how the chargers
take it.

eMSP side, :meth:`send`: the request is stored SENT with a fresh ``response_url``
(unique per request) before the call, so a result that overtakes the CPO's answer
still finds it; then the CPO's CommandResponse is stored. :meth:`receive_result`
takes the result on that URL, only from the partner the command went to, once.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from evroam.core.backend import (
    ChargePointBackend,
    ChargerCommand,
    CommandResponseType,
    CommandResultType,
    CommandType,
)
from evroam.core.callbacks import ReceivedRequest, Reply, SentRequest
from evroam.core.errors import InvalidInput
from evroam.core.objects import Document, ObjectKey
from evroam.core.ports import CommandsApi, UnitOfWork
from evroam.core.timestamps import parse_timestamp
from evroam.core.types import ModuleId, Partner, Role
from evroam.services.callbacks import result_body
from evroam.services.requests import (
    COMMANDS,
    Checked,
    KeptRequests,
    Party,
    is_hub,
    own_session,
    party_in,
    refuse,
)
from evroam.services.requests import check_response_url as check_response_url
from evroam.services.requests import origins as origins

log = logging.getLogger("evroam.commands")

#: Commands naming a Location (and maybe an EVSE and connector) of the CPO.
AT_LOCATION = frozenset(
    {CommandType.START_SESSION, CommandType.RESERVE_NOW, CommandType.UNLOCK_CONNECTOR}
)
#: Commands carrying the driver's Token.
WITH_TOKEN = frozenset({CommandType.START_SESSION, CommandType.RESERVE_NOW})
CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"


def _find(items: Any, key: str, wanted: str) -> dict[str, Any] | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get(key, "")).upper() == wanted.upper():
            return item
    return None


def _cancels(request_type: str, stored_result: str | None, result: str) -> bool:
    """A reservation the CPO cancels after accepting it: OCPI 2.2.1 has the CPO POST
    CANCELED_RESERVATION to the ReserveNow's response_url, a second result."""
    return (
        request_type == CommandType.RESERVE_NOW.value
        and stored_result == CommandResultType.ACCEPTED.value
        and result == CommandResultType.CANCELED_RESERVATION.value
    )


class CommandsService(KeptRequests[CommandsApi]):
    """One per node (see :class:`~evroam.services.requests.KeptRequests`); results
    arrive at ``{response_base}/{command}/{id}``."""

    spec = COMMANDS

    # ================================================================ CPO side

    async def receive(
        self,
        partner: Partner,
        command: CommandType,
        body: Document,
        addressed: Party | None = None,
        sender: Party | None = None,
    ) -> Reply:
        """A partner's command (``body``: the canonical request object). ``addressed``
        and ``sender``: the routing headers' TO and FROM parties (checked by the edge
        to be ours and the caller's), when the request carried them."""

        async def check(uow: UnitOfWork, parties: list[Party]) -> Checked:
            return await self._check(uow, partner, command, body, parties, sender)

        async def hand_over(
            backend: ChargePointBackend, request_id: str, checked: Checked, now: datetime
        ) -> None:
            expiry = body.get("expiry_date")
            await backend.handle_command(
                ChargerCommand(
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
                    expiry_date=parse_timestamp(str(expiry)) if expiry else None,
                    authorization_reference=body.get("authorization_reference"),
                )
            )

        return await self._receive(partner, command.value, body, addressed, check, hand_over)

    async def _check(
        self,
        uow: UnitOfWork,
        partner: Partner,
        command: CommandType,
        body: Document,
        parties: list[Party],
        sender: Party | None,
    ) -> Checked:
        """The objects a command names: a token of one of the caller's parties (2001
        with REJECTED: only the eMSP's own tokens may be used), its session (another
        eMSP's is UNKNOWN_SESSION: never telling one eMSP of another's sessions), its
        location. A HUB partner may act for any party behind it."""
        hub = is_hub(partner)
        requester = sender or self._caller_party(partner)
        if command in WITH_TOKEN:
            token_party = party_in(body.get("token"))
            if token_party is None or (token_party not in partner.party_keys and not hub):
                raise refuse(
                    CommandResponseType.REJECTED.value,
                    "token: not one of your parties' tokens",
                    status=2001,
                )
            requester = token_party
        if command == CommandType.STOP_SESSION:
            session_id = str(body["session_id"])
            unknown = Reply(
                CommandResponseType.UNKNOWN_SESSION.value, 0, f"unknown session {session_id!r}"
            )
            return await own_session(uow, partner, session_id, parties, stranger=unknown)
        if command not in AT_LOCATION:
            return Checked(parties[0], requester)
        party = await self._check_location(uow, command, body, parties)
        return Checked(party, requester)

    @staticmethod
    def _caller_party(partner: Partner) -> Party:
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
        parties: list[Party],
    ) -> Party:
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
                raise refuse(
                    CommandResponseType.REJECTED.value,
                    f"unknown EVSE {evse_uid!r} at location {location_id!r}",
                    status=2003,
                )
            connector_id = body.get("connector_id")
            if connector_id is None:
                capabilities = evse.get("capabilities")
                if command == CommandType.START_SESSION and CONNECTOR_REQUIRED in (
                    capabilities if isinstance(capabilities, list) else []
                ):
                    raise refuse(
                        CommandResponseType.REJECTED.value,
                        f"connector_id: EVSE {evse_uid!r} needs one ({CONNECTOR_REQUIRED})",
                        status=2002,
                    )
                return party
            if _find(evse.get("connectors"), "id", str(connector_id)) is None:
                raise refuse(
                    CommandResponseType.REJECTED.value,
                    f"unknown connector {connector_id!r} of EVSE {evse_uid!r}",
                    status=2003,
                )
            return party
        raise refuse(
            CommandResponseType.REJECTED.value, f"unknown location {location_id!r}", status=2003
        )

    async def report_result(
        self, command_id: str, result: CommandResultType, message: str | None = None
    ) -> None:
        """The chargers' result of a command (``BackendReports.command_result``): POSTed
        to its ``response_url`` through the outbox; after TIMEOUT kept, not sent; a
        second result ignored. UnknownRequest for an id the node never accepted."""
        result = CommandResultType(result)

        def cancels(request: ReceivedRequest) -> bool:
            return _cancels(request.type, request.result, result.value)

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

    def _sender_party(self, command: CommandType, body: Document) -> Party:
        """The node's party a command is from: the token's issuer (the CPO checks that
        it is the caller's), else the node's eMSP party."""
        if command in WITH_TOKEN:
            token_party = party_in(body.get("token"))
            if token_party is None or token_party not in [p.key for p in self.ctx.own_parties]:
                raise InvalidInput("token: not a token of this node's parties")
            return token_party
        return self._default_sender()

    async def send(self, party: Party, command: CommandType, body: Document) -> SentRequest:
        """Send ``command`` to the partner holding the CPO ``party``; ``body`` is the
        checked request object without ``response_url`` (the node sets its own). The
        stored request, with the CPO's answer (or why there was none)."""
        api = self.api
        if api is None:
            raise InvalidInput("this node cannot send commands")
        party = (party[0].upper(), party[1].upper())
        sender = self._sender_party(command, body)

        async def call(partner: Partner, sent: Document) -> Reply:
            return await api.send(partner, command, sent, sender, party)

        return await self._send(party, sender, command.value, body, body.get("session_id"), call)

    async def receive_result(
        self, partner: Partner, command: CommandType, request_id: str, result: str, doc: Document
    ) -> bool:
        """A CommandResult POSTed to one of our response URLs: only from the partner
        the command went to (UnknownRequest otherwise: no one learns of another's
        commands); stored once, but for a reservation cancelled after it was accepted.
        Whether it was stored."""
        return await self._take_result(
            partner,
            command.value,
            request_id,
            result,
            doc,
            replaces=lambda request: _cancels(request.type, request.result, result),
        )
