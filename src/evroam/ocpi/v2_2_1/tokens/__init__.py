"""OCPI 2.2.1 Tokens (mod_tokens.asciidoc; digest §5.5): the eMSP's RFID cards and app
users, not the credentials tokens.

Roles (digest §5.8): the eMSP offers the Sender (list and real-time authorization), the
CPO the Receiver; a HUB offers both.
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.tokens import receiver, sender
from evroam.ocpi.v2_2_1.tokens.client import TokensClient

MODULE = Module(
    id=ModuleId.TOKENS,
    sender=sender.router,
    receiver=receiver.router,
    client=TokensClient(),
    sender_offered_by=frozenset({Role.EMSP, Role.HUB}),
    receiver_offered_by=frozenset({Role.CPO, Role.HUB}),
)
