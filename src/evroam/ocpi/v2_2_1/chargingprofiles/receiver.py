"""ChargingProfiles Receiver (the CPO's interface, mod_charging_profiles §"Receiver
Interface", digest §5.7) on ``{url}/{session_id}``:

* ``GET ?duration=&response_url=``: the active profile, later an
  ActiveChargingProfileResult;
* ``PUT`` a SetChargingProfile: later a ChargingProfileResult;
* ``DELETE ?response_url=``: later a ClearProfileResult.

Each is answered at once with a ChargingProfileResponse (``services/chargingprofiles.py``
says which and why); the result follows, POSTed by the outbox to ``response_url``. A
malformed request (a bad profile, no ``duration``, no ``response_url``) or a
``response_url`` on a host the caller did not register is 2001 with nothing stored.
Every answer, refusals included, carries the routing headers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.backend import ProfileRequestType
from evroam.core.errors import DomainError, InvalidInput
from evroam.core.objects import Document
from evroam.ocpi.common.deps import ContextDep
from evroam.ocpi.common.errors import OcpiError, ServerError
from evroam.ocpi.common.functional import (
    TO_CC,
    TO_PID,
    FunctionalCallerDep,
    answer_routing,
    json_answer,
)
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.v2_2_1.chargingprofiles.convert import parse_duration, parse_set, response_json
from evroam.ocpi.v2_2_1.commands.receiver import header_party, refusal
from evroam.services.chargingprofiles import ChargingProfilesService

router = APIRouter()

#: mod_charging_profiles: session_id is string(36).
MAX_SESSION_ID = 36


def profiles_service(request: Request) -> ChargingProfilesService:
    """The node's service, put on the app's state at start-up (``web/app.py``)."""
    service = getattr(request.app.state, "chargingprofiles", None)
    if not isinstance(service, ChargingProfilesService):
        raise ServerError("charging profiles are not available on this node")
    return service


def _response_url(request: Request) -> str:
    url = request.query_params.get("response_url")
    if not url:
        raise InvalidInput("response_url: required query parameter")
    return url


async def _handle(
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
    request_type: ProfileRequestType,
    session_id: str,
) -> Response:
    routing = answer_routing(request, ctx, caller)
    try:
        if len(session_id) > MAX_SESSION_ID:
            raise InvalidInput(f"session_id: at most {MAX_SESSION_ID} characters")
        body: Document
        if request_type == ProfileRequestType.SET:
            body = parse_set(parse_json(await request.body()))
        elif request_type == ProfileRequestType.GET_ACTIVE:
            duration = parse_duration(request.query_params.get("duration"))
            body = {"duration": duration, "response_url": _response_url(request)}
        else:
            body = {"response_url": _response_url(request)}
        if len(str(body["response_url"])) > 255:
            raise InvalidInput("response_url: longer than the 255 characters allowed")
        reply = await profiles_service(request).receive(
            caller.partner,
            request_type,
            session_id,
            body,
            addressed=header_party(request, TO_CC, TO_PID),
        )
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)
    return json_answer(response_json(reply), headers=routing, message=reply.message)


@router.get("/{session_id}", summary="Ask for the active charging profile of a session")
async def get_active(
    session_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    return await _handle(request, caller, ctx, ProfileRequestType.GET_ACTIVE, session_id)


@router.put("/{session_id}", summary="Set a charging profile on a session")
async def put_profile(
    session_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    return await _handle(request, caller, ctx, ProfileRequestType.SET, session_id)


@router.delete("/{session_id}", summary="Clear the charging profile of a session")
async def delete_profile(
    session_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    return await _handle(request, caller, ctx, ProfileRequestType.CLEAR, session_id)
