"""OCPI 2.2.1 credentials endpoint (credentials.asciidoc §"Interfaces and endpoints").

GET answers our credentials; POST registers (token A only); PUT updates and rotates;
DELETE unregisters. POST when registered and PUT/DELETE when not are HTTP 405.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.types import CredentialsTokenKind
from evroam.ocpi.common.deps import CallerDep, ContextDep, parse_body
from evroam.ocpi.common.errors import MethodNotAllowed
from evroam.ocpi.common.http import ocpi_response
from evroam.ocpi.v2_2_1.credentials.convert import to_core, to_wire
from evroam.ocpi.v2_2_1.credentials.models import Credentials
from evroam.ocpi.v2_2_1.meta import VERSION

router = APIRouter()


@router.get("", summary="Our credentials, for the calling partner")
async def get_credentials(caller: CallerDep, ctx: ContextDep) -> Response:
    # Echo the token the caller used: we only store its hash, and it is theirs already.
    return ocpi_response(to_wire(ctx.partners.ctx.own_credentials(caller.token)))


@router.post("", summary="Register (token A)")
async def post_credentials(request: Request, caller: CallerDep, ctx: ContextDep) -> Response:
    if caller.kind != CredentialsTokenKind.A:
        raise MethodNotAllowed("already registered: use PUT to update or DELETE to unregister")
    body = await parse_body(request, Credentials)
    ours = await ctx.partners.handshake.accept_registration(
        caller.partner.id, caller.token_hash, to_core(body), VERSION
    )
    return ocpi_response(to_wire(ours))


@router.put("", summary="Update credentials and rotate tokens")
async def put_credentials(request: Request, caller: CallerDep, ctx: ContextDep) -> Response:
    if caller.kind == CredentialsTokenKind.A or not caller.partner.registered:
        raise MethodNotAllowed("not registered: POST your credentials first")
    body = await parse_body(request, Credentials)
    ours = await ctx.partners.handshake.accept_update(
        caller.partner.id, caller.token_hash, to_core(body), VERSION
    )
    return ocpi_response(to_wire(ours))


@router.delete("", summary="Unregister")
async def delete_credentials(caller: CallerDep, ctx: ContextDep) -> Response:
    if caller.kind == CredentialsTokenKind.A or not caller.partner.registered:
        raise MethodNotAllowed("not registered")
    await ctx.partners.handshake.accept_unregister(caller.partner.id)
    return ocpi_response()
