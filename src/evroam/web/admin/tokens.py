"""Operator API for Tokens (issue 7 "The node's own data, in and out"): the eMSP operator
loads its own tokens on the Receiver's paths, ``PUT|PATCH|GET
/api/v1/tokens/{country_code}/{party_id}/{uid}?type=``, and reads pages of its own or of
received tokens with ``GET /api/v1/tokens?party=CC-PID&own=true|false``.

Answers are OCPI envelopes (the stored document is the ``data``); a body the wire models
refuse is 2001 with HTTP 400, an unknown token HTTP 404. A write under a party that is
not the node's own is refused by the service (``InvalidInput``, mapped in ``errors.py``).
The same rules as the OCPI Receiver apply: ``type`` defaults to RFID (a PUT takes the
body's), a PATCH needs ``last_updated``, an older write than stored changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey
from evroam.core.types import ModuleId
from evroam.ocpi.common.deps import parse_body
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.v2_2_1.tokens.convert import parse_type, to_document, validate_token
from evroam.ocpi.v2_2_1.tokens.models import Token, TokenPatch
from evroam.ocpi.v2_2_1.types import TokenType
from evroam.services.tokens import TokensService
from evroam.web.admin.batch import batch_answer
from evroam.web.admin.context import AdminContext, AdminDep
from evroam.web.admin.pages import list_answer

router = APIRouter(prefix="/tokens", tags=["tokens"])

PATH = "/{country_code}/{party_id}/{uid}"
TypeQuery = Annotated[str | None, Query(description="TokenType; default RFID")]


def _service(ctx: AdminContext) -> TokensService:
    return TokensService(ctx.partners.ctx)


def _refused(exc: OcpiError) -> Response:
    """A refusal in the OCPI envelope: 2001 is HTTP 400, other codes keep their own."""
    http = exc.http_status if exc.http_status != 200 else 400
    return json_answer(None, http_status=http, status=exc.status_code, message=exc.message)


@router.get("", summary="A page of own or received tokens")
async def list_tokens(request: Request, ctx: AdminDep) -> Response:
    return await list_answer(request, ctx, ModuleId.TOKENS, _service(ctx).page)


@router.get(PATH, summary="One token, own or received")
async def get_token(
    country_code: str, party_id: str, uid: str, ctx: AdminDep, type: TypeQuery = None
) -> Response:
    token_type = parse_type(type) or TokenType.RFID
    stored = await _service(ctx).get(ObjectKey(country_code, party_id, uid, token_type.value))
    if stored is None:
        return json_answer(None, http_status=404, status=2000, message="unknown token")
    return json_answer(stored.document_json)


@router.post("/batch", summary="Create or replace many of the node's own tokens at once")
async def put_tokens_batch(request: Request, ctx: AdminDep) -> Response:
    """A JSON list of whole Tokens, each stored as ``PUT`` of its own path (with its own
    ``type``) would store it (``web/admin/batch.py``)."""
    service = _service(ctx)

    async def store(raw: Any) -> str:
        body = Token.model_validate(raw)
        key = ObjectKey(body.country_code, body.party_id, body.uid, body.type.value)
        return await service.put_own(key, to_document(body), body.last_updated)

    return await batch_answer(request, "Tokens", store)


@router.put(PATH, summary="Create or replace one of the node's own tokens")
async def put_token(
    country_code: str,
    party_id: str,
    uid: str,
    request: Request,
    ctx: AdminDep,
    type: TypeQuery = None,
) -> Response:
    try:
        body = await parse_body(request, Token)
    except OcpiError as exc:
        return _refused(exc)
    token_type = parse_type(type, None) or body.type
    outcome = await _service(ctx).put_own(
        ObjectKey(country_code, party_id, uid, token_type.value),
        to_document(body),
        body.last_updated,
    )
    return json_answer(None, http_status=201 if outcome == "created" else 200)


@router.patch(PATH, summary="Update part of one of the node's own tokens")
async def patch_token(
    country_code: str,
    party_id: str,
    uid: str,
    request: Request,
    ctx: AdminDep,
    type: TypeQuery = None,
) -> Response:
    try:
        body = await parse_body(request, TokenPatch)
    except OcpiError as exc:
        return _refused(exc)
    token_type = parse_type(type, None) or body.type or TokenType.RFID
    outcome = await _service(ctx).patch_own(
        ObjectKey(country_code, party_id, uid, token_type.value),
        to_document(body),
        body.last_updated,
        validate_token,
    )
    if outcome == "unknown":
        return json_answer(None, http_status=404, status=2000, message="unknown token: PUT it")
    return json_answer(None)
