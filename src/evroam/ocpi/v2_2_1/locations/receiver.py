"""Locations Receiver (eMSP, NSP, NAP, HUB): what a CPO partner pushes, at
``{url}/{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]``
(mod_locations.asciidoc §"Receiver Interface"): GET, PUT and PATCH at every level, the
body type being the URL's level; no POST, no DELETE (an EVSE is removed by status).

Each route makes exactly one service call; every answer, refusals included, carries the
swapped routing headers (transport_and_format §"Routing headers", digest §1.6).
Outcomes: stale (older than stored) is 1000 and keeps the newer; an unknown Location
(or EVSE) under a PUT of a child, or a PATCH of an unknown object, is HTTP 404 with
2003 Unknown Location (status_codes §2003; transport_and_format §"PATCH": the sender
then GETs and PUTs the whole object).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from evroam.core.errors import InvalidInput
from evroam.core.objects import ObjectKey
from evroam.ocpi.common.auth import Caller
from evroam.ocpi.common.context import OcpiContext
from evroam.ocpi.common.deps import ContextDep, parse_body
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import FunctionalCallerDep, answer_routing, json_answer
from evroam.ocpi.v2_2_1.locations import convert
from evroam.ocpi.v2_2_1.locations.models import (
    EVSE,
    Connector,
    ConnectorPatch,
    EVSEPatch,
    Location,
    LocationPatch,
)
from evroam.services.locations import (
    LocationPath,
    LocationsService,
    Merger,
    Outcome,
    merge_fields,
)

router = APIRouter()

PUT_MODELS: dict[str, type[BaseModel]] = {
    "Location": Location,
    "EVSE": EVSE,
    "Connector": Connector,
}
#: The PATCH body's model per level, and how a checked body merges into the stored
#: object (``services/locations.py`` ``Merger``).
PATCH_MODELS: dict[str, tuple[type[BaseModel], Merger]] = {
    "Location": (LocationPatch, convert.merge_location),
    "EVSE": (EVSEPatch, merge_fields),
    "Connector": (ConnectorPatch, merge_fields),
}


def location_path(
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> LocationPath:
    return LocationPath(ObjectKey(country_code, party_id, location_id), evse_uid, connector_id)


def outcome_answer(outcome: Outcome, path: LocationPath, headers: dict[str, str]) -> Response:
    """A write's answer: 1000 (stale ones say that the newer was kept), or 2003/404."""
    if outcome == "unknown":
        what = "Location" if path.level != "Connector" else "Location or EVSE"
        return json_answer(
            None,
            headers=headers,
            http_status=404,
            status=2003,
            message=f"unknown {what} {path.key.label}"
            + (f"/{path.evse_uid}" if path.evse_uid else "")
            + (f"/{path.connector_id}" if path.connector_id else ""),
        )
    if outcome == "stale":
        return json_answer(
            None,
            headers=headers,
            message=f"{path.level}: last_updated is older than the stored one; kept the newer",
        )
    return json_answer(None, headers=headers)


async def _answer(
    request: Request,
    ctx: OcpiContext,
    caller: Caller,
    path: LocationPath,
    action: Callable[[dict[str, str]], Awaitable[Response]],
) -> Response:
    """Run the route's action; refusals become envelopes that keep the routing headers."""
    headers = answer_routing(request, ctx, caller, path.key.party)
    try:
        return await action(headers)
    except InvalidInput as exc:
        return json_answer(None, headers=headers, status=2001, message=str(exc))
    except OcpiError as exc:
        return json_answer(
            None,
            headers=headers,
            http_status=exc.http_status,
            status=exc.status_code,
            message=exc.message,
        )


async def _get(request: Request, ctx: OcpiContext, caller: Caller, path: LocationPath) -> Response:
    async def action(headers: dict[str, str]) -> Response:
        text = await LocationsService(ctx.partners.ctx).get(
            path, partner_id=caller.partner.id, own=False, shared_only=False
        )
        if text is None:
            return json_answer(
                None, headers=headers, http_status=404, status=2003, message="unknown object"
            )
        return json_answer(text, headers=headers)

    return await _answer(request, ctx, caller, path, action)


