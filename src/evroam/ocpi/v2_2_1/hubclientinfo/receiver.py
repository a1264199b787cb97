"""HubClientInfo Receiver: a hub partner tells us about the parties it connects us to.

Only a partner holding the HUB role may PUT here; ClientInfo objects are never deleted
(the hub sets SUSPENDED instead), so there is no DELETE.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from evroam.core.types import ClientInfo as CoreClientInfo
from evroam.core.types import ConnectionStatus, Role
from evroam.ocpi.common.errors import InvalidParameters, NotFound
from evroam.ocpi.common.http import ocpi_response
from evroam.ocpi.v2_2_1.credentials.models import Role as WireRole
from evroam.ocpi.v2_2_1.hubclientinfo.models import ClientInfo
from evroam.ocpi.v2_2_1.hubclientinfo.models import ConnectionStatus as WireStatus
from evroam.web.auth import Caller
from evroam.web.deps import FullCallerDep, NodeDep, parse_body

router = APIRouter()


def _require_hub(caller: Caller) -> None:
    if not any(p.role == Role.HUB for p in caller.partner.roles):
        raise InvalidParameters("only a partner with the HUB role may push ClientInfo")


def to_wire(info: CoreClientInfo) -> dict[str, Any]:
    return ClientInfo(
        party_id=info.party_id,
        country_code=info.country_code,
        role=WireRole(info.role.value),
        status=WireStatus(info.status.value),
        last_updated=info.last_updated,
    ).model_dump(mode="json")


@router.get("/{country_code}/{party_id}", summary="A ClientInfo the hub pushed")
async def get_client_info(
    country_code: str, party_id: str, caller: FullCallerDep, node: NodeDep
) -> Any:
    _require_hub(caller)
    async with node.uow() as uow:
        info = await uow.client_infos.get(caller.partner.id, country_code, party_id)
    if info is None:
        raise NotFound(f"no ClientInfo for {country_code}-{party_id}")
    return ocpi_response(to_wire(info))


@router.put("/{country_code}/{party_id}", summary="Create or update a ClientInfo")
async def put_client_info(
    country_code: str, party_id: str, request: Request, caller: FullCallerDep, node: NodeDep
) -> Any:
    _require_hub(caller)
    body = await parse_body(request, ClientInfo)
    if (body.country_code.upper(), body.party_id.upper()) != (
        country_code.upper(),
        party_id.upper(),
    ):
        raise InvalidParameters(
            f"URL party {country_code}-{party_id} differs from body party "
            f"{body.country_code}-{body.party_id}"
        )
    info = CoreClientInfo(
        country_code=body.country_code.upper(),
        party_id=body.party_id.upper(),
        role=Role(body.role.value),
        status=ConnectionStatus(body.status.value),
        last_updated=body.last_updated,
    )
    async with node.uow() as uow:
        created = await uow.client_infos.upsert(caller.partner.id, info)
        await uow.commit()
    return ocpi_response(http_status=201 if created else 200)
