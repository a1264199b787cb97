"""Tariffs Sender interface (the CPO's; mod_tariffs §"Sender Interface").

``GET {tariffs_url}`` pages the node's own tariffs filtered on ``last_updated``
(``date_from`` inclusive, ``date_to`` exclusive) with ``X-Total-Count``, ``X-Limit`` and
an absolute ``Link`` (transport_and_format §"Pagination"), answered from the stored JSON.

``GET {tariffs_url}/{tariff_id}`` is an addition: 2.2.1's Sender table lists only the
list GET (POST/PUT/PATCH/DELETE are "n/a"; a single GET is not mentioned either way),
and issue 7 asks for "Sender list/one". It answers the tariff with that id under the
party the caller addressed with ``OCPI-to-*`` (else under any of the node's parties), or
HTTP 404 for an unknown id (transport_and_format §"Response format": GET of a
non-existent object).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectQuery
from evroam.core.types import ModuleId
from evroam.ocpi.common.deps import ContextDep
from evroam.ocpi.common.functional import (
    TO_CC,
    TO_PID,
    FunctionalCallerDep,
    answer_routing,
    json_answer,
    page_answer,
    parse_list_query,
)
from evroam.services.tariffs import TariffsService

router = APIRouter()


@router.get("", summary="The node's tariffs (paginated)")
async def list_tariffs(request: Request, caller: FunctionalCallerDep, ctx: ContextDep) -> Response:
    page = parse_list_query(request, ctx)
    result = await TariffsService(ctx.partners.ctx).page(
        ObjectQuery(
            module=ModuleId.TARIFFS,
            own=True,
            shared_only=True,
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            after_row=page.after,
            limit=page.limit,
        )
    )
    return page_answer(request, ctx, page, result, answer_routing(request, ctx, caller))


@router.get("/{tariff_id}", summary="One of the node's tariffs")
async def get_tariff(
    tariff_id: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    h = request.headers
    addressed = (h[TO_CC].upper(), h[TO_PID].upper()) if h.get(TO_CC) and h.get(TO_PID) else None
    stored = await TariffsService(ctx.partners.ctx).get_own_by_id(tariff_id, addressed)
    routing = answer_routing(request, ctx, caller)
    if stored is None:
        return json_answer(
            None, headers=routing, http_status=404, status=2000, message="unknown tariff"
        )
    return json_answer(stored.document_json, headers=routing)
