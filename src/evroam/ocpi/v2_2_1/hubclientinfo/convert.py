"""ClientInfo core <-> 2.2.1 wire."""

from __future__ import annotations

from typing import Any

from evroam.core.types import ClientInfo as CoreClientInfo
from evroam.ocpi.v2_2_1.credentials.models import Role as WireRole
from evroam.ocpi.v2_2_1.hubclientinfo.models import ClientInfo
from evroam.ocpi.v2_2_1.hubclientinfo.models import ConnectionStatus as WireStatus


def to_wire(info: CoreClientInfo) -> dict[str, Any]:
    return ClientInfo(
        party_id=info.party_id,
        country_code=info.country_code,
        role=WireRole(info.role.value),
        status=WireStatus(info.status.value),
        last_updated=info.last_updated,
    ).model_dump(mode="json")
