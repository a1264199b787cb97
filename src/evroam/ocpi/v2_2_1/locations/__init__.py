"""OCPI 2.2.1 Locations (mod_locations.asciidoc): Locations, EVSEs and Connectors.

Who offers which interface follows the role table (digest §5.8): the Sender on CPO, NAP
and HUB nodes, the Receiver on eMSP, NSP, NAP and HUB nodes.
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.locations import receiver, sender
from evroam.ocpi.v2_2_1.locations.client import LocationsClient

MODULE = Module(
    id=ModuleId.LOCATIONS,
    sender=sender.router,
    receiver=receiver.router,
    client=LocationsClient(),
    sender_offered_by=frozenset({Role.CPO, Role.NAP, Role.HUB}),
    receiver_offered_by=frozenset({Role.EMSP, Role.NSP, Role.NAP, Role.HUB}),
)
