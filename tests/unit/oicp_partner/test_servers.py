"""The CPO and EMP server apps in process: the handler gets the parsed model and its
answer goes out; bad bodies 400/022, handler refusals in the operation's own shape,
handler crashes 500/001 without internals, unknown paths and methods 404/405."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.errors import OicpError, UnknownEvseId
from evroam.oicp.v2_3.models.authorization import (
    AuthorizationStartResponse,
    AuthorizeRemoteStartRequest,
    AuthorizeRemoteStopRequest,
    AuthorizeStartRequest,
)
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord
from evroam.oicp.v2_3.models.common import Acknowledgement, StatusCode
from evroam.oicp.v2_3.models.notifications import AnyChargingNotification
from evroam.oicp.v2_3.partner.cpo_server import NoReservations, create_cpo_app
from evroam.oicp.v2_3.partner.emp_server import NoAuthorizeStop, create_emp_app
from evroam.oicp.v2_3.partner.server import acknowledge

EMP = "DE-8EO"
OP = "DE*EVR"
EVSE = "DE*EVR*E1"
SESSION = "b2688855-7f00-0002-6d8e-48d883f6abb6"
START = f"/api/oicp/charging/v21/providers/{EMP}/authorize-remote/start"
STOP = f"/api/oicp/charging/v21/providers/{EMP}/authorize-remote/stop"
RESERVE = f"/api/oicp/reservation/v11/providers/{EMP}/reservation-start-request"
AUTH_START = f"/api/oicp/charging/v21/operators/{OP}/authorize/start"
CDR_PATH = f"/api/oicp/cdrmgmt/v22/operators/{OP}/charge-detail-record"
REMOTE = {"RemoteIdentification": {"EvcoID": "DE-8EO-CAet5e4XY-3"}}


def card(uid: str) -> dict[str, Any]:
    return {"RFIDMifareFamilyIdentification": {"UID": uid}}


def remote_start(**changes: Any) -> dict[str, Any]:
    return {
        "SessionID": SESSION,
        "ProviderID": EMP,
        "EvseID": EVSE,
        "Identification": REMOTE,
        "EMPPartnerSessionID": "emp-1",
        **changes,
    }


class Cpo(NoReservations):
    def __init__(self) -> None:
        self.got: list[Any] = []

    async def remote_start(self, request: AuthorizeRemoteStartRequest) -> Acknowledgement:
        self.got.append(request)
        if request.EvseID == "DE*EVR*E404":
            raise UnknownEvseId("no such EVSE here")
        if request.EvseID == "DE*EVR*E500":
            raise RuntimeError("database password is hunter2")
        return acknowledge(request, cpo_partner_session_id="cpo-9")

    async def remote_stop(self, request: AuthorizeRemoteStopRequest) -> Acknowledgement:
        self.got.append(request)
        return StatusCode.of(Code.SUCCESS)  # type: ignore[return-value]  # wrong on purpose


class Emp(NoAuthorizeStop):
    async def authorize_start(self, request: AuthorizeStartRequest) -> AuthorizationStartResponse:
        if request.Identification.uid == "DEADBEEF":
            raise OicpError("card blocked", code=Code.RFID_AUTHENTICATION_FAILED_INVALID_UID)
        return AuthorizationStartResponse(
            SessionID=request.SessionID,
            ProviderID=EMP,
            AuthorizationStatus="Authorized",
            StatusCode=StatusCode.of(Code.SUCCESS),
        )

    async def charge_detail_record(self, cdr: ChargeDetailRecord) -> Acknowledgement:
        return acknowledge(cdr)

    async def charging_notification(self, notification: AnyChargingNotification) -> Acknowledgement:
        return acknowledge(notification)


@pytest.fixture
def cpo() -> Cpo:
    return Cpo()


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://cpo")


async def test_a_remote_start_reaches_the_handler_and_its_answer_goes_out(cpo: Cpo) -> None:
    async with client(create_cpo_app(cpo)) as http:
        r = await http.post(START, json=remote_start())
    assert r.status_code == 200
    assert r.json() == {
        "Result": True,
        "StatusCode": {"Code": "000", "Description": "Success"},
        "SessionID": SESSION,
        "CPOPartnerSessionID": "cpo-9",
        "EMPPartnerSessionID": "emp-1",
    }
    assert [type(g) for g in cpo.got] == [AuthorizeRemoteStartRequest]
    assert cpo.got[0].Identification.evco_id == "DE-8EO-CAet5e4XY-3"


@pytest.mark.parametrize(
    "body, info",
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"ProviderID": "DE-8EO"}', "EvseID"),
    ],
)
async def test_a_body_that_is_not_the_operations_is_400_022(
    cpo: Cpo, body: bytes, info: str
) -> None:
    async with client(create_cpo_app(cpo)) as http:
        r = await http.post(START, content=body)
    assert r.status_code == 400
    assert r.json()["Result"] is False and r.json()["StatusCode"]["Code"] == "022"
    assert info in r.json()["StatusCode"]["AdditionalInfo"]
    assert cpo.got == []


async def test_an_identification_the_operation_does_not_admit_is_022(cpo: Cpo) -> None:
    rfid = {"RFIDMifareFamilyIdentification": {"UID": "1234ABCD"}}
    async with client(create_cpo_app(cpo)) as http:
        r = await http.post(START, json=remote_start(Identification=rfid))
    assert (r.status_code, r.json()["StatusCode"]["Code"]) == (200, "022")
    assert "RemoteIdentification" in r.json()["StatusCode"]["AdditionalInfo"]
    assert cpo.got == []


async def test_a_body_id_not_the_paths_is_022(cpo: Cpo) -> None:
    async with client(create_cpo_app(cpo)) as http:
        r = await http.post(START, json=remote_start(ProviderID="DE-XYZ"))
    assert (r.status_code, r.json()["StatusCode"]["Code"]) == (200, "022")
    assert cpo.got == []


async def test_a_handler_refusal_is_answered_with_its_code(cpo: Cpo) -> None:
    async with client(create_cpo_app(cpo)) as http:
        r = await http.post(START, json=remote_start(EvseID="DE*EVR*E404"))
    assert r.status_code == 200
    assert r.json() == {
        "Result": False,
        "StatusCode": {
            "Code": "603",
            "Description": Code.UNKNOWN_EVSE_ID.description,
            "AdditionalInfo": "no such EVSE here",
        },
    }


@pytest.mark.parametrize("path, body", [(START, remote_start(EvseID="DE*EVR*E500")), (STOP, None)])
async def test_a_handler_failure_is_500_001_without_internals(
    cpo: Cpo, path: str, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    body = body or {"SessionID": SESSION, "ProviderID": EMP, "EvseID": EVSE}
    caplog.set_level("ERROR")
    async with client(create_cpo_app(cpo)) as http:
        r = await http.post(path, json=body)
    assert r.status_code == 500
    status = r.json()["StatusCode"]
    assert status["Code"] == "001" and "AdditionalInfo" not in status
    assert "hunter2" not in r.text


async def test_reservations_not_offered_are_320(cpo: Cpo) -> None:
    body = {"ProviderID": EMP, "EvseID": EVSE, "Identification": REMOTE, "Duration": 10}
    async with client(create_cpo_app(cpo)) as http:
        r = await http.post(RESERVE, json=body)
    assert r.status_code == 200
    assert (r.json()["Result"], r.json()["StatusCode"]["Code"]) == (False, "320")


@pytest.mark.parametrize(
    "method, path, status",
    [("POST", "/api/oicp/nothing/here", 404), ("GET", START, 405), ("POST", AUTH_START, 404)],
)
async def test_unknown_paths_and_methods_are_refused_as_oicp(
    cpo: Cpo, method: str, path: str, status: int
) -> None:
    async with client(create_cpo_app(cpo)) as http:
        r = await http.request(method, path, json={})
    assert r.status_code == status and r.json()["StatusCode"]["Code"] == "022"


async def test_an_oversized_body_is_413_022(cpo: Cpo) -> None:
    async with client(create_cpo_app(cpo, max_body_bytes=2048)) as http:
        r = await http.post(START, json=remote_start(PartnerProductID="x" * 5000))
    assert r.status_code == 413 and r.json()["StatusCode"]["Code"] == "022"


async def test_a_refused_authorization_keeps_the_authorization_shape() -> None:
    """The hub reads an AuthorizeStart answer as AuthorizationStart: a refusal must be
    NotAuthorized with the code, never a bare acknowledgement."""
    body = {"OperatorID": OP, "EvseID": EVSE, "SessionID": SESSION}
    async with client(create_emp_app(Emp())) as http:
        ok = await http.post(
            AUTH_START,
            json={**body, "Identification": card("1234ABCD")},
        )
        refused = await http.post(
            AUTH_START,
            json={**body, "Identification": card("DEADBEEF")},
        )
        bad = await http.post(AUTH_START, json={"OperatorID": OP})
        stop = await http.post(
            f"/api/oicp/charging/v21/operators/{OP}/authorize/stop",
            json={**body, "Identification": card("1234ABCD")},
        )
    assert ok.json()["AuthorizationStatus"] == "Authorized"
    assert ok.json()["SessionID"] == SESSION
    assert refused.status_code == 200
    assert refused.json() == {
        "AuthorizationStatus": "NotAuthorized",
        "StatusCode": {
            "Code": "102",
            "Description": Code.RFID_AUTHENTICATION_FAILED_INVALID_UID.description,
            "AdditionalInfo": "card blocked",
        },
    }
    assert bad.status_code == 400 and bad.json()["AuthorizationStatus"] == "NotAuthorized"
    assert stop.json()["StatusCode"]["Code"] == "320"
    AuthorizationStartResponse.model_validate(refused.json())


async def test_the_emp_server_takes_cdrs_and_notifications() -> None:
    cdr = {
        "SessionID": SESSION,
        "EvseID": EVSE,
        "Identification": REMOTE,
        "ChargingStart": "2026-11-20T10:00:00+01:00",
        "ChargingEnd": "2026-11-20T11:00:00+01:00",
        "SessionStart": "2026-11-20T10:00:00+01:00",
        "SessionEnd": "2026-11-20T11:00:00+01:00",
        "ConsumedEnergy": 3.5,
    }
    note = {
        "Type": "Progress",
        "SessionID": SESSION,
        "EvseID": EVSE,
        "OperatorID": OP,
        "ChargingStart": "2026-11-20T10:00:00+01:00",
        "EventOccurred": "2026-11-20T10:10:00+01:00",
    }
    async with client(create_emp_app(Emp())) as http:
        r = await http.post(CDR_PATH, json=cdr)
        n = await http.post("/api/oicp/notificationmgmt/v11/charging-notifications", json=note)
    assert r.json()["Result"] is True and r.json()["SessionID"] == SESSION
    # A Progress without duration or energy is not the operation's shape.
    assert n.status_code == 400 and "ChargingDuration" in n.json()["StatusCode"]["AdditionalInfo"]


async def test_the_app_mounts_under_a_prefix(cpo: Cpo) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    node = Starlette(routes=[Mount("/oicp-cpo", app=create_cpo_app(cpo))])
    async with client(node) as http:
        r = await http.post("/oicp-cpo" + START, json=remote_start())
    assert r.json()["Result"] is True
