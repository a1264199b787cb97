"""Operator API for tariffs: the node's own tariffs in and out, and what partners sent.

The paths mirror the OCPI Receiver (issue 7 "The node's own data, in and out"):
``PUT|DELETE|GET /tariffs/{country_code}/{party_id}/{tariff_id}``, answered with the
OCPI envelope, so what an operator loads is checked exactly as a partner's push
(mod_tariffs §"Tariff Object"). A write is only for one of the node's own parties
(``ObjectRules.check_node_owns``, a core error mapped by ``errors.py``); a GET also reads
a tariff a partner sent. ``GET /tariffs?party=CC-PID&own=true|false&offset&limit&
date_from&date_to`` pages own or received tariffs, with the headers of an OCPI page.
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
from evroam.ocpi.common.pagination import Page, page_headers, parse_page
from evroam.ocpi.v2_2_1.tariffs.convert import key_of, to_document
from evroam.ocpi.v2_2_1.tariffs.models import Tariff
from evroam.services.tariffs import TariffsService
from evroam.web.admin.context import AdminContext, AdminDep

router = APIRouter(prefix="/tariffs", tags=["tariffs"])

PATH = "/{country_code}/{party_id}/{tariff_id}"


def _refusal(exc: OcpiError) -> Response:
    """An OCPI error as the operator API answers it: the envelope, HTTP 400."""
    return json_answer(None, http_status=400, status=exc.status_code, message=exc.message)


def _unknown() -> Response:
    return json_answer(None, http_status=404, status=2000, message="unknown tariff")


def _service(ctx: AdminContext) -> TariffsService:
    return TariffsService(ctx.partners.ctx)


@router.put(PATH, summary="Create or replace one of the node's tariffs")
async def put_tariff(
    country_code: str, party_id: str, tariff_id: str, request: Request, ctx: AdminDep
) -> Response:
    try:
        tariff = await parse_body(request, Tariff)
    except OcpiError as exc:
        return _refusal(exc)
    url_key = ObjectKey(country_code, party_id, tariff_id)
    outcome = await _service(ctx).put_own(
        url_key, key_of(tariff), to_document(tariff), tariff.last_updated
    )
    if outcome == "stale":
        return json_answer(
            None, message="older than the stored tariff (last_updated); nothing changed"
        )
    return json_answer(None, http_status=201 if outcome == "created" else 200)


@router.delete(PATH, summary="Remove one of the node's tariffs")
async def delete_tariff(
    country_code: str, party_id: str, tariff_id: str, ctx: AdminDep
) -> Response:
    deleted = await _service(ctx).delete_own(ObjectKey(country_code, party_id, tariff_id))
    return json_answer(None) if deleted else _unknown()


@router.get(PATH, summary="A tariff: the node's own or one a partner sent")
async def get_tariff(country_code: str, party_id: str, tariff_id: str, ctx: AdminDep) -> Response:
    stored = await _service(ctx).get(ObjectKey(country_code, party_id, tariff_id))
    return _unknown() if stored is None else json_answer(stored.document_json)


def _party(raw: str | None) -> tuple[str, str] | None:
    if not raw:
        return None
    cc, sep, pid = raw.partition("-")
    if not sep or len(cc) != 2 or not 1 <= len(pid) <= 3:
        raise ValueError(f"party must look like CC-PID (NL-ABC), got {raw[:20]!r}")
    return (cc.upper(), pid.upper())


def _own(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"own must be true or false, got {raw[:10]!r}")


@router.get("", summary="A page of tariffs, own or received (OCPI page headers)")
async def list_tariffs(request: Request, ctx: AdminDep) -> Response:
    q = request.query_params
    max_limit = ctx.settings.max_page_limit
    try:
        party, own = _party(q.get("party")), _own(q.get("own"))
        page: Page = parse_page(
            q.get("offset"), q.get("limit"), q.get("date_from"), q.get("date_to"), max_limit
        )
    except OcpiError as exc:
        return _refusal(exc)
    except ValueError as exc:
        return json_answer(None, http_status=400, status=2001, message=str(exc))
    result = await _service(ctx).page(
        ObjectQuery(
            module=ModuleId.TARIFFS,
            own=own,
            party=party,
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            limit=page.limit,
        )
    )
    base = f"{ctx.settings.base_url}{request.url.path}"
    headers = page_headers(base, page, result.total, len(result.objects), max_limit)
    extra = {k: v for k, v in (("party", q.get("party")), ("own", q.get("own"))) if v}
    if "Link" in headers and extra:
        headers["Link"] = headers["Link"].replace("?", f"?{urlencode(extra)}&", 1)
    data = "[" + ",".join(o.document_json for o in result.objects) + "]"
    return json_answer(data, headers=headers)
