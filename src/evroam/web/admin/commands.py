"""Operator API of Commands (issue 10): the eMSP operator sends commands to a CPO
partner and follows them; both sides list what was sent and received.

``POST /commands/{command}`` (START_SESSION, STOP_SESSION, RESERVE_NOW,
CANCEL_RESERVATION, UNLOCK_CONNECTOR; any case) takes the CPO ``party`` (``CC-PID``)
and the command's fields as OCPI names them, without ``response_url`` (the node sets
its own, unique per command). A token is given whole (``token``) or as one of the
node's own tokens (``token_uid``, ``token_type`` default RFID). The fields are checked
against the OCPI model before anything is sent. The answer (201) is the kept command
with the CPO's CommandResponse, or with ``error`` when the CPO could not be used.

``GET /commands?direction=sent|received&state=...&limit=`` lists newest first;
``GET /commands/{id}`` shows one with its request and result documents. Answers are
plain JSON; refusals ``{"error", "detail"}`` (``errors.py``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from evroam.core.callbacks import ReceivedRequest, ReceivedState, SentRequest, SentState
from evroam.core.errors import InvalidInput
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.common.timeutil import format_datetime
from evroam.ocpi.v2_2_1.commands.convert import parse_command_type, parse_request
from evroam.services.commands import CommandsService
from evroam.web.admin.errors import api_error

router = APIRouter(prefix="/commands", tags=["commands"])

_PARTY = re.compile(r"([A-Za-z]{2})[-*]([A-Za-z0-9]{3})")
#: A syntactically valid response_url for checking the fields; the node sets its own.
_PLACEHOLDER = "https://placeholder.invalid/response"
DIRECTIONS = ("sent", "received")


def _service(request: Request) -> CommandsService:
    service = getattr(request.app.state, "commands", None)
    if not isinstance(service, CommandsService):  # only before start-up completed
        raise RuntimeError("the commands service is not ready")
    return service


def _time(value: Any) -> str | None:
    return format_datetime(value) if value is not None else None


def _message(doc: dict[str, Any] | None) -> str | None:
    texts = doc.get("message") if doc else None
    if isinstance(texts, list):
        return " / ".join(str(t.get("text", "")) for t in texts if isinstance(t, dict)) or None
    return None


def sent_out(r: SentRequest, *, documents: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "direction": "sent",
        "type": r.type,
        "state": r.state.value,
        "partner_id": r.partner_id,
        "party": r.party,
        "sender": r.sender,
        "session_id": r.session_id,
        "response": r.response,
        "timeout": r.timeout,
        "response_message": r.response_message,
        "result": r.result,
        "result_message": _message(r.result_body),
        "error": r.error,
        "created_at": _time(r.created_at),
        "responded_at": _time(r.responded_at),
        "result_at": _time(r.result_at),
        "expires_at": _time(r.expires_at),
    }
    if documents:
        out["request"] = r.body
        out["result_document"] = r.result_body
    return out


def received_out(r: ReceivedRequest, *, documents: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "direction": "received",
        "type": r.type,
        "state": r.state.value,
        "partner_id": r.partner_id,
        "party": r.party,
        "requester": r.requester,
        "session_id": r.session_id,
        "result": r.result,
        "result_message": r.message,
        "late_result": r.late_result,
        "created_at": _time(r.created_at),
        "timeout_at": _time(r.timeout_at),
        "result_at": _time(r.result_at),
        "late_result_at": _time(r.late_result_at),
    }
    if documents:
        out["request"] = r.body
        out["result_document"] = r.result_body
    return out


@router.post("/{command}", summary="Send a command to a CPO partner", status_code=201)
async def send_command(command: str, request: Request) -> Response:
    service = _service(request)
    command_type = parse_command_type(command.upper())
    data = parse_json(await request.body())
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object with party and the command's fields")
    fields = dict(data)
    party = _PARTY.fullmatch(str(fields.pop("party", "")).strip())
    if party is None:
        raise InvalidInput("party: the CPO party as CC-PID (e.g. NL-CPO)")
    uid = fields.pop("token_uid", None)
    token_type = str(fields.pop("token_type", None) or "RFID")
    if uid is not None:
        if "token" in fields:
            raise InvalidInput("give token or token_uid, not both")
        fields["token"] = await service.own_token(str(uid), token_type)
    fields.pop("response_url", None)
    body = parse_request(command_type, {**fields, "response_url": _PLACEHOLDER})
    del body["response_url"]
    sent = await service.send((party.group(1), party.group(2)), command_type, body)
    return JSONResponse(sent_out(sent, documents=True), status_code=201)


@router.get("", summary="Commands sent and received, newest first")
async def list_commands(
    request: Request,
    direction: Annotated[str | None, Query(description="sent or received")] = None,
    state: Annotated[list[str] | None, Query(description="Only these states (repeat)")] = None,
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
        found += await service.list_sent(sent_states, limit)
    if direction in (None, "received") and (not wanted or received_states):
        found += await service.list_received(received_states, limit)
    found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return JSONResponse(
        [sent_out(r) if isinstance(r, SentRequest) else received_out(r) for r in found[:limit]]
    )


@router.get("/{command_id}", summary="One command, sent or received, with its documents")
async def get_command(command_id: str, request: Request) -> Response:
    found = await _service(request).get(command_id)
    if found is None:
        return api_error(404, "NotFound", "unknown command")
    if isinstance(found, SentRequest):
        return JSONResponse(sent_out(found, documents=True))
    return JSONResponse(received_out(found, documents=True))
