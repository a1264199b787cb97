"""HubClientInfo Receiver: a hub partner tells us about the parties it connects us to.

Only a partner holding the HUB role may PUT here; ClientInfo objects are never deleted
(the hub sets SUSPENDED instead), so there is no DELETE. An older PUT than what is
stored changes nothing (the newer ``last_updated`` wins).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.types import ClientInfo as CoreClientInfo
from evroam.core.types import ConnectionStatus, Role
from evroam.ocpi.common.deps import ContextDep, FullCallerDep, parse_body
from evroam.ocpi.common.errors import InvalidParameters, NotFound
from evroam.ocpi.common.http import ocpi_response
from evroam.ocpi.v2_2_1.hubclientinfo.convert import to_wire
from evroam.ocpi.v2_2_1.hubclientinfo.models import ClientInfo

router = APIRouter()


@router.get("/{country_code}/{party_id}", summary="A ClientInfo the hub pushed")
async def get_client_info(
    country_code: str, party_id: str, caller: FullCallerDep, ctx: ContextDep
) -> Response:
    info = await ctx.partners.client_info.get(caller.partner, country_code, party_id)
    if info is None:
        raise NotFound("no ClientInfo for that party")
    return ocpi_response(to_wire(info))


@router.put("/{country_code}/{party_id}", summary="Create or update a ClientInfo")
async def put_client_info(
    country_code: str, party_id: str, request: Request, caller: FullCallerDep, ctx: ContextDep
) -> Response:
    ctx.partners.client_info.require_hub(caller.partner)
    body = await parse_body(request, ClientInfo)
    if (body.country_code.upper(), body.party_id.upper()) != (
        country_code.upper(),
        party_id.upper(),
    ):
        raise InvalidParameters(
            f"URL party {country_code[:2]}-{party_id[:3]} differs from body party "
            f"{body.country_code}-{body.party_id}"
        )
    info = CoreClientInfo(
        country_code=body.country_code.upper(),
        party_id=body.party_id.upper(),
        role=Role(body.role.value),
        status=ConnectionStatus(body.status.value),
        last_updated=body.last_updated,
    )
    outcome = await ctx.partners.client_info.store(caller.partner, info)
    return ocpi_response(http_status=201 if outcome == "created" else 200)
