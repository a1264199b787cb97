"""eRoamingReservation: AuthorizeRemoteReservationStart/Stop (EMP → hub → CPO; digest
§1.2 rows 8-9). The same checks and forwarding as remote start and stop
(``services/oicp/remote.py``): operator from the EvseID (300), EVSE data (603/604), a
SessionID made by the hub, the CPO's acknowledgement relayed (310/320 without one). A
CPO that does not offer reservations answers 320 itself, which is relayed. A
reservation stop needs a reservation session of the calling EMP (400).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from evroam.oicp.v2_3.deps import CallerDep, HubDep
from evroam.oicp.v2_3.hub.authorization import CallsDep, forward_remote_start, forward_remote_stop
from evroam.oicp.v2_3.models.reservation import (
    AuthorizeRemoteReservationStartRequest,
    AuthorizeRemoteReservationStopRequest,
)
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation

START_PATH = operation(N.RESERVATION_START).template
STOP_PATH = operation(N.RESERVATION_STOP).template

router = APIRouter(tags=["eRoamingReservation"])

Answer = dict[str, Any]


@router.post(START_PATH, summary="eRoamingAuthorizeRemoteReservationStart")
async def reservation_start(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    return await forward_remote_start(
        N.RESERVATION_START,
        AuthorizeRemoteReservationStartRequest,
        providerID,
        request,
        hub,
        caller,
        calls,
        reservation=True,
    )


@router.post(STOP_PATH, summary="eRoamingAuthorizeRemoteReservationStop")
async def reservation_stop(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    return await forward_remote_stop(
        N.RESERVATION_STOP,
        AuthorizeRemoteReservationStopRequest,
        providerID,
        request,
        hub,
        caller,
        calls,
        reservation=True,
    )
