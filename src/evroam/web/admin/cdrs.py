"""Operator API for CDRs (issue 7 "The node's own data, in and out"): the node reports
its own CDRs and reads them, and reads CDRs partners sent, as OCPI envelopes.

``POST /cdrs`` mirrors the Receiver's POST (mod_cdrs §"Receiver Interface"): a CDR of
one of the node's own parties, validated as evroam will send it (the full 2.2.1 CDR,
``cdr_token`` with its owner), answered 201 with its URL in ``Location``. A second POST
of the same CDR is refused (CDRs never change; corrections are Credit CDRs).
``GET /cdrs/{country_code}/{party_id}/{cdr_id}`` reads own or received CDRs, and
``GET /cdrs?party=CC-PID&own=true|false&offset&limit&date_from&date_to`` pages them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey
from evroam.core.types import ModuleId
from evroam.ocpi.common.deps import parse_body
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.v2_2_1.cdrs.convert import to_stored
from evroam.ocpi.v2_2_1.cdrs.models import CDR
from evroam.ocpi.v2_2_1.cdrs.receiver import cdr_path
from evroam.services.cdrs import CdrService
from evroam.web.admin.batch import batch_answer
from evroam.web.admin.context import AdminDep
from evroam.web.admin.pages import list_answer

router = APIRouter(prefix="/cdrs", tags=["cdrs"])


def _refusal(exc: OcpiError) -> Response:
    """An OCPI-style refusal in the operator API: the envelope, HTTP 400."""
    return json_answer(None, http_status=400, status=exc.status_code, message=exc.message)


@router.post("/batch", summary="Report many CDRs of this node's parties at once")
async def post_cdrs_batch(request: Request, ctx: AdminDep) -> Response:
    """A JSON list of CDRs, each stored as ``POST /cdrs`` would store it; a CDR stored
    before is refused, as there (``web/admin/batch.py``)."""
    service = CdrService(ctx.partners.ctx)

    async def store(raw: Any) -> str:
        await service.add_own(to_stored(CDR.model_validate(raw)))
        return "created"

    return await batch_answer(request, "CDRs", store)


@router.post("", summary="Report a CDR of one of this node's parties", status_code=201)
async def post_cdr(request: Request, ctx: AdminDep) -> Response:
    try:
        body = await parse_body(request, CDR)
    except OcpiError as exc:
        return _refusal(exc)
    stored = await CdrService(ctx.partners.ctx).add_own(to_stored(body))
    location = f"{ctx.settings.base_url}{request.url.path.rstrip('/')}/{cdr_path(stored.key)}"
    return json_answer(stored.document_json, http_status=201, headers={"Location": location})


@router.get("/{country_code}/{party_id}/{cdr_id}", summary="One CDR, own or received")
async def get_cdr(country_code: str, party_id: str, cdr_id: str, ctx: AdminDep) -> Response:
    key = ObjectKey(country_code, party_id, cdr_id)
    stored = await CdrService(ctx.partners.ctx).get(key)
    if stored is None:
        return json_answer(None, http_status=404, status=2000, message=f"no CDR {key.label}")
    return json_answer(stored.document_json)


@router.get("", summary="A page of own or received CDRs")
async def list_cdrs(request: Request, ctx: AdminDep) -> Response:
    return await list_answer(request, ctx, ModuleId.CDRS, CdrService(ctx.partners.ctx).page)
