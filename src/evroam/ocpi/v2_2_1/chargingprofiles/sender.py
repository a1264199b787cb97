"""ChargingProfiles Sender (the eMSP/SCSP's interface, mod_charging_profiles §"Sender
Interface", digest §5.7):

* ``POST {url}/{type}/{id}``: the result of a request this node sent, on the
  ``response_url`` it gave (``type`` GET_ACTIVE, SET or CLEAR says which result object
  to expect); only from the partner the request went to, once;
* ``PUT {url}/{session_id}``: an ActiveChargingProfile the CPO pushes for a session this
  node set a profile on; the latest is kept.

Both are answered with the envelope and no data. An unknown request, or one sent to
another partner, and a push for a session this node never set a profile on with that
partner, are HTTP 404 with 2001: a partner learns nothing of other partners' requests.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.callbacks import UnknownRequest
from evroam.core.errors import DomainError
from evroam.ocpi.common.deps import ContextDep
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import FunctionalCallerDep, answer_routing, json_answer
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.v2_2_1.chargingprofiles.convert import (
    parse_active,
    parse_request_type,
    parse_result,
)
from evroam.ocpi.v2_2_1.chargingprofiles.receiver import profiles_service
from evroam.ocpi.v2_2_1.commands.receiver import refusal

router = APIRouter()


@router.post("/{request_type}/{request_id}", summary="The result of a request this node sent")
async def post_result(
    request_type: str,
    request_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    routing = answer_routing(request, ctx, caller)
    try:
        kind = parse_request_type(request_type)
        doc = parse_result(kind, parse_json(await request.body()))
        await profiles_service(request).receive_result(caller.partner, kind, request_id, doc)
    except UnknownRequest:
        return json_answer(
            None, headers=routing, http_status=404, status=2001, message="unknown request"
        )
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)
    return json_answer(None, headers=routing)


@router.put("/{session_id}", summary="The CPO's active charging profile of a session")
async def put_active(
    session_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    routing = answer_routing(request, ctx, caller)
    try:
        doc = parse_active(parse_json(await request.body()))
        await profiles_service(request).receive_active(caller.partner, session_id, doc)
    except UnknownRequest:
        return json_answer(
            None, headers=routing, http_status=404, status=2001, message="unknown session"
        )
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)
    return json_answer(None, headers=routing)
