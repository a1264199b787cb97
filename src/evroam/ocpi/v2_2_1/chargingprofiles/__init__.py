"""OCPI 2.2.1 ChargingProfiles (mod_charging_profiles.asciidoc; digest §5.7).

Roles (digest §5.8, the spec's module/role table): the Receiver (requests in) on CPO
nodes; the Sender (results on the ``response_url`` the node gives, and the CPO's
ActiveChargingProfile pushes) on eMSP nodes, as the SCSP's would be.
"""

from __future__ import annotations

from evroam.core.types import ModuleId, Role
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.chargingprofiles import receiver, sender
from evroam.ocpi.v2_2_1.chargingprofiles.client import ChargingProfilesClient

MODULE = Module(
    id=ModuleId.CHARGING_PROFILES,
    sender=sender.router,
    receiver=receiver.router,
    client=ChargingProfilesClient(),
    sender_offered_by=frozenset({Role.EMSP, Role.SCSP}),
    receiver_offered_by=frozenset({Role.CPO}),
)
