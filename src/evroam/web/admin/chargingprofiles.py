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

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from evroam.core.backend import ProfileRequestType
from evroam.core.callbacks import ReceivedRequest, ReceivedState, SentRequest, SentState
from evroam.core.errors import InvalidInput
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.common.timeutil import format_datetime
from evroam.ocpi.v2_2_1.chargingprofiles.convert import parse_profile
from evroam.services.chargingprofiles import ChargingProfilesService
from evroam.web.admin.commands import DIRECTIONS, received_out, sent_out
from evroam.web.admin.errors import api_error

router = APIRouter(prefix="/chargingprofiles", tags=["chargingprofiles"])

_PARTY = re.compile(r"([A-Za-z]{2})[-*]([A-Za-z0-9]{3})")
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


def _party(raw: object) -> tuple[str, str] | None:
    if raw is None or raw == "":
        return None
    found = _PARTY.fullmatch(str(raw).strip())
    if found is None:
        raise InvalidInput("party: the CPO party as CC-PID (e.g. NL-CPO)")
    return (found.group(1), found.group(2))


def _sent(sent: SentRequest) -> Response:
    return JSONResponse(sent_out(sent, documents=True), status_code=201)


@router.get("", summary="Charging profile requests sent and received, newest first")
async def list_requests(
    request: Request,
    direction: Annotated[str | None, Query(description="sent or received")] = None,
    state: Annotated[list[str] | None, Query(description="Only these states (repeat)")] = None,
    session: Annotated[str | None, Query(description="Only this session's")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    service = _service(request)
    if direction is not None and direction not in DIRECTIONS:
        return api_error(422, "InvalidInput", "direction: sent or received")
    wanted = [s.upper() for s in state or []]
    sent_states = [SentState(s) for s in wanted if s in SentState.__members__]
    received_states = [ReceivedState(s) for s in wanted if s in ReceivedState.__members__]
    unknown = [s for s in wanted if s not in SentState.__members__ | ReceivedState.__members__]
    if unknown:
        return api_error(422, "InvalidInput", f"state: unknown {', '.join(unknown)}")
    found: list[SentRequest | ReceivedRequest] = []
    if direction in (None, "sent") and (not wanted or sent_states):
        found += await service.list_sent(sent_states, limit, session)
    if direction in (None, "received") and (not wanted or received_states):
        found += await service.list_received(received_states, limit, session)
    found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return JSONResponse(
        [sent_out(r) if isinstance(r, SentRequest) else received_out(r) for r in found[:limit]]
    )


@router.get("/requests/{request_id}", summary="One request, sent or received, with documents")
async def get_request(request_id: str, request: Request) -> Response:
    found = await _service(request).get(request_id)
    if found is None:
        return api_error(404, "NotFound", "unknown charging profile request")
    if isinstance(found, SentRequest):
        return JSONResponse(sent_out(found, documents=True))
    return JSONResponse(received_out(found, documents=True))


@router.get("/{session_id}/active", summary="The latest active profile a CPO pushed")
async def get_kept_active(session_id: str, request: Request, party: PartyQuery = None) -> Response:
    kept = await _service(request).active_profile(session_id, _party(party))
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
        ProfileRequestType.SET, session_id, party=_party(data.get("party")), profile=profile
    )
    return _sent(sent)


@router.get("/{session_id}", summary="Ask the CPO for the active profile of a session")
async def ask_active(
    session_id: str,
    request: Request,
    duration: Annotated[int, Query(ge=1, le=MAX_DURATION)] = DEFAULT_DURATION,
    party: PartyQuery = None,
) -> Response:
    sent = await _service(request).send(
        ProfileRequestType.GET_ACTIVE, session_id, party=_party(party), duration=duration
    )
    return _sent(sent)


@router.delete("/{session_id}", summary="Clear the charging profile of a session")
async def clear_profile(session_id: str, request: Request, party: PartyQuery = None) -> Response:
    sent = await _service(request).send(ProfileRequestType.CLEAR, session_id, party=_party(party))
    return _sent(sent)
