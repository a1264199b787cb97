"""Sessions Sender (the CPO's interface, mod_sessions §"CPO Interface").

``GET {url}``: the node's own sessions, paginated on ``last_updated``. The spec's
parameter table marks ``date_from`` as required for this list (digest §1.7, §7.8); the
transport's pagination (transport_and_format §"Paginated Request") calls every filter
optional and many eMSPs fetch without it on their first sync, so evroam tolerates its
absence and serves from the beginning (DESIGN "Tolerance"), while its own client always
sends it. A partner is served only the sessions whose cdr_token it issued (``audience``).

``PUT {url}/{session_id}/charging_preferences``: the driver's ChargingPreferences, answered
with a ChargingPreferencesResponse. An unknown session, and an EVSE without
CHARGING_PREFERENCES_CAPABLE, are answered HTTP 404 with OCPI 2001, as 2.2.1 says
(mod_sessions §ChargingPreferencesResponse, digest §5.2).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectQuery
from evroam.core.types import ModuleId, Partner, Role
from evroam.ocpi.common.deps import ContextDep, parse_body
from evroam.ocpi.common.functional import (
    FunctionalCallerDep,
    answer_routing,
    json_answer,
    page_answer,
    parse_list_query,
)
from evroam.ocpi.v2_2_1.sessions.convert import to_document
from evroam.ocpi.v2_2_1.sessions.models import ChargingPreferences
from evroam.services.sessions import SessionsService

router = APIRouter()


def audience(partner: Partner) -> frozenset[str] | None:
    """A partner reads only the sessions of its own tokens; a HUB reads all (it serves
    every eMSP behind it)."""
    if any(p.role == Role.HUB for p in partner.roles):
        return None
    return frozenset(f"{c}-{p}" for c, p in partner.party_keys)


@router.get("", summary="The node's sessions (paginated; date_from tolerated absent)")
async def list_sessions(request: Request, caller: FunctionalCallerDep, ctx: ContextDep) -> Response:
    page = parse_list_query(request, ctx)
    result = await SessionsService(ctx.partners.ctx).page(
        ObjectQuery(
            module=ModuleId.SESSIONS,
            own=True,
            shared_only=True,
            audience=audience(caller.partner),
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            after_row=page.after,
            limit=page.limit,
        )
    )
    return page_answer(request, ctx, page, result, answer_routing(request, ctx, caller))


@router.put(
    "/{session_id}/charging_preferences",
    summary="Set the driver's Charging Preferences for an ongoing session",
)
async def put_charging_preferences(
    session_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    headers = answer_routing(request, ctx, caller)
    body = await parse_body(request, ChargingPreferences)
    outcome = await SessionsService(ctx.partners.ctx).set_charging_preferences(
        caller.partner, session_id, to_document(body)
    )
    if not outcome.found:
        return json_answer(
            None, headers=headers, http_status=404, status=2001, message=outcome.reason
        )
    return json_answer(json.dumps(outcome.response), headers=headers)
