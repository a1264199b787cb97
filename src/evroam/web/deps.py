"""FastAPI dependencies shared by the OCPI routes of every version and the operator API."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from evroam.core.types import ConnectionStatus, CredentialsTokenKind
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.errors import InvalidParameters, MalformedJson
from evroam.web.auth import Caller, authenticate, require_full_token
from evroam.web.logctx import partner_var
from evroam.web.node import Node

M = TypeVar("M", bound=BaseModel)

MAX_BODY = 1_000_000


def get_node(request: Request) -> Node:
    return request.app.state.node  # type: ignore[no-any-return]


NodeDep = Annotated[Node, Depends(get_node)]


async def get_caller(request: Request) -> Caller:
    """Any valid token, token A included: versions, version details, credentials."""
    node = get_node(request)
    caller = await authenticate(request.headers.get("authorization"), node.uow, node.auth_cache)
    partner_var.set(caller.partner.label)
    await note_contact(node, caller)
    return caller


async def get_full_caller(request: Request) -> Caller:
    """A registered partner's token: every functional and configuration module but the above."""
    caller = await get_caller(request)
    require_full_token(caller)
    return caller


async def note_contact(node: Node, caller: Caller) -> None:
    """Every call from a registered partner is contact: keep last_connection and status."""
    partner = caller.partner
    if caller.kind != CredentialsTokenKind.AUTH or not partner.registered:
        return
    if partner.status != ConnectionStatus.CONNECTED or node.auth_cache.due_for_touch(partner.id):
        await node.partners.record_contact(partner.id, True)
        if partner.status != ConnectionStatus.CONNECTED:
            node.auth_cache.clear()


CallerDep = Annotated[Caller, Depends(get_caller)]
FullCallerDep = Annotated[Caller, Depends(get_full_caller)]


async def parse_body(request: Request, model: type[M]) -> M:
    """Raw body -> model: bad JSON is HTTP 400, a bad field OCPI 2001 naming the field."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidParameters("request body too large")
    try:
        import json

        data: Any = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from None
    if data is None:
        raise InvalidParameters("request body is missing")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidParameters(describe_validation_error(exc)) from None
