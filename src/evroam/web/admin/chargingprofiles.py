"""Operator API of ChargingProfiles (issue 10): an eMSP (or SCSP) operator sets, reads and
clears the charging profile of a session at the CPO holding it, and follows the
requests; both sides list what was sent and received.

* ``POST /chargingprofiles/{session_id}`` ``{"charging_profile": {...}, "party"?}``: SET.
* ``GET /chargingprofiles/{session_id}?duration=&party=``: ask for the active profile
  (GET_ACTIVE; ``duration`` in seconds, default 900).
* ``DELETE /chargingprofiles/{session_id}?party=``: CLEAR.

Each sends the request at once and answers (201) the kept request with the CPO's
ChargingProfileResponse (or ``error`` when the CPO could not be used); the result comes
later (``GET /chargingprofiles/requests/{id}``). ``party`` (``CC-PID``) names the CPO;
without it, the CPO whose session this node holds under that id.

``GET /chargingprofiles?direction=sent|received&state=&session=&limit=`` lists the
requests newest first, in the shape of the commands' listing; ``GET
/chargingprofiles/{session_id}/active`` shows the latest ActiveChargingProfile a CPO
pushed for the session. Refusals are ``{"error", "detail"}`` (``errors.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from evroam.core.backend import ProfileRequestType
from evroam.core.errors import InvalidInput
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.common.timeutil import format_datetime
from evroam.ocpi.v2_2_1.chargingprofiles.convert import parse_profile
from evroam.services.chargingprofiles import ChargingProfilesService
from evroam.web.admin.errors import api_error
from evroam.web.admin.requests import list_response, one_response, parse_party, sent_response

router = APIRouter(prefix="/chargingprofiles", tags=["chargingprofiles"])

#: Seconds of schedule asked for when the operator names none (the spec advises half
#: an hour to an hour at most).
DEFAULT_DURATION = 900
MAX_DURATION = 86_400

PartyQuery = Annotated[
    str | None, Query(description="The CPO party, CC-PID (default: the session's CPO)")
]


def _service(request: Request) -> ChargingProfilesService:
    service = getattr(request.app.state, "chargingprofiles", None)
    if not isinstance(service, ChargingProfilesService):  # only before start-up completed
        raise RuntimeError("the charging profiles service is not ready")
    return service


@router.get("", summary="Charging profile requests sent and received, newest first")
async def list_requests(
    request: Request,
    direction: Annotated[str | None, Query(description="sent or received")] = None,
    state: Annotated[list[str] | None, Query(description="Only these states (repeat)")] = None,
    session: Annotated[str | None, Query(description="Only this session's")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    return await list_response(_service(request), direction, state, limit, session)


@router.get("/requests/{request_id}", summary="One request, sent or received, with documents")
async def get_request(request_id: str, request: Request) -> Response:
    return await one_response(_service(request), request_id, "unknown charging profile request")


@router.get("/{session_id}/active", summary="The latest active profile a CPO pushed")
async def get_kept_active(session_id: str, request: Request, party: PartyQuery = None) -> Response:
    kept = await _service(request).active_profile(session_id, parse_party(party))
    if kept is None:
        return api_error(404, "NotFound", "no active charging profile pushed for this session")
    return JSONResponse(
        {
            "party": f"{kept.party[0]}-{kept.party[1]}",
            "session_id": kept.session_id,
            "active_profile": kept.document,
            "received_at": format_datetime(kept.received_at),
        }
    )


@router.post("/{session_id}", summary="Set a charging profile on a session", status_code=201)
async def set_profile(session_id: str, request: Request) -> Response:
    data = parse_json(await request.body())
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object with charging_profile (and party)")
    profile = parse_profile(data.get("charging_profile"))
    sent = await _service(request).send(
        ProfileRequestType.SET, session_id, party=parse_party(data.get("party")), profile=profile
    )
    return sent_response(sent)


@router.get("/{session_id}", summary="Ask the CPO for the active profile of a session")
async def ask_active(
    session_id: str,
    request: Request,
    duration: Annotated[int, Query(ge=1, le=MAX_DURATION)] = DEFAULT_DURATION,
    party: PartyQuery = None,
) -> Response:
    sent = await _service(request).send(
        ProfileRequestType.GET_ACTIVE, session_id, party=parse_party(party), duration=duration
    )
    return sent_response(sent)


@router.delete("/{session_id}", summary="Clear the charging profile of a session")
async def clear_profile(session_id: str, request: Request, party: PartyQuery = None) -> Response:
    sent = await _service(request).send(
        ProfileRequestType.CLEAR, session_id, party=parse_party(party)
    )
    return sent_response(sent)
