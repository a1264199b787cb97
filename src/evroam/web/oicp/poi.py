"""Operator API: the POI findings the hub kept for an operator's EVSE data,
``GET /api/v1/oicp/operators/{id}/poi``.

Every record an operator pushes is run through the POI check (``oicp/v2_3/poi.py``);
its findings and score are stored with the record (``services/oicp/evsedata.py``). This
route answers them for the operator's live records with the mean score, for
``evroam oicp poi-check --operator``. The operator is addressed by its OperatorID in any
spelling; an ID that is not an OperatorID is 422, one the hub does not know 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from evroam.oicp.v2_3 import ids
from evroam.services.oicp import evsedata
from evroam.web.admin.errors import api_error
from evroam.web.oicp.admin import ContextDep

router = APIRouter(prefix="/oicp/operators", tags=["oicp EVSE data"])


@router.get("/{operator_id}/poi", response_model=None)
async def operator_poi(operator_id: str, ctx: ContextDep) -> Any:
    if not ids.is_operator_id(operator_id):
        return api_error(422, "Invalid", f"{operator_id!r} is not an OperatorID")
    canonical = ids.canonical_operator(operator_id)
    async with ctx.uow(read_only=True) as u:
        partner = await u.oicp_partners.get(canonical)
    if partner is None:
        return api_error(404, "NotFound", f"no partner with ID {operator_id}")
    reports = await evsedata.poi_reports(ctx.uow, canonical)
    score = round(sum(r.score for r in reports) / len(reports)) if reports else 100
    return {
        "operator_id": partner.partner_id,
        "records": [
            {
                "evse_id": r.evse_id,
                "score": r.score,
                "findings": [
                    {"property": f.property, "severity": f.severity, "message": f.message}
                    for f in r.findings
                ],
                "checked_at": r.updated_at.isoformat(),
            }
            for r in reports
        ],
        "score": score,
        "errors": sum(1 for r in reports for f in r.findings if f.severity == "error"),
        "warnings": sum(1 for r in reports for f in r.findings if f.severity == "warning"),
    }
