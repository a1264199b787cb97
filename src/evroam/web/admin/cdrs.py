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

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey, ObjectQuery
from evroam.core.types import ModuleId
from evroam.ocpi.common.deps import parse_body
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.common.pagination import parse_page
from evroam.ocpi.v2_2_1.cdrs.convert import to_stored
from evroam.ocpi.v2_2_1.cdrs.models import CDR
from evroam.ocpi.v2_2_1.cdrs.receiver import cdr_path
from evroam.services.cdrs import CdrService
from evroam.web.admin.context import AdminDep

router = APIRouter(prefix="/cdrs", tags=["cdrs"])


def _refusal(exc: OcpiError) -> Response:
    """An OCPI-style refusal in the operator API: the envelope, HTTP 400."""
    return json_answer(None, http_status=400, status=exc.status_code, message=exc.message)


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
async def list_cdrs(
    request: Request,
    ctx: AdminDep,
    party: str | None = None,
    own: bool | None = None,
) -> Response:
    q = request.query_params
    parsed_party: tuple[str, str] | None = None
    if party:
        cc, _, pid = party.partition("-")
        if len(cc) != 2 or len(pid) != 3:
            return json_answer(
                None, http_status=400, status=2001, message=f"party must be CC-PID, got {party!r}"
            )
        parsed_party = (cc.upper(), pid.upper())
    try:
        page = parse_page(
            q.get("offset"),
            q.get("limit"),
            q.get("date_from"),
            q.get("date_to"),
            ctx.settings.max_page_limit,
        )
    except OcpiError as exc:
        return _refusal(exc)
    result = await CdrService(ctx.partners.ctx).page(
        ObjectQuery(
            module=ModuleId.CDRS,
            own=own,
            party=parsed_party,
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            limit=page.limit,
        )
    )
    headers = {"X-Total-Count": str(result.total), "X-Limit": str(ctx.settings.max_page_limit)}
    next_offset = page.offset + len(result.objects)
    if result.objects and next_offset < result.total:
        params = {k: v for k, v in q.items() if k not in ("offset", "limit")}
        params |= {"offset": str(next_offset), "limit": str(page.limit)}
        base = f"{ctx.settings.base_url}{request.url.path}"
        headers["Link"] = f'<{base}?{urlencode(params)}>; rel="next"'
    data = "[" + ",".join(o.document_json for o in result.objects) + "]"
    return json_answer(data, headers=headers)
