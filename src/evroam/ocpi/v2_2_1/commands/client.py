"""The node's outbound Commands calls (mod_commands §"Receiver Interface"): an eMSP
sends a command to a CPO partner's Receiver, with routing headers, and reads its
CommandResponse.

An answer with OCPI 2003 (unknown location) is the CPO refusing the command, not a
failure to reach it: it comes back as a REJECTED :class:`Reply` with that status, as the
spec's sequence diagram has it, even when the partner sent no CommandResponse with it
(the envelope client drops ``data`` of error answers). Anything else that is not a valid
CommandResponse is ``PartnerUnreachable``, naming what went wrong for the operator.
"""

from __future__ import annotations

from urllib.parse import quote

from evroam.core.backend import CommandResponseType, CommandType
from evroam.core.callbacks import Reply
from evroam.core.errors import InvalidInput, PartnerRefused, PartnerUnreachable
from evroam.core.objects import Document
from evroam.core.types import InterfaceRole, ModuleId, Partner
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.v2_2_1.commands.convert import reply_from
from evroam.ocpi.v2_2_1.meta import TOKEN_BASE64

#: OCPI statuses with which a CPO refuses the command itself (digest §5.6).
REFUSALS = frozenset({2003})


class CommandsClient:
    """Stateless: the ``OcpiClient`` and the partner are passed in."""

    async def post(
        self,
        ocpi: OcpiClient,
        partner: Partner,
        command: CommandType,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply:
        endpoint = partner.endpoint(ModuleId.COMMANDS.value, InterfaceRole.RECEIVER)
        if endpoint is None or not partner.token_out:
            raise PartnerUnreachable(f"partner {partner.label} offers no commands Receiver")
        url = endpoint.url.rstrip("/") + "/" + quote(command.value, safe="")
        routing = {FROM_CC: sender[0], FROM_PID: sender[1], TO_CC: receiver[0], TO_PID: receiver[1]}
        try:
            answer = await ocpi.request(
                "POST",
                url,
                partner.token_out,
                partner=partner.label,
                json_body=body,
                routing=routing,
                encode=TOKEN_BASE64,
            )
        except PartnerError as exc:
            if exc.ocpi_status in REFUSALS:
                return Reply(CommandResponseType.REJECTED.value, 0, str(exc), exc.ocpi_status)
            if exc.ocpi_status is not None:
                raise PartnerRefused(str(exc)) from None
            raise PartnerUnreachable(str(exc)) from None
        try:
            return reply_from(answer.data, answer.status_code)
        except InvalidInput as exc:
            raise PartnerUnreachable(f"POST {url}: {exc}") from None


class OcpiCommandsApi:
    """``CommandsApi`` (``core/ports.py``) over the node's OCPI client."""

    def __init__(self, ocpi: OcpiClient, client: CommandsClient | None = None) -> None:
        self._ocpi = ocpi
        self._client = client or CommandsClient()

    async def send(
        self,
        partner: Partner,
        command: CommandType,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply:
        return await self._client.post(self._ocpi, partner, command, body, sender, receiver)
