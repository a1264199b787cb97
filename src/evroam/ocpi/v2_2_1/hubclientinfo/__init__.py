"""OCPI 2.2.1 HubClientInfo (mod_hub_client_info.asciidoc): which parties a hub reaches.

Every node offers the Receiver (a hub may tell it about parties); only a HUB node offers
the Sender.
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.hubclientinfo import receiver, sender

MODULE = Module(
    id=ModuleId.HUB_CLIENT_INFO,
    sender=sender.router,
    receiver=receiver.router,
    sender_offered_by=frozenset({Role.HUB}),
)
