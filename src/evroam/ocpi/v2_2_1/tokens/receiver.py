"""Tokens Receiver (the CPO's; mod_tokens §"Receiver Interface", digest §5.5): an eMSP
partner pushes its tokens to ``/{country_code}/{party_id}/{uid}?type=`` with GET, PUT
and PATCH (no POST, no DELETE: a token is invalidated with ``valid`` false).

``type`` defaults to RFID, as the spec says, for GET and for a PATCH whose body names no
type; a PUT without ``type`` in the URL takes the body's type, which every Token carries
(many clients leave the parameter out; the body is the whole object). The URL's
country_code/party_id must be one of the caller's parties and the body's (2001 naming the
mismatch, transport_and_format §"Client Owned Object Push"). A PATCH of a token we do
not hold is HTTP 404 (the OpenAPI file's answer; the eMSP then PUTs it).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.errors import DomainError
from evroam.core.objects import ObjectKey
from evroam.ocpi.common.deps import ContextDep, parse_body
from evroam.ocpi.common.errors import NotFound, OcpiError
from evroam.ocpi.common.functional import FunctionalCallerDep, answer_routing, json_answer
from evroam.ocpi.v2_2_1.tokens.answers import refusal
from evroam.ocpi.v2_2_1.tokens.convert import parse_type, to_document, validate_token
from evroam.ocpi.v2_2_1.tokens.models import Token, TokenPatch
from evroam.ocpi.v2_2_1.types import TokenType
from evroam.services.tokens import TokensService

router = APIRouter()

PATH = "/{country_code}/{party_id}/{uid}"


def _key(country_code: str, party_id: str, uid: str, token_type: TokenType) -> ObjectKey:
    return ObjectKey(country_code, party_id, uid, token_type.value)


@router.get(PATH, summary="A token the partner pushed")
async def get_token(
    country_code: str,
    party_id: str,
    uid: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    routing = answer_routing(request, ctx, caller, (country_code.upper(), party_id.upper()))
    try:
        token_type = parse_type(request.query_params.get("type")) or TokenType.RFID
        stored = await TokensService(ctx.partners.ctx).get_received(
            caller.partner, _key(country_code, party_id, uid, token_type)
        )
        if stored is None:
            raise NotFound("unknown token")
        return json_answer(stored.document_json, headers=routing)
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)


@router.put(PATH, summary="Create or replace a token")
async def put_token(
    country_code: str,
    party_id: str,
    uid: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    routing = answer_routing(request, ctx, caller, (country_code.upper(), party_id.upper()))
    try:
        body = await parse_body(request, Token)
        token_type = parse_type(request.query_params.get("type"), None) or body.type
        outcome = await TokensService(ctx.partners.ctx).receive_put(
            caller.partner,
            _key(country_code, party_id, uid, token_type),
            to_document(body),
            body.last_updated,
        )
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)
    return json_answer(None, headers=routing, http_status=201 if outcome == "created" else 200)


@router.patch(PATH, summary="Update part of a token")
async def patch_token(
    country_code: str,
    party_id: str,
    uid: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    routing = answer_routing(request, ctx, caller, (country_code.upper(), party_id.upper()))
    try:
        body = await parse_body(request, TokenPatch)
        token_type = parse_type(request.query_params.get("type"), None) or body.type
        outcome = await TokensService(ctx.partners.ctx).receive_patch(
            caller.partner,
            _key(country_code, party_id, uid, token_type or TokenType.RFID),
            to_document(body),
            body.last_updated,
            validate_token,
        )
        if outcome == "unknown":
            raise NotFound("unknown token: PUT it first")
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)
    return json_answer(None, headers=routing)
