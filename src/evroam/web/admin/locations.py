"""Operator API for Locations (issue 7 "The node's own data, in and out"): the node's
own Locations, EVSEs and Connectors are written on the Receiver's paths
(``PUT|PATCH /locations/{cc}/{pid}/{location_id}[/{evse_uid}[/{connector_id}]]``), and
the same GET paths and ``GET /locations?party=CC-PID&own=true|false`` read both own
Locations and those partners sent. Answers are OCPI envelopes, as on the Receiver, so
what an operator loads and reads looks exactly like what partners exchange.

A write for a party that is not one of the node's own is refused (2001, HTTP 400); an
EVSE or Connector under an unknown Location, or a PATCH of an unknown object, is 2003
with HTTP 404. One service call per change: issue 8's outbox joins its transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.errors import InvalidInput
from evroam.core.types import ModuleId
from evroam.ocpi.common.deps import parse_body
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.v2_2_1.locations import convert
from evroam.ocpi.v2_2_1.locations.models import Location
from evroam.ocpi.v2_2_1.locations.receiver import (
    PATCH_MODELS,
    PUT_MODELS,
    add_level_routes,
    location_path,
    outcome_answer,
)
from evroam.services.locations import LocationPath, LocationsService
from evroam.web.admin.batch import batch_answer
from evroam.web.admin.context import AdminContext, AdminDep
from evroam.web.admin.pages import list_answer

router = APIRouter(prefix="/locations", tags=["locations"])


async def _answer(action: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await action()
    except InvalidInput as exc:
        return json_answer(None, http_status=400, status=2001, message=str(exc))
    except OcpiError as exc:
        http = exc.http_status if exc.http_status != 200 else 400
        return json_answer(None, http_status=http, status=exc.status_code, message=exc.message)


@router.get("", summary="A page of own (own=true) or received (own=false) Locations")
async def list_locations(request: Request, ctx: AdminDep) -> Response:
    return await list_answer(
        request, ctx, ModuleId.LOCATIONS, LocationsService(ctx.partners.ctx).page
    )


async def _get(request: Request, ctx: AdminContext, path: LocationPath) -> Response:
    async def action() -> Response:
        text = await LocationsService(ctx.partners.ctx).get(
            path, partner_id=None, own=None, shared_only=False
        )
        if text is None:
            return json_answer(None, http_status=404, status=2003, message="unknown object")
        return json_answer(text)

    return await _answer(action)


async def _put(request: Request, ctx: AdminContext, path: LocationPath) -> Response:
    async def action() -> Response:
        body = convert.to_document(await parse_body(request, PUT_MODELS[path.level]))
        outcome = await LocationsService(ctx.partners.ctx).put_own(path, body)
        return outcome_answer(outcome, path, {})

    return await _answer(action)


async def _patch(request: Request, ctx: AdminContext, path: LocationPath) -> Response:
    async def action() -> Response:
        model, merge = PATCH_MODELS[path.level]
        patch = convert.to_document(await parse_body(request, model))
        outcome = await LocationsService(ctx.partners.ctx).patch_own(path, patch, merge)
        return outcome_answer(outcome, path, {})

    return await _answer(action)


@router.post("/batch", summary="Create or replace many of the node's Locations at once")
async def put_locations_batch(request: Request, ctx: AdminDep) -> Response:
    """A JSON list of whole Locations, each stored as ``PUT`` of its own path would
    store it (``web/admin/batch.py``)."""
    service = LocationsService(ctx.partners.ctx)

    async def store(raw: Any) -> str:
        model = Location.model_validate(raw)
        path = location_path(model.country_code, model.party_id, model.id)
        return await service.put_own(path, convert.to_document(model))

    return await batch_answer(request, "Locations", store)


Action = Callable[[Request, AdminContext, LocationPath], Awaitable[Response]]


def _endpoints(action: Action) -> tuple[Callable[..., Awaitable[Response]], ...]:
    """The route functions of one action at the three levels (FastAPI reads each one's
    parameters from its signature)."""

    async def location(
        country_code: str, party_id: str, location_id: str, request: Request, ctx: AdminDep
    ) -> Response:
        return await action(request, ctx, location_path(country_code, party_id, location_id))

    async def evse(
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str,
        request: Request,
        ctx: AdminDep,
    ) -> Response:
        path = location_path(country_code, party_id, location_id, evse_uid)
        return await action(request, ctx, path)

    async def connector(
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str,
        connector_id: str,
        request: Request,
        ctx: AdminDep,
    ) -> Response:
        path = location_path(country_code, party_id, location_id, evse_uid, connector_id)
        return await action(request, ctx, path)

    return location, evse, connector


_ROUTES: tuple[tuple[str, Action, tuple[str, str, str]], ...] = (
    (
        "GET",
        _get,
        (
            "A Location (own or received)",
            "An EVSE (own or received)",
            "A Connector (own or received)",
        ),
    ),
    (
        "PUT",
        _put,
        (
            "Create or replace one of the node's Locations",
            "Create or replace an EVSE of one of the node's Locations",
            "Create or replace a Connector of one of the node's EVSEs",
        ),
    ),
    (
        "PATCH",
        _patch,
        (
            "Update part of one of the node's Locations",
            "Update part of one of the node's EVSEs (e.g. its status)",
            "Update part of one of the node's Connectors",
        ),
    ),
)

add_level_routes(router, _endpoints, _ROUTES)
