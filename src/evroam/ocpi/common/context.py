"""What the OCPI routes of every version reach: the node's settings, its partner use
cases and the authenticator. Built by ``web/app.py`` at start-up and kept on the OCPI
app's state; typed on services and ports, never on storage or HTTP classes."""

from __future__ import annotations

from dataclasses import dataclass

from evroam.config import Settings
from evroam.ocpi.common.auth import Authenticator
from evroam.services.partner_services import PartnerServices


@dataclass(frozen=True, slots=True)
class OcpiContext:
    settings: Settings
    partners: PartnerServices
    auth: Authenticator

    @property
    def own_party_keys(self) -> set[tuple[str, str]]:
        return {p.key for p in self.partners.ctx.own_parties}
