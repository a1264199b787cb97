"""OCPI 2.2.1 CDRs (mod_cdrs.asciidoc): charge detail records, owned by the CPO.

Role table (digest §5.8, the spec's "Typical OCPI implementation per Role"): the CPO
offers the Sender, the eMSP the Receiver, a HUB both.
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.cdrs import receiver, sender
from evroam.ocpi.v2_2_1.cdrs.client import CdrsClient221

MODULE = Module(
    id=ModuleId.CDRS,
    sender=sender.router,
    receiver=receiver.router,
    client=CdrsClient221(),
    sender_offered_by=frozenset({Role.CPO, Role.HUB}),
    receiver_offered_by=frozenset({Role.EMSP, Role.HUB}),
)
