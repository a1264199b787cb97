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

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey
from evroam.core.types import ModuleId
from evroam.ocpi.common.deps import parse_body
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.v2_2_1.tariffs.convert import key_of, to_document
from evroam.ocpi.v2_2_1.tariffs.models import Tariff
from evroam.services.tariffs import TariffsService
from evroam.web.admin.batch import batch_answer
from evroam.web.admin.context import AdminContext, AdminDep
from evroam.web.admin.pages import list_answer

router = APIRouter(prefix="/tariffs", tags=["tariffs"])

PATH = "/{country_code}/{party_id}/{tariff_id}"


def _refusal(exc: OcpiError) -> Response:
    """An OCPI error as the operator API answers it: the envelope, HTTP 400."""
    return json_answer(None, http_status=400, status=exc.status_code, message=exc.message)


def _unknown() -> Response:
    return json_answer(None, http_status=404, status=2000, message="unknown tariff")


def _service(ctx: AdminContext) -> TariffsService:
    return TariffsService(ctx.partners.ctx)


@router.post("/batch", summary="Create or replace many of the node's tariffs at once")
async def put_tariffs_batch(request: Request, ctx: AdminDep) -> Response:
    """A JSON list of whole Tariffs, each stored as ``PUT`` of its own path would store
    it (``web/admin/batch.py``)."""
    service = _service(ctx)

    async def store(raw: Any) -> str:
        tariff = Tariff.model_validate(raw)
        key = key_of(tariff)
        return await service.put_own(key, key, to_document(tariff), tariff.last_updated)

    return await batch_answer(request, "Tariffs", store)


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


@router.get("", summary="A page of tariffs, own or received (OCPI page headers)")
async def list_tariffs(request: Request, ctx: AdminDep) -> Response:
    return await list_answer(request, ctx, ModuleId.TARIFFS, _service(ctx).page)
