"""Commands Sender (the eMSP's interface, mod_commands §"Sender Interface", digest
§5.6): the CPO POSTs a command's CommandResult to the ``response_url`` the node gave,
``{url}/{command}/{id}``; answered with the envelope and no data.

Only the partner the command went to may answer it, once (``services/commands.py``);
an unknown id, or one of a command sent to someone else, is HTTP 404 with 2001, so a
partner learns nothing of other partners' commands.
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
from evroam.ocpi.v2_2_1.commands.convert import parse_command_type, parse_result, to_document
from evroam.ocpi.v2_2_1.commands.receiver import commands_service, refusal

router = APIRouter()


@router.post("/{command}/{request_id}", summary="The result of a command this node sent")
async def post_result(
    command: str, request_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    routing = answer_routing(request, ctx, caller)
    try:
        command_type = parse_command_type(command)
        result = parse_result(parse_json(await request.body()))
        await commands_service(request).receive_result(
            caller.partner, command_type, request_id, result.result.value, to_document(result)
        )
    except UnknownRequest:
        return json_answer(
            None, headers=routing, http_status=404, status=2001, message="unknown command"
        )
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)
    return json_answer(None, headers=routing)
