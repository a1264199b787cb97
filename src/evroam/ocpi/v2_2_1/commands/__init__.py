"""OCPI 2.2.1 Commands (mod_commands.asciidoc; digest §5.6).

Roles (digest §5.8, the spec's module/role table): the Receiver (commands in) on CPO
nodes, the Sender (results in, on the ``response_url`` the node gives) on eMSP nodes.
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.commands import receiver, sender
from evroam.ocpi.v2_2_1.commands.client import CommandsClient

MODULE = Module(
    id=ModuleId.COMMANDS,
    sender=sender.router,
    receiver=receiver.router,
    client=CommandsClient(),
    sender_offered_by=frozenset({Role.EMSP}),
    receiver_offered_by=frozenset({Role.CPO}),
)
