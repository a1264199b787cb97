"""The node's outbound Commands calls (mod_commands §"Receiver Interface"): an eMSP
sends a command to a CPO partner's Receiver, with routing headers, and reads its
CommandResponse.

An answer with OCPI 2003 (unknown location) is the CPO refusing the command, not a
failure to reach it: it comes back as a REJECTED :class:`Reply` with that status, as the
spec's sequence diagram has it, even when the partner sent no CommandResponse with it
(the envelope client drops ``data`` of error answers). Anything else that is not a valid
CommandResponse is ``PartnerUnreachable``, naming what went wrong for the operator
(``receiver_call.py``, shared with ChargingProfiles).
"""

from __future__ import annotations

from evroam.core.backend import CommandType
from evroam.core.callbacks import Reply
from evroam.core.objects import Document
from evroam.core.types import ModuleId, Partner
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.v2_2_1.commands.convert import reply_from
from evroam.ocpi.v2_2_1.receiver_call import call_receiver

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
        return await call_receiver(
            ocpi,
            partner,
            ModuleId.COMMANDS,
            "POST",
            command.value,
            sender,
            receiver,
            reply_from,
            json_body=body,
            refusals=REFUSALS,
        )


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
