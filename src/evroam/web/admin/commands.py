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

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from evroam.core.errors import InvalidInput
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.v2_2_1.commands.convert import parse_command_type, parse_request
from evroam.services.commands import CommandsService
from evroam.web.admin.requests import list_response, one_response, parse_party, sent_response

router = APIRouter(prefix="/commands", tags=["commands"])

#: A syntactically valid response_url for checking the fields; the node sets its own.
_PLACEHOLDER = "https://placeholder.invalid/response"


def _service(request: Request) -> CommandsService:
    service = getattr(request.app.state, "commands", None)
    if not isinstance(service, CommandsService):  # only before start-up completed
        raise RuntimeError("the commands service is not ready")
    return service


@router.post("/{command}", summary="Send a command to a CPO partner", status_code=201)
async def send_command(command: str, request: Request) -> Response:
    service = _service(request)
    command_type = parse_command_type(command.upper())
    data = parse_json(await request.body())
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object with party and the command's fields")
    fields = dict(data)
    party = parse_party(fields.pop("party", None))
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
    return sent_response(await service.send(party, command_type, body))


@router.get("", summary="Commands sent and received, newest first")
async def list_commands(
    request: Request,
    direction: Annotated[str | None, Query(description="sent or received")] = None,
    state: Annotated[list[str] | None, Query(description="Only these states (repeat)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    return await list_response(_service(request), direction, state, limit)


@router.get("/{command_id}", summary="One command, sent or received, with its documents")
async def get_command(command_id: str, request: Request) -> Response:
    return await one_response(_service(request), command_id, "unknown command")
