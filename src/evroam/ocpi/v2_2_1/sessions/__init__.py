"""OCPI 2.2.1 Sessions (mod_sessions.asciidoc), owned by the CPO.

Roles (digest §5.8, the spec's module/role table): the Sender on CPO (and HUB) nodes, the
Receiver on eMSP, SCSP (and HUB) nodes.
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.sessions import receiver, sender
from evroam.ocpi.v2_2_1.sessions.client import SessionsClient

MODULE = Module(
    id=ModuleId.SESSIONS,
    sender=sender.router,
    receiver=receiver.router,
    client=SessionsClient(),
    sender_offered_by=frozenset({Role.CPO, Role.HUB}),
    receiver_offered_by=frozenset({Role.EMSP, Role.SCSP, Role.HUB}),
)
