"""Message bodies and calls for the session tests, written from the specification's
field lists (digest §1.3), not from the hub's models."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.integration.oicp_hub.support import HubProcess
from tests.integration.oicp_sessions.fake_partners import FakePartnerServer

CALL_TIMEOUT = 1.5
CPO, OTHER_CPO, CPO_WITHOUT_ENDPOINT = "DE*CPO", "DE*OTH", "DE*NOE"
ONLINE_EMP, OFFLINE_EMP = "DE-ONL", "DE-OFL"


@dataclass
class Roaming:
    """The module's hub and the two fake partner servers (``conftest.py``)."""

    hub: HubProcess
    fake_cpo: FakePartnerServer
    fake_emp: FakePartnerServer

    def client(self, partner_id: str) -> httpx.Client:
        return self.hub.client(partner_id)


# Date-times in the forms partners write them: a local offset with milliseconds, and Z.
START = "2026-11-26T10:00:00.123+01:00"
END = "2026-11-26T11:30:00+01:00"
LATER = "2026-11-26T10:45:00Z"


def rfid(uid: str) -> dict[str, Any]:
    return {"RFIDMifareFamilyIdentification": {"UID": uid}}


def qr(evco: str, pin: str | None = None) -> dict[str, Any]:
    medium: dict[str, Any] = {"EvcoID": evco}
    if pin is not None:
        medium["PIN"] = pin
    return {"QRCodeIdentification": medium}


def remote_id(evco: str) -> dict[str, Any]:
    return {"RemoteIdentification": {"EvcoID": evco}}


def new_guid() -> str:
    return str(uuid.uuid4())


def call(r: Roaming, caller: str, path: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
    return r.client(caller).post(r.hub.url + path, json=body, **kw)


def push_auth_data(
    r: Roaming, provider: str, action: str, identifications: list[dict[str, Any]]
) -> httpx.Response:
    body = {
        "ActionType": action,
        "ProviderAuthenticationData": {
            "ProviderID": provider,
            "AuthenticationDataRecord": [{"Identification": i} for i in identifications],
        },
    }
    return call(r, provider, f"/authdata/v21/providers/{provider}/push-request", body)


def authorize_start(
    r: Roaming, operator: str, identification: dict[str, Any], evse: str | None = None, **extra: Any
) -> httpx.Response:
    body: dict[str, Any] = {"OperatorID": operator, "Identification": identification, **extra}
    if evse:
        body["EvseID"] = evse
    return call(r, operator, f"/charging/v21/operators/{operator}/authorize/start", body)


def authorize_stop(
    r: Roaming, operator: str, session_id: str, identification: dict[str, Any]
) -> httpx.Response:
    body = {"SessionID": session_id, "OperatorID": operator, "Identification": identification}
    return call(r, operator, f"/charging/v21/operators/{operator}/authorize/stop", body)


def remote_start(r: Roaming, provider: str, evse: str, evco: str, **extra: Any) -> httpx.Response:
    body = {"ProviderID": provider, "EvseID": evse, "Identification": remote_id(evco), **extra}
    return call(r, provider, f"/charging/v21/providers/{provider}/authorize-remote/start", body)


def remote_stop(r: Roaming, provider: str, session_id: str, evse: str) -> httpx.Response:
    body = {"ProviderID": provider, "EvseID": evse, "SessionID": session_id}
    return call(r, provider, f"/charging/v21/providers/{provider}/authorize-remote/stop", body)


def cdr_body(session_id: str, evse: str, identification: dict[str, Any]) -> dict[str, Any]:
    return {
        "SessionID": session_id,
        "EvseID": evse,
        "Identification": identification,
        "ChargingStart": START,
        "ChargingEnd": END,
        "SessionStart": START,
        "SessionEnd": END,
        "ConsumedEnergy": 12.345,
        "MeterValueInBetween": {"meterValues": [1.5, 7.25]},
    }


def send_cdr(r: Roaming, operator: str, body: dict[str, Any]) -> httpx.Response:
    return call(r, operator, f"/cdrmgmt/v22/operators/{operator}/charge-detail-record", body)


def notification(kind: str, session_id: str, operator: str, evse: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": kind,
        "SessionID": session_id,
        "EvseID": evse,
        "OperatorID": operator,
    }
    if kind == "Start":
        body["ChargingStart"] = START
    elif kind == "Progress":
        body |= {"ChargingStart": START, "EventOccurred": LATER, "ConsumedEnergyProgress": 4.5}
    elif kind == "End":
        body |= {"ChargingEnd": END, "ConsumedEnergy": 12.345}
    else:
        body["ErrorType"] = "ConnectorError"
    return body


def notify(r: Roaming, operator: str, body: dict[str, Any]) -> httpx.Response:
    return call(r, operator, "/notificationmgmt/v11/charging-notifications", body)


def get_cdrs(
    r: Roaming, provider: str, page: int = 0, size: int = 20, **filters: Any
) -> httpx.Response:
    body = {
        "ProviderID": provider,
        "From": "2000-01-01T00:00:00Z",
        "To": "2100-01-01T00:00:00+01:00",
        **filters,
    }
    path = f"/cdrmgmt/v22/providers/{provider}/get-charge-detail-records-request"
    return call(r, provider, path, body, params={"page": page, "size": size})


def ack(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def refused(r: httpx.Response, code: str, http: int = 200) -> dict[str, Any]:
    assert r.status_code == http, r.text
    body: dict[str, Any] = r.json()
    assert body["Result"] is False and body["StatusCode"]["Code"] == code, body
    return body
