"""eRoamingReservation: AuthorizeRemoteReservationStart/Stop (EMP → hub → CPO; digest
§1.2 rows 8-9). The same checks and forwarding as remote start and stop
(``services/oicp/remote.py``): operator from the EvseID (300), EVSE data (603/604), a
SessionID made by the hub, the CPO's acknowledgement relayed (310/320 without one). A
CPO that does not offer reservations answers 320 itself, which is relayed. A
reservation stop needs a reservation session of the calling EMP (400).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.deps import CallerDep, HubDep, acting_provider, parse_body
from evroam.oicp.v2_3.hub.authorization import CallsDep, relay
from evroam.oicp.v2_3.hub.calls import ack_answer, forwarder
from evroam.oicp.v2_3.hub.session_support import checked_identification, translated
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.models.reservation import (
    AuthorizeRemoteReservationStartRequest,
    AuthorizeRemoteReservationStopRequest,
)
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import remote

START_PATH = operation(N.RESERVATION_START).template
STOP_PATH = operation(N.RESERVATION_STOP).template

router = APIRouter(tags=["eRoamingReservation"])

Answer = dict[str, Any]


@router.post(START_PATH, summary="eRoamingAuthorizeRemoteReservationStart")
async def reservation_start(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    acting_provider(caller, providerID)
    start = await parse_body(request, AuthorizeRemoteReservationStartRequest)
    provider = acting_provider(caller, providerID, start.ProviderID)
    medium = checked_identification(N.RESERVATION_START, start.Identification)
    reservation = remote.RemoteStart(
        evse_id=start.EvseID,
        canonical_evse_id=ids.canonical(start.EvseID),
        operator=ids.operator_of_evse(start.EvseID),
        medium=medium,
        reservation=True,
        emp_partner_session_id=start.EMPPartnerSessionID,
        cpo_partner_session_id=start.CPOPartnerSessionID,
    )
    forward = forwarder(
        calls, N.RESERVATION_START, providerID, start.to_wire(), Acknowledgement, ack_answer
    )
    with translated():
        forwarded = await remote.remote_start(
            hub.uow, provider, reservation, forward, datetime.now(UTC)
        )
    return relay(forwarded, keep_session=False)


@router.post(STOP_PATH, summary="eRoamingAuthorizeRemoteReservationStop")
async def reservation_stop(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    acting_provider(caller, providerID)
    stop = await parse_body(request, AuthorizeRemoteReservationStopRequest)
    provider = acting_provider(caller, providerID, stop.ProviderID)
    forward = forwarder(
        calls, N.RESERVATION_STOP, providerID, stop.to_wire(), Acknowledgement, ack_answer
    )
    with translated():
        forwarded = await remote.remote_stop(
            hub.uow,
            provider,
            stop.SessionID.lower(),
            ids.operator_of_evse(stop.EvseID),
            forward,
            datetime.now(UTC),
            reservation=True,
            emp_partner_session_id=stop.EMPPartnerSessionID,
        )
    return relay(forwarded, keep_session=True)
