"""eRoamingEVSEStatus: PushEvseStatus (CPO) and PullEvseStatus in its three forms (EMP).

Paths (digest §1.2 rows 11, 13-15): the push, and each pull at its own path; the
shared ``status-records`` path also takes the by-ID and by-operator bodies, told apart
by their keys (the OpenAPI ``oneOf`` cannot tell them apart: NOTES.md D2). What each
operation does with the data is ``services/oicp/status.py``; here: the checks of
``deps.py``, wire → core, core → wire.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from evroam.core.oicp import ActionType as CoreAction
from evroam.core.oicp import EvseStatusRecord as CoreRecord
from evroam.core.oicp import GeoCircle, OperatorStatuses
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import (
    CallerDep,
    HubDep,
    acting_operator,
    acting_provider,
    parse,
    parse_body,
    read_json,
)
from evroam.oicp.v2_3.errors import DataError
from evroam.oicp.v2_3.models.common import Acknowledgement, StatusCode
from evroam.oicp.v2_3.models.status import (
    EvseStatusByIdResponse,
    EvseStatuses,
    EvseStatusRecord,
    EvseStatusRecords,
    EvseStatusResponse,
    OperatorEvseStatus,
    PullEvseStatusByIdRequest,
    PullEvseStatusByOperatorIdRequest,
    PullEvseStatusRequest,
    PushEvseStatusRequest,
    pull_request_model,
)
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import status as service

# The paths come from the operation table, shared with the clients (paths.py).
PUSH_PATH = operation(N.PUSH_EVSE_STATUS).template
PULL_PATH = operation(N.PULL_EVSE_STATUS).template
PULL_BY_ID_PATH = operation(N.PULL_EVSE_STATUS_BY_ID).template
PULL_BY_OPERATOR_PATH = operation(N.PULL_EVSE_STATUS_BY_OPERATOR_ID).template

router = APIRouter(tags=["eRoamingEVSEStatus"])

Answer = dict[str, Any]


def _success() -> StatusCode:
    return StatusCode.of(Code.SUCCESS)


def _core_record(record: EvseStatusRecord) -> CoreRecord:
    return CoreRecord(
        evse_id=record.EvseID,
        canonical_evse_id=ids.canonical(record.EvseID),
        operator=ids.operator_of_evse(record.EvseID),
        status=record.EvseStatus,
    )


def _operator_blocks(groups: list[OperatorStatuses]) -> Answer:
    return EvseStatusResponse(
        EvseStatuses=EvseStatuses(
            OperatorEvseStatus=[
                OperatorEvseStatus(
                    OperatorID=g.operator_id,
                    OperatorName=g.operator_name,
                    EvseStatusRecord=[
                        EvseStatusRecord(EvseID=r.evse_id, EvseStatus=r.status) for r in g.records
                    ],
                )
                for g in groups
            ]
        ),
        StatusCode=_success(),
    ).to_wire()


@router.post(PUSH_PATH, summary="eRoamingPushEvseStatus")
async def push_evse_status(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    acting_operator(caller, operatorID)  # 017 before the body is read
    push = await parse_body(request, PushEvseStatusRequest)
    operator = acting_operator(caller, operatorID, push.OperatorEvseStatus.OperatorID)
    records = [_core_record(r) for r in push.OperatorEvseStatus.EvseStatusRecord]
    now = datetime.now(UTC)
    await service.push_statuses(hub.uow, operator, CoreAction(push.ActionType.value), records, now)
    return Acknowledgement.model_validate({"Result": True, "StatusCode": _success()}).to_wire()


async def _pull(hub: HubDep, pull: PullEvseStatusRequest) -> Answer:
    circle = None
    if pull.SearchCenter is not None:
        latitude, longitude = pull.SearchCenter.GeoCoordinates.to_floats()
        circle = GeoCircle(latitude, longitude, float(pull.SearchCenter.Radius))
    groups = await service.pull_statuses(hub.uow, pull.EVSEStatus, search_center=circle)
    return _operator_blocks(groups)


async def _pull_by_id(hub: HubDep, pull: PullEvseStatusByIdRequest) -> Answer:
    found = await service.pull_statuses_by_id(hub.uow, [(e, ids.canonical(e)) for e in pull.EvseID])
    return EvseStatusByIdResponse(
        EVSEStatusRecords=EvseStatusRecords(
            EvseStatusRecord=[EvseStatusRecord(EvseID=e, EvseStatus=s) for e, s in found]
        ),
        StatusCode=_success(),
    ).to_wire()


async def _pull_by_operator(hub: HubDep, pull: PullEvseStatusByOperatorIdRequest) -> Answer:
    operators = [ids.canonical_operator(o) for o in pull.OperatorID]
    return _operator_blocks(await service.pull_statuses_of_operators(hub.uow, operators))


@router.post(PULL_PATH, summary="eRoamingPullEvseStatus (and the ByID/ByOperatorID bodies)")
async def pull_evse_status(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    acting_provider(caller, providerID)
    data = await read_json(request)
    try:
        model = pull_request_model(data)
    except ValueError as exc:
        raise DataError(str(exc), http_status=400) from None
    pull = parse(model, data)
    acting_provider(caller, providerID, pull.ProviderID)
    if isinstance(pull, PullEvseStatusByIdRequest):
        return await _pull_by_id(hub, pull)
    if isinstance(pull, PullEvseStatusByOperatorIdRequest):
        return await _pull_by_operator(hub, pull)
    return await _pull(hub, pull)


@router.post(PULL_BY_ID_PATH, summary="eRoamingPullEvseStatusByID")
async def pull_evse_status_by_id(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    acting_provider(caller, providerID)
    pull = await parse_body(request, PullEvseStatusByIdRequest)
    acting_provider(caller, providerID, pull.ProviderID)
    return await _pull_by_id(hub, pull)


@router.post(PULL_BY_OPERATOR_PATH, summary="eRoamingPullEvseStatusByOperatorID")
async def pull_evse_status_by_operator_id(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    acting_provider(caller, providerID)
    pull = await parse_body(request, PullEvseStatusByOperatorIdRequest)
    acting_provider(caller, providerID, pull.ProviderID)
    return await _pull_by_operator(hub, pull)
