"""eRoamingChargingNotifications: Start, Progress, End, Error from the CPO, on one path
with no ID in it (digest §1.2 row 20; ``services/oicp/notifications.py``).

The body's ``OperatorID`` is the caller's or 017 (it is the only ID, so it is checked
once the body is read; the certificate and address were checked before). The variant
is chosen by ``Type`` (NOTES.md D2). An online EMP's acknowledgement is relayed with the
session's IDs; for an offline EMP the notification is kept and acknowledged 000.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import CallerDep, HubDep, acting_operator, parse, read_json
from evroam.oicp.v2_3.hub.authorization import CallsDep
from evroam.oicp.v2_3.hub.calls import ack_answer, failure_code, forwarder
from evroam.oicp.v2_3.hub.session_support import (
    acknowledgement,
    checked_identification,
    status,
    translated,
)
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.models.notifications import ChargingNotification
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import notifications as service

PATH = operation(N.CHARGING_NOTIFICATION).template

router = APIRouter(tags=["eRoamingChargingNotifications"])

Answer = dict[str, Any]


@router.post(PATH, summary="eRoamingChargingNotifications (Start, Progress, End, Error)")
async def charging_notification(
    request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    notification = parse(ChargingNotification, await read_json(request)).root
    operator = acting_operator(caller, notification.OperatorID)
    if notification.Identification is not None:
        checked_identification(N.CHARGING_NOTIFICATION, notification.Identification)
    body = notification.to_wire()
    incoming = service.Notification(
        session_id=notification.SessionID.lower(),
        kind=notification.Type,
        evse_id=notification.EvseID,
        evse_operator=ids.operator_of_evse(notification.EvseID),
        body=json.dumps(body, separators=(",", ":")),
        cpo_partner_session_id=notification.CPOPartnerSessionID,
        emp_partner_session_id=notification.EMPPartnerSessionID,
    )
    forward = forwarder(calls, N.CHARGING_NOTIFICATION, None, body, Acknowledgement, ack_answer)
    with translated():
        delivery = await service.receive_notification(
            hub.uow, operator, incoming, forward, datetime.now(UTC)
        )
    if delivery.failure is not None:
        code = failure_code(delivery.failure.failure)
        return acknowledgement(False, status(code, str(delivery.failure)), delivery.session)
    if delivery.answer is not None:
        return acknowledgement(
            delivery.answer.accepted, dict(delivery.answer.body["StatusCode"]), delivery.session
        )
    return acknowledgement(True, status(Code.SUCCESS), delivery.session)
