"""OCPI 2.2.1 Tariffs (mod_tariffs.asciidoc; data owner CPO).

Who offers which interface follows the role table (digest §5.8): the Sender on CPO,
HUB and NAP nodes (the owners and the parties that pass tariffs on), the Receiver on
eMSP, HUB, NSP and NAP nodes (the parties that use tariffs).
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.tariffs import receiver, sender
from evroam.ocpi.v2_2_1.tariffs.client import CLIENT

MODULE = Module(
    id=ModuleId.TARIFFS,
    sender=sender.router,
    receiver=receiver.router,
    client=CLIENT,
    sender_offered_by=frozenset({Role.CPO, Role.HUB, Role.NAP}),
    receiver_offered_by=frozenset({Role.EMSP, Role.HUB, Role.NSP, Role.NAP}),
)
