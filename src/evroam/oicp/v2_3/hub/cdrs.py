"""eRoamingChargeDetailRecord: the CPO's CDR (forwarded to an online EMP) and the EMP's
GetChargeDetailRecords (digest §1.2 rows 5-6; ``services/oicp/cdrs.py``).

The CDR's OperatorID is the path's only (the body names none): its EvseID must be that
operator's (018). The CPO's answer is ``Result`` true once the CDR is stored, whatever
the EMP did with the forward; it carries the session's IDs. The record is kept as the
model writes it (date-times as sent, unknown fields dropped) and forwarded and returned
in that form.

GetChargeDetailRecords: ``From``/``To`` bound the hub's receipt time (compared as
instants, whatever offset they are written with), ``?page=&size=`` as Spring pages
(``pages.py``); only the caller's CDRs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from evroam.core.oicp_sessions import CdrQuery
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import (
    CallerDep,
    HubDep,
    acting_operator,
    acting_provider,
    parse_body,
)
from evroam.oicp.v2_3.hub.authorization import CallsDep
from evroam.oicp.v2_3.hub.calls import ack_answer, forwarder
from evroam.oicp.v2_3.hub.session_support import (
    acknowledgement,
    checked_identification,
    status,
    translated,
)
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord, GetChargeDetailRecordsRequest
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.pages import page_body, parse_page_query
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import cdrs as service

CDR_PATH = operation(N.CHARGE_DETAIL_RECORD).template
GET_PATH = operation(N.GET_CHARGE_DETAIL_RECORDS).template

router = APIRouter(tags=["eRoamingChargeDetailRecord"])

Answer = dict[str, Any]


@router.post(CDR_PATH, summary="eRoamingChargeDetailRecord")
async def charge_detail_record(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    operator = acting_operator(caller, operatorID)
    cdr = await parse_body(request, ChargeDetailRecord)
    checked_identification(N.CHARGE_DETAIL_RECORD, cdr.Identification)
    record = cdr.to_wire()
    incoming = service.IncomingCdr(
        session_id=cdr.SessionID.lower(),
        evse_id=cdr.EvseID,
        evse_operator=ids.operator_of_evse(cdr.EvseID),
        record=json.dumps(record, separators=(",", ":")),
        cpo_partner_session_id=cdr.CPOPartnerSessionID,
        emp_partner_session_id=cdr.EMPPartnerSessionID,
    )
    with translated():
        receipt = await service.receive_cdr(hub.uow, operator, incoming, datetime.now(UTC))
    forward = forwarder(
        calls, N.CHARGE_DETAIL_RECORD, operatorID, record, Acknowledgement, ack_answer
    )
    await service.forward_cdr(hub.uow, receipt, forward)
    return acknowledgement(True, status(Code.SUCCESS), receipt.session)


@router.post(GET_PATH, summary="eRoamingGetChargeDetailRecords")
async def get_charge_detail_records(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    acting_provider(caller, providerID)
    get = await parse_body(request, GetChargeDetailRecordsRequest)
    provider = acting_provider(caller, providerID, get.ProviderID)
    page = parse_page_query(request.query_params)
    query = CdrQuery(
        provider=provider.canonical_id,
        start=get.From.value,
        end=get.To.value,
        session_ids=tuple(s.lower() for s in get.SessionID or ()),
        operators=tuple(ids.canonical_operator(o) for o in get.operator_ids()),
        forwarded=get.CDRForwarded,
    )
    with translated():
        rows, total = await service.get_cdrs(hub.uow, query, page.offset, page.size)
    return page_body([json.loads(r.record) for r in rows], page, total)
