"""HubClientInfo Sender (only on a node with the HUB role): every party this hub connects,
with its connection status, as a paginated list for start-up and resync."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.ocpi.common.deps import ContextDep, FullCallerDep
from evroam.ocpi.common.http import ocpi_response
from evroam.ocpi.common.pagination import MAX_LIMIT, page_headers, parse_page
from evroam.ocpi.common.timeutil import format_datetime

router = APIRouter()


@router.get("", summary="ClientInfo of every connected party (paginated)")
async def list_client_info(
    request: Request,
    caller: FullCallerDep,
    ctx: ContextDep,
) -> Response:
    q = request.query_params
    page = parse_page(q.get("offset"), q.get("limit"), q.get("date_from"), q.get("date_to"))
    rows: list[tuple[Any, int, int, dict[str, Any]]] = []
    for partner in await ctx.partners.directory.list():
        if not partner.roles:
            continue
        updated = partner.status_changed_at or partner.created_at
        if updated is None:
            continue
        if page.date_from and updated < page.date_from:
            continue
        if page.date_to and updated >= page.date_to:
            continue
        status = partner.status
        for pos, party in enumerate(partner.roles):
            rows.append(
                (
                    partner.created_at,
                    partner.id,
                    pos,
                    {
                        "party_id": party.party_id,
                        "country_code": party.country_code,
                        "role": party.role.value,
                        "status": status.value,
                        "last_updated": format_datetime(updated),
                    },
                )
            )
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    total = len(rows)
    data = [r[3] for r in rows[page.offset : page.offset + page.limit]]
    base = str(request.url).split("?")[0]
    return ocpi_response(data, headers=page_headers(base, page, total, len(data), MAX_LIMIT))
