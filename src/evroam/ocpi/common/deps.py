"""FastAPI dependencies of the OCPI routes of every version: the context, the caller
(token authentication) and the request body."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from evroam.core.logctx import partner_var
from evroam.core.types import ConnectionStatus, CredentialsTokenKind
from evroam.ocpi.common.auth import Caller, require_full_token
from evroam.ocpi.common.context import OcpiContext
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.errors import InvalidParameters
from evroam.ocpi.common.jsonbody import parse_json

M = TypeVar("M", bound=BaseModel)


def get_context(request: Request) -> OcpiContext:
    ctx = request.app.state.ocpi
    if not isinstance(ctx, OcpiContext):  # only before start-up completed
        raise RuntimeError("OCPI context is not ready")
    return ctx


async def _context(request: Request) -> OcpiContext:
    """The dependency form: ``async`` because FastAPI runs a plain ``def`` dependency on
    its thread pool, a thread hand-over on every request for a dictionary lookup."""
    return get_context(request)


ContextDep = Annotated[OcpiContext, Depends(_context)]


async def get_caller(request: Request) -> Caller:
    """Any valid token, token A included: versions, version details, credentials."""
    ctx = get_context(request)
    caller = await ctx.auth.authenticate(request.headers.get("authorization"))
    partner_var.set(caller.partner.label)
    await note_contact(ctx, caller)
    return caller


async def get_full_caller(request: Request) -> Caller:
    """A registered partner's token: every functional and configuration module but the above."""
    caller = await get_caller(request)
    require_full_token(caller)
    return caller


async def note_contact(ctx: OcpiContext, caller: Caller) -> None:
    """Every call from a registered partner is contact: keep last_connection and status."""
    partner = caller.partner
    if caller.kind != CredentialsTokenKind.AUTH or not partner.registered:
        return
    cache = ctx.auth.cache
    if partner.status != ConnectionStatus.CONNECTED or cache.due_for_touch(partner.id):
        await ctx.partners.liveness.record_contact(partner.id, True)
        if partner.status != ConnectionStatus.CONNECTED:
            cache.clear()


CallerDep = Annotated[Caller, Depends(get_caller)]
FullCallerDep = Annotated[Caller, Depends(get_full_caller)]


async def parse_body(request: Request, model: type[M]) -> M:
    """Raw body -> model: bad JSON is HTTP 400, a bad field OCPI 2001 naming the field.

    The body's size was bounded while it was read (``web/limits.py``); its nesting depth
    is bounded here before it is parsed.
    """
    data = parse_json(await request.body())
    if data is None:
        raise InvalidParameters("request body is missing")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidParameters(describe_validation_error(exc)) from None
