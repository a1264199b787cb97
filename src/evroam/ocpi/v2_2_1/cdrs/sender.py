"""CDRs Sender (the CPO's; mod_cdrs §"Sender Interface"): the node's own CDRs as a
paginated list, filtered by ``date_from`` (inclusive) and ``date_to`` (exclusive) on
``last_updated``, which for a CDR is its creation time.

A CPO "may return only CDRs relevant to the caller"; evroam returns all of its own CDRs
(ObjectQuery cannot narrow on the CDR's token owner yet).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectQuery
from evroam.core.types import ModuleId
from evroam.ocpi.common.deps import ContextDep
from evroam.ocpi.common.functional import (
    FunctionalCallerDep,
    answer_routing,
    page_answer,
    parse_list_query,
)
from evroam.services.cdrs import CdrService

router = APIRouter()


@router.get("", summary="The node's own CDRs (paginated)")
async def list_cdrs(request: Request, caller: FunctionalCallerDep, ctx: ContextDep) -> Response:
    page = parse_list_query(request, ctx)
    result = await CdrService(ctx.partners.ctx).sender_page(
        ObjectQuery(
            module=ModuleId.CDRS,
            # A CDR concerns the eMSP of its token only (mod_cdrs §"Sender Interface": the
            # CPO returns the CDRs relevant to the caller).
            audience=frozenset(p.label for p in caller.partner.roles),
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            after_row=page.after,
            limit=page.limit,
        )
    )
    return page_answer(request, ctx, page, result, headers=answer_routing(request, ctx, caller))
