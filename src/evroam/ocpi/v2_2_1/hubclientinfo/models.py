"""ClientInfo wire model."""

from __future__ import annotations

from enum import StrEnum

from evroam.ocpi.common.types import DateTime, WireModel
from evroam.ocpi.v2_2_1.credentials.models import CountryCode, PartyId, Role


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ClientInfo(WireModel):
    party_id: PartyId
    country_code: CountryCode
    role: Role
    status: ConnectionStatus
    last_updated: DateTime
