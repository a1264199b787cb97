"""Locations Sender (CPO, NAP, HUB): the node's own Locations for its partners
(mod_locations.asciidoc §"Sender Interface"): the paginated list, and one Location,
EVSE or Connector. Only what partners may see is served: ``publish`` true, or false with
a ``publish_allowed_to`` list (§"Location Object"; ``StoredObject.shared``).

The Sender URL names no party: the Location is looked up under the party the request's
``OCPI-to-*`` headers address, else under each of the node's own parties.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey, ObjectQuery
from evroam.core.types import ModuleId
from evroam.ocpi.common.auth import Caller
from evroam.ocpi.common.context import OcpiContext
from evroam.ocpi.common.deps import ContextDep
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import (
    TO_CC,
    TO_PID,
    FunctionalCallerDep,
    answer_routing,
    json_answer,
    page_answer,
    parse_list_query,
)
from evroam.services.locations import LocationPath, LocationsService

router = APIRouter()


@router.get("", summary="The node's Locations (paginated)")
async def list_locations(
    request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    headers = answer_routing(request, ctx, caller)
    try:
        page = parse_list_query(request, ctx)
    except OcpiError as exc:
        return json_answer(None, headers=headers, status=exc.status_code, message=exc.message)
    result = await LocationsService(ctx.partners.ctx).page(
        ObjectQuery(
            module=ModuleId.LOCATIONS,
            own=True,
            shared_only=True,
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            after_row=page.after,
            limit=page.limit,
        )
    )
    return page_answer(request, ctx, page, result, headers)


async def _get_one(
    request: Request,
    ctx: OcpiContext,
    caller: Caller,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> Response:
    h = request.headers
    parties = sorted(ctx.own_party_keys)
    addressed = (h.get(TO_CC, "").upper(), h.get(TO_PID, "").upper())
    if addressed in ctx.own_party_keys:
        parties = [addressed]
    service = LocationsService(ctx.partners.ctx)
    for cc, pid in parties:
        path = LocationPath(ObjectKey(cc, pid, location_id), evse_uid, connector_id)
        text = await service.get(path, partner_id=None, own=True, shared_only=True)
        if text is not None:
            return json_answer(text, headers=answer_routing(request, ctx, caller))
    return json_answer(
        None,
        headers=answer_routing(request, ctx, caller),
        http_status=404,
        status=2003,
        message="unknown Location" if evse_uid is None else "unknown Location, EVSE or Connector",
    )


@router.get("/{location_id}", summary="One Location")
async def get_location(
    location_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    return await _get_one(request, ctx, caller, location_id)


@router.get("/{location_id}/{evse_uid}", summary="One EVSE")
async def get_evse(
    location_id: str, evse_uid: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    return await _get_one(request, ctx, caller, location_id, evse_uid)


@router.get("/{location_id}/{evse_uid}/{connector_id}", summary="One Connector")
async def get_connector(
    location_id: str,
    evse_uid: str,
    connector_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    return await _get_one(request, ctx, caller, location_id, evse_uid, connector_id)
