"""Per test module and backend: a hub process with two CPOs and an offline EMP, and a
small charging flow made through the hub's partner-facing API over mutual TLS, for the
operator views to read (``test_operator_views.py``).

=========  =====  =============================================================
DE*OPS     CPO    authorizes two cards offline, notifies, sends a CDR
DE*OTH     CPO    authorizes one card (the operator filter must leave it out)
DE-OFL     EMP    offline: pushes authentication data, has no endpoint
=========  =====  =============================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.integration.oicp_hub.support import HubProcess, Pki
from tests.support import PgDatabases, pg_unavailable_reason

CPO, OTHER_CPO, EMP = "DE*OPS", "DE*OTH", "DE-OFL"
UID = "04A2B3C4D5E6F7"
OTHER_UID = "0A0B0C0D"
EVCO = "DE-OFL-CAet5e4XY-3"
PIN = "4711"
#: Partner text an operator's terminal must show as it is: rich markup, an ANSI escape.
HOSTILE = "[bold red]pwned[/bold red]\x1b[2J"


@dataclass
class OpsWorld:
    hub: HubProcess
    started_at: datetime
    rfid_session: str
    qr_session: str
    other_session: str
    hostile_accepted: bool


def rfid(uid: str) -> dict[str, Any]:
    return {"RFIDMifareFamilyIdentification": {"UID": uid}}


def qr(evco: str, pin: str | None = None) -> dict[str, Any]:
    return {"QRCodeIdentification": {"EvcoID": evco, **({"PIN": pin} if pin else {})}}


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _authorize(
    hub: HubProcess, operator: str, identification: dict[str, Any], evse: str, **extra: Any
) -> httpx.Response:
    body = {"OperatorID": operator, "EvseID": evse, "Identification": identification, **extra}
    path = f"/charging/v21/operators/{operator}/authorize/start"
    return hub.client(operator).post(hub.url + path, json=body)


def make_flow(hub: HubProcess) -> OpsWorld:
    started_at = datetime.now(UTC)
    push = {
        "ActionType": "fullLoad",
        "ProviderAuthenticationData": {
            "ProviderID": EMP,
            "AuthenticationDataRecord": [
                {"Identification": i} for i in (rfid(UID), rfid(OTHER_UID), qr(EVCO, PIN))
            ],
        },
    }
    path = f"/authdata/v21/providers/{EMP}/push-request"
    assert _ok(hub.client(EMP).post(hub.url + path, json=push))["Result"] is True

    # A partner session ID with markup and an escape, if the hub takes it; else plain.
    hostile = _authorize(hub, CPO, rfid(UID), "DE*OPS*E1", CPOPartnerSessionID=HOSTILE)
    hostile_accepted = hostile.json().get("AuthorizationStatus") == "Authorized"
    answer = (
        hostile.json()
        if hostile_accepted
        else _ok(_authorize(hub, CPO, rfid(UID), "DE*OPS*E1", CPOPartnerSessionID="[red]x[/red]"))
    )
    assert answer["AuthorizationStatus"] == "Authorized", answer
    rfid_session = answer["SessionID"]
    by_qr = _ok(_authorize(hub, CPO, qr(EVCO, PIN), "DE*OPS*E2"))
    assert by_qr["AuthorizationStatus"] == "Authorized", by_qr
    other = _ok(_authorize(hub, OTHER_CPO, rfid(OTHER_UID), "DE*OTH*E9"))
    assert other["AuthorizationStatus"] == "Authorized", other

    cpo = hub.client(CPO)
    start = {
        "Type": "Start",
        "SessionID": rfid_session,
        "EvseID": "DE*OPS*E1",
        "OperatorID": CPO,
        "ChargingStart": "2026-11-26T10:00:00.123+01:00",
    }
    notified = _ok(cpo.post(hub.url + "/notificationmgmt/v11/charging-notifications", json=start))
    assert notified["Result"] is True, notified
    cdr = {
        "SessionID": rfid_session,
        "EvseID": "DE*OPS*E1",
        "Identification": rfid(UID),
        "ChargingStart": "2026-11-26T10:00:00.123+01:00",
        "ChargingEnd": "2026-11-26T11:30:00+01:00",
        "SessionStart": "2026-11-26T10:00:00.123+01:00",
        "SessionEnd": "2026-11-26T11:30:00+01:00",
        "ConsumedEnergy": 12.345,
    }
    path = f"/cdrmgmt/v22/operators/{CPO}/charge-detail-record"
    assert _ok(cpo.post(hub.url + path, json=cdr))["Result"] is True
    return OpsWorld(
        hub, started_at, rfid_session, by_qr["SessionID"], other["SessionID"], hostile_accepted
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def ops(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_databases: PgDatabases | None,
) -> Iterator[OpsWorld]:
    workdir = tmp_path_factory.mktemp(f"ops-{request.param}")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        db_url = pg_databases.create()
    else:
        db_url = f"sqlite+aiosqlite:///{workdir / 'hub.db'}"
    hub = HubProcess(db_url, workdir, Pki(workdir / "pki"))
    try:
        hub.add_partner(CPO, "CPO")
        hub.add_partner(OTHER_CPO, "CPO")
        hub.add_partner(EMP, "EMP")
        yield make_flow(hub)
    finally:
        hub.stop()