async def _put(request: Request, ctx: OcpiContext, caller: Caller, path: LocationPath) -> Response:
    async def action(headers: dict[str, str]) -> Response:
        body = convert.to_document(await parse_body(request, PUT_MODELS[path.level]))
        outcome = await LocationsService(ctx.partners.ctx).receive_put(caller.partner, path, body)
        return outcome_answer(outcome, path, headers)

    return await _answer(request, ctx, caller, path, action)


async def _patch(
    request: Request, ctx: OcpiContext, caller: Caller, path: LocationPath
) -> Response:
    async def action(headers: dict[str, str]) -> Response:
        model, merge = PATCH_MODELS[path.level]
        patch = convert.to_document(await parse_body(request, model))
        outcome = await LocationsService(ctx.partners.ctx).receive_patch(
            caller.partner, path, patch, merge
        )
        return outcome_answer(outcome, path, headers)

    return await _answer(request, ctx, caller, path, action)


LOC = "/{country_code}/{party_id}/{location_id}"
EVSE_PATH = LOC + "/{evse_uid}"
CONN = EVSE_PATH + "/{connector_id}"

Action = Callable[[Request, OcpiContext, Caller, LocationPath], Awaitable[Response]]


def _endpoints(action: Action) -> tuple[Callable[..., Awaitable[Response]], ...]:
    """The route functions of one action at the three levels: FastAPI (and the fast
    lane) read each one's parameters from its signature, so each level has its own."""

    async def location(
        country_code: str,
        party_id: str,
        location_id: str,
        request: Request,
        caller: FunctionalCallerDep,
        ctx: ContextDep,
    ) -> Response:
        return await action(
            request, ctx, caller, location_path(country_code, party_id, location_id)
        )

    async def evse(
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str,
        request: Request,
        caller: FunctionalCallerDep,
        ctx: ContextDep,
    ) -> Response:
        path = location_path(country_code, party_id, location_id, evse_uid)
        return await action(request, ctx, caller, path)

    async def connector(
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str,
        connector_id: str,
        request: Request,
        caller: FunctionalCallerDep,
        ctx: ContextDep,
    ) -> Response:
        path = location_path(country_code, party_id, location_id, evse_uid, connector_id)
        return await action(request, ctx, caller, path)

    return location, evse, connector


_ROUTES: tuple[tuple[str, Action, tuple[str, str, str]], ...] = (
    (
        "GET",
        _get,
        ("A Location as stored here", "An EVSE as stored here", "A Connector as stored here"),
    ),
    (
        "PUT",
        _put,
        (
            "Create or replace a Location",
            "Create or replace an EVSE of a known Location",
            "Create or replace a Connector of a known EVSE",
        ),
    ),
    (
        "PATCH",
        _patch,
        (
            "Update part of a Location",
            "Update part of an EVSE (e.g. its status)",
            "Update part of a Connector",
        ),
    ),
)


def add_level_routes(
    target: APIRouter,
    endpoints: Callable[[Any], tuple[Callable[..., Awaitable[Response]], ...]],
    table: tuple[tuple[str, Any, tuple[str, str, str]], ...],
) -> None:
    """Register, for each (method, action, summaries) of ``table``, the action's route
    functions at the Location, EVSE and Connector paths (also used by the operator API,
    whose paths are the same)."""
    for method, action, summaries in table:
        for path, endpoint, summary in zip(
            (LOC, EVSE_PATH, CONN), endpoints(action), summaries, strict=True
        ):
            name = f"{method.lower()}_{endpoint.__name__}"
            target.add_api_route(path, endpoint, methods=[method], summary=summary, name=name)


add_level_routes(router, _endpoints, _ROUTES)
