"""Commands Receiver (the CPO's interface, mod_commands §"Receiver Interface", digest
§5.6): ``POST {url}/{command}`` with the command's request object, answered at once with
a CommandResponse; the CommandResult follows later, POSTed by the outbox to the
request's ``response_url``.

Refusals (``services/commands.py`` says which and why) keep the routing headers of every
functional answer. A malformed body or an unknown ``{command}`` is 2001 with nothing
stored; a check's refusal carries a CommandResponse (REJECTED with 2003 for an unknown
location, UNKNOWN_SESSION...), so a client reading ``data`` always finds one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.errors import DomainError
from evroam.ocpi.common.deps import ContextDep
from evroam.ocpi.common.errors import OcpiError, ServerError
from evroam.ocpi.common.functional import (
    FROM_CC,
    FROM_PID,
    TO_CC,
    TO_PID,
    FunctionalCallerDep,
    answer_routing,
    json_answer,
)
from evroam.ocpi.common.handlers import error_response, map_domain_error
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.v2_2_1.commands.convert import parse_command_type, parse_request, response_json
from evroam.services.commands import CommandsService

router = APIRouter()


def commands_service(request: Request) -> CommandsService:
    """The node's service, put on the app's state at start-up (``web/app.py``)."""
    service = getattr(request.app.state, "commands", None)
    if not isinstance(service, CommandsService):
        raise ServerError("commands are not available on this node")
    return service


def refusal(exc: OcpiError | DomainError, routing: dict[str, str]) -> Response:
    """The envelope the shared handlers would write, plus the routing headers."""
    err = exc if isinstance(exc, OcpiError) else map_domain_error(exc)
    return error_response(err, headers=routing)


def header_party(request: Request, cc: str, pid: str) -> tuple[str, str] | None:
    h = request.headers
    return (h[cc].upper(), h[pid].upper()) if h.get(cc) and h.get(pid) else None


@router.post("/{command}", summary="Send a command to the CPO's charge points")
async def post_command(
    command: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    routing = answer_routing(request, ctx, caller)
    try:
        command_type = parse_command_type(command)
        body = parse_request(command_type, parse_json(await request.body()))
        reply = await commands_service(request).receive(
            caller.partner,
            command_type,
            body,
            addressed=header_party(request, TO_CC, TO_PID),
            sender=header_party(request, FROM_CC, FROM_PID),
        )
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)
    return json_answer(
        response_json(reply), headers=routing, status=reply.status_code, message=reply.message
    )
