"""eRoamingAuthorization: AuthorizeStart/Stop (CPO → hub → online EMP) and
AuthorizeRemoteStart/Stop (EMP → hub → CPO); digest §1.2 rows 1-4.

Each route: the checks of ``deps.py`` (017 before the body is read, then the body's
ID), the Identification allowed for the operation (022, ``session_support``), then the
service (``services/oicp/authorization.py``, ``remote.py``) with a forwarder that sends
the message as received plus the hub's SessionID (``calls.forwarder``), and the answer:

* AuthorizeStart/Stop answer ``eRoamingAuthorizationStart``/``Stop``: a refused
  authorization is ``NotAuthorized`` with the code of why (the EMP's own when it said
  no; 101/102/105 by medium when nobody authorized; 300/310/320 when the one EMP to ask
  was unknown, silent, or gave no OICP answer);
* the remote operations relay the CPO's acknowledgement with the session's IDs; no
  answer from the CPO is ``Result`` false with 310 (320 for a non-OICP answer).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from evroam.core.oicp_sessions import Medium
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import (
    Caller,
    CallerDep,
    HubContext,
    HubDep,
    acting_operator,
    acting_provider,
    parse_body,
)
from evroam.oicp.v2_3.errors import InconsistentEvseId, SessionIsInvalid
from evroam.oicp.v2_3.hub.calls import (
    PartnerCalls,
    ack_answer,
    authorization_answer,
    failure_code,
    forwarder,
    get_calls,
)
from evroam.oicp.v2_3.hub.session_support import (
    acknowledgement,
    checked_identification,
    session_ids,
    status,
    translated,
)
from evroam.oicp.v2_3.models.authorization import (
    AuthorizationStartResponse,
    AuthorizationStopResponse,
    AuthorizeRemoteStartRequest,
    AuthorizeRemoteStopRequest,
    AuthorizeStartRequest,
    AuthorizeStopRequest,
)
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.models.reservation import (
    AuthorizeRemoteReservationStartRequest,
    AuthorizeRemoteReservationStopRequest,
)
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import authorization as service
from evroam.services.oicp import remote
from evroam.services.oicp.authorization import Failure

START_PATH = operation(N.AUTHORIZE_START).template
STOP_PATH = operation(N.AUTHORIZE_STOP).template
REMOTE_START_PATH = operation(N.AUTHORIZE_REMOTE_START).template
REMOTE_STOP_PATH = operation(N.AUTHORIZE_REMOTE_STOP).template

router = APIRouter(tags=["eRoamingAuthorization"])

Answer = dict[str, Any]
CallsDep = Annotated[PartnerCalls, Depends(get_calls)]

# Nobody authorized the medium: the code for its kind (digest §2, 1xx).
_NOT_AUTHORIZED = {
    "RFID": Code.RFID_AUTHENTICATION_FAILED_INVALID_UID,
    "QR": Code.QR_CODE_AUTHENTICATION_FAILED,
    "PNC": Code.PLC_AUTHENTICATION_FAILED_INVALID_EVCO_ID,
}


def _failure_status(outcome: service.Outcome, medium: Medium) -> dict[str, Any]:
    failure = outcome.failure
    if failure is Failure.REFUSED and outcome.answer is not None:
        return dict(outcome.answer.body["StatusCode"])
    if failure is Failure.NO_PARTNER:
        return status(Code.PARTNER_NOT_FOUND, outcome.detail)
    if failure is Failure.NO_ANSWER:
        return status(Code.PARTNER_DID_NOT_RESPOND, outcome.detail)
    if failure is Failure.NOT_OICP:
        return status(Code.SERVICE_NOT_AVAILABLE, outcome.detail)
    if failure is Failure.WRONG_PIN:
        return status(Code.QR_CODE_AUTHENTICATION_FAILED)
    if failure is Failure.OTHER_MEDIUM:
        return status(
            _NOT_AUTHORIZED.get(medium.key.partition(":")[0], Code.DATA_ERROR),
            "a session authorized by the hub stops with the medium that started it",
        )
    kind = medium.key.partition(":")[0]
    return status(_NOT_AUTHORIZED.get(kind, Code.NO_POSITIVE_AUTHENTICATION_RESPONSE))


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(START_PATH, summary="eRoamingAuthorizeStart")
async def authorize_start(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    acting_operator(caller, operatorID)
    start = await parse_body(request, AuthorizeStartRequest)
    operator = acting_operator(caller, operatorID, start.OperatorID)
    medium = checked_identification(N.AUTHORIZE_START, start.Identification)
    forward = forwarder(
        calls,
        N.AUTHORIZE_START,
        operatorID,
        start.to_wire(),
        AuthorizationStartResponse,
        authorization_answer,
    )
    evse = (start.EvseID, ids.operator_of_evse(start.EvseID)) if start.EvseID else None
    with translated():
        outcome = await service.authorize_start(
            hub.uow,
            operator,
            medium,
            evse,
            forward,
            _now(),
            cpo_partner_session_id=start.CPOPartnerSessionID,
        )
    if not outcome.authorized or outcome.session is None:
        answer: Answer = {"AuthorizationStatus": "NotAuthorized"}
        answer["StatusCode"] = _failure_status(outcome, medium)
        if start.CPOPartnerSessionID:
            answer["CPOPartnerSessionID"] = start.CPOPartnerSessionID
        return answer
    session = outcome.session
    answer = {
        **session_ids(session),
        "ProviderID": session.provider_id,
        "AuthorizationStatus": "Authorized",
        "StatusCode": status(Code.SUCCESS),
    }
    emp = outcome.answer
    if emp is not None:
        answer["StatusCode"] = dict(emp.body["StatusCode"])
        if emp.body.get("AuthorizationStopIdentifications"):
            answer["AuthorizationStopIdentifications"] = emp.body[
                "AuthorizationStopIdentifications"
            ]
    else:
        # Offline: the medium that started it is the one that may stop it.
        answer["AuthorizationStopIdentifications"] = [json.loads(medium.wire)]
    return AuthorizationStartResponse.model_validate(answer).to_wire()


@router.post(STOP_PATH, summary="eRoamingAuthorizeStop")
async def authorize_stop(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    acting_operator(caller, operatorID)
    stop = await parse_body(request, AuthorizeStopRequest)
    operator = acting_operator(caller, operatorID, stop.OperatorID)
    medium = checked_identification(N.AUTHORIZE_STOP, stop.Identification)
    if stop.EvseID and ids.operator_of_evse(stop.EvseID) != operator.canonical_id:
        raise InconsistentEvseId(f"EvseID {stop.EvseID} is not of operator {operatorID}")
    forward = forwarder(
        calls,
        N.AUTHORIZE_STOP,
        operatorID,
        stop.to_wire(),
        AuthorizationStopResponse,
        authorization_answer,
    )
    try:
        with translated():
            outcome = await service.authorize_stop(
                hub.uow,
                operator,
                stop.SessionID.lower(),
                medium,
                forward,
                _now(),
                cpo_partner_session_id=stop.CPOPartnerSessionID,
            )
    except SessionIsInvalid as exc:
        # Answered in the operation's own shape, so a CPO reads it as a refused stop.
        return AuthorizationStopResponse.model_validate(
            {"AuthorizationStatus": "NotAuthorized", "StatusCode": exc.status_code()}
        ).to_wire()
    session = outcome.session
    answer = {**session_ids(session)}
    if session is not None and session.provider_id:
        answer["ProviderID"] = session.provider_id
    if outcome.authorized:
        answer["AuthorizationStatus"] = "Authorized"
        code = dict(outcome.answer.body["StatusCode"]) if outcome.answer else status(Code.SUCCESS)
        answer["StatusCode"] = code
    else:
        answer["AuthorizationStatus"] = "NotAuthorized"
        answer["StatusCode"] = _failure_status(outcome, medium)
    return AuthorizationStopResponse.model_validate(answer).to_wire()


def relay(forwarded: remote.Forwarded, keep_session: bool) -> Answer:
    """The CPO's acknowledgement with the session's IDs, or why there is none. A start
    that failed has no session any more (``keep_session`` False): its SessionID is not
    given out."""
    session = forwarded.session if (forwarded.accepted or keep_session) else None
    if forwarded.failure is not None:
        code = failure_code(forwarded.failure.failure)
        info = f"{forwarded.failure}"
        return acknowledgement(False, status(code, info), session)
    assert forwarded.answer is not None
    return acknowledgement(
        forwarded.answer.accepted, dict(forwarded.answer.body["StatusCode"]), session
    )


RemoteStartModel = type[AuthorizeRemoteStartRequest] | type[AuthorizeRemoteReservationStartRequest]
RemoteStopModel = type[AuthorizeRemoteStopRequest] | type[AuthorizeRemoteReservationStopRequest]


async def forward_remote_start(
    name: N,
    model: RemoteStartModel,
    providerID: str,
    request: Request,
    hub: HubContext,
    caller: Caller,
    calls: PartnerCalls,
    *,
    reservation: bool,
) -> Answer:
    """A remote start or a reservation start (``reservation.py``): the same checks, a
    session made by the hub, the call forwarded to the CPO of the EVSE."""
    acting_provider(caller, providerID)
    start = await parse_body(request, model)
    provider = acting_provider(caller, providerID, start.ProviderID)
    medium = checked_identification(name, start.Identification)
    request_start = remote.RemoteStart(
        evse_id=start.EvseID,
        canonical_evse_id=ids.canonical(start.EvseID),
        operator=ids.operator_of_evse(start.EvseID),
        medium=medium,
        reservation=reservation,
        emp_partner_session_id=start.EMPPartnerSessionID,
        cpo_partner_session_id=start.CPOPartnerSessionID,
    )
    forward = forwarder(calls, name, providerID, start.to_wire(), Acknowledgement, ack_answer)
    with translated():
        forwarded = await remote.remote_start(hub.uow, provider, request_start, forward, _now())
    return relay(forwarded, keep_session=False)


async def forward_remote_stop(
    name: N,
    model: RemoteStopModel,
    providerID: str,
    request: Request,
    hub: HubContext,
    caller: Caller,
    calls: PartnerCalls,
    *,
    reservation: bool,
) -> Answer:
    """A remote stop or a reservation stop: the session must be the caller's."""
    acting_provider(caller, providerID)
    stop = await parse_body(request, model)
    provider = acting_provider(caller, providerID, stop.ProviderID)
    forward = forwarder(calls, name, providerID, stop.to_wire(), Acknowledgement, ack_answer)
    with translated():
        forwarded = await remote.remote_stop(
            hub.uow,
            provider,
            stop.SessionID.lower(),
            ids.operator_of_evse(stop.EvseID),
            forward,
            _now(),
            reservation=reservation,
            emp_partner_session_id=stop.EMPPartnerSessionID,
        )
    return relay(forwarded, keep_session=True)


@router.post(REMOTE_START_PATH, summary="eRoamingAuthorizeRemoteStart")
async def authorize_remote_start(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    return await forward_remote_start(
        N.AUTHORIZE_REMOTE_START,
        AuthorizeRemoteStartRequest,
        providerID,
        request,
        hub,
        caller,
        calls,
        reservation=False,
    )


@router.post(REMOTE_STOP_PATH, summary="eRoamingAuthorizeRemoteStop")
async def authorize_remote_stop(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep, calls: CallsDep
) -> Answer:
    return await forward_remote_stop(
        N.AUTHORIZE_REMOTE_STOP,
        AuthorizeRemoteStopRequest,
        providerID,
        request,
        hub,
        caller,
        calls,
        reservation=False,
    )
