"""The partner clients against a real hub: every session flow driven by ``CpoClient``,
``EmpClient`` and ``evroam oicp client`` (in its own processes), the hub forwarding to a
CPO's and an online EMP's server apps under uvicorn, all over mutual TLS.

=========  =====  ================================================================
DE*CFL     CPO    its server app at ``cpo`` (remote starts, reservations)
DE-ONL     EMP    online: its server app at ``emp`` authorizes one card
DE-OFL     EMP    offline: pushes authentication data, fetches its CDRs
=========  =====  ================================================================

What arrived is read where it landed: the partner servers' record files (written by
their handlers), the hub's answers to the other party, or the operator API; never the
hub's tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from evroam.oicp import certs
from evroam.oicp.v2_3.models.authorization import AuthorizeStartRequest, AuthorizeStopRequest
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord
from evroam.oicp.v2_3.models.common import ActionType
from evroam.oicp.v2_3.models.identification import Identification
from evroam.oicp.v2_3.models.notifications import ChargingNotification
from evroam.oicp.v2_3.models.pricing import EvsePricing, PricingProductData
from evroam.oicp.v2_3.partner.cpo import CpoClient
from evroam.oicp.v2_3.partner.emp import EmpClient
from tests.integration.oicp_hub.support import HubProcess, Pki
from tests.integration.oicp_ops.partner_main import (
    ONLINE_EVCO,
    ONLINE_PIN,
    ONLINE_PROVIDER,
    ONLINE_UID,
)
from tests.integration.oicp_ops.support import PartnerServerProcess
from tests.support import PgDatabases, pg_unavailable_reason

CPO = "DE*CFL"
OFFLINE = "DE-OFL"
OFFLINE_UIDS = ("0A1B2C3D", "0A1B2C3E")
OFFLINE_EVCO = "DE-OFL-CABC12345-6"
START = "2026-11-26T10:00:00.123+01:00"
END = "2026-11-26T11:30:00+01:00"


@dataclass
class Flows:
    workdir: Path
    pki: Pki
    hub: HubProcess
    cpo_server: PartnerServerProcess
    emp_server: PartnerServerProcess

    def options(self, identity: str) -> dict[str, Any]:
        files = self.pki.client_cert(identity)
        return {"cert": files.cert, "key": files.key, "ca": self.pki.ca.cert, "timeout": 30}

    def cpo(self) -> CpoClient:
        return CpoClient(self.hub.url, CPO, operator_name="Flow Charging", **self.options(CPO))

    def emp(self, provider: str) -> EmpClient:
        return EmpClient(self.hub.url, provider, **self.options(provider))

    def cli(self, identity: str, *args: str) -> Any:
        """``evroam oicp client ARGS --json`` as ``identity``; its decoded answer."""
        files = self.pki.client_cert(identity)
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
        env |= {
            "EVROAM_OICP_URL": self.hub.url,
            "EVROAM_OICP_CERT": str(files.cert),
            "EVROAM_OICP_KEY": str(files.key),
            "EVROAM_OICP_CA": str(self.pki.ca.cert),
            "EVROAM_OICP_OPERATOR_ID" if "*" in identity else "EVROAM_OICP_PROVIDER_ID": identity,
        }
        done = subprocess.run(
            [sys.executable, "-m", "evroam", "oicp", "client", *args, "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, done.stderr + done.stdout
        return json.loads(done.stdout)

    def stop(self) -> None:
        self.hub.stop()
        self.cpo_server.stop()
        self.emp_server.stop()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def flows(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_databases: PgDatabases | None,
) -> Iterator[Flows]:
    workdir = tmp_path_factory.mktemp(f"flows-{request.param}")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        db_url = pg_databases.create()
    else:
        db_url = f"sqlite+aiosqlite:///{workdir / 'hub.db'}"
    pki = Pki(workdir / "pki")
    hub_client = certs.make_partner_cert(pki.ca, workdir / "hub-client", "evroam-hub")
    started: list[Any] = []
    try:
        cpo_server = PartnerServerProcess("cpo", workdir, pki)
        started.append(cpo_server)
        emp_server = PartnerServerProcess("emp", workdir, pki)
        started.append(emp_server)
        hub = HubProcess(
            db_url,
            workdir,
            pki,
            extra_env={
                "EVROAM_OICP__CLIENT_CERT": str(hub_client.cert),
                "EVROAM_OICP__CLIENT_KEY": str(hub_client.key),
                "EVROAM_OICP__PARTNER_CA": str(pki.ca.cert),
            },
        )
        started.append(hub)
        hub.add_partner(CPO, "CPO", endpoint=cpo_server.base_url)
        hub.add_partner(ONLINE_PROVIDER, "EMP", endpoint=emp_server.base_url)
        hub.add_partner(OFFLINE, "EMP")
        yield Flows(workdir, pki, hub, cpo_server, emp_server)
    finally:
        for process in reversed(started):
            process.stop()


def rfid(uid: str) -> Identification:
    return Identification.model_validate({"RFIDMifareFamilyIdentification": {"UID": uid}})


def qr(evco: str, pin: str | None = None) -> Identification:
    medium = {"EvcoID": evco, **({"PIN": pin} if pin else {})}
    return Identification.model_validate({"QRCodeIdentification": medium})


def cdr(session_id: str, evse: str, identification: Identification) -> ChargeDetailRecord:
    return ChargeDetailRecord.model_validate(
        {
            "SessionID": session_id,
            "EvseID": evse,
            "Identification": identification.to_wire(),
            "ChargingStart": START,
            "ChargingEnd": END,
            "SessionStart": START,
            "SessionEnd": END,
            "ConsumedEnergy": 9.5,
        }
    )


def notification(kind: str, session_id: str, evse: str) -> ChargingNotification:
    body: dict[str, Any] = {"Type": kind, "SessionID": session_id, "EvseID": evse}
    body["OperatorID"] = CPO
    if kind == "Start":
        body["ChargingStart"] = START
    elif kind == "Progress":
        body |= {"ChargingStart": START, "EventOccurred": START, "ConsumedEnergyProgress": 1.5}
    elif kind == "Error":
        body |= {"ErrorType": "ConnectorError", "ErrorAdditionalInfo": "plug stuck"}
    else:
        body |= {"ChargingEnd": END, "ConsumedEnergy": 9.5}
    return ChargingNotification.model_validate(body)


async def test_offline_emp_data_authorizes_and_its_cdrs_are_fetched_page_by_page(
    flows: Flows,
) -> None:
    async with flows.emp(OFFLINE) as emp:
        pushed = await emp.push_authentication_data(
            [rfid(OFFLINE_UIDS[0]), rfid(OFFLINE_UIDS[1]), qr(OFFLINE_EVCO)],
            ActionType.FULL_LOAD,
        )
    assert pushed.Result is True

    sessions = []
    async with flows.cpo() as cpo:
        for n, uid in enumerate(OFFLINE_UIDS, start=1):
            answer = await cpo.authorize_start(
                AuthorizeStartRequest(
                    OperatorID=CPO,
                    EvseID=f"{CPO}*E{n}",
                    Identification=rfid(uid.lower()),
                    CPOPartnerSessionID=f"cpo-off-{n}",
                )
            )
            assert answer.AuthorizationStatus == "Authorized", answer
            assert answer.ProviderID == OFFLINE and answer.SessionID is not None
            assert answer.CPOPartnerSessionID == f"cpo-off-{n}"
            sessions.append(answer.SessionID)
        first, second = sessions
        for kind in ("Start", "Progress", "Error", "End"):
            ack = await cpo.send_notification(notification(kind, first, f"{CPO}*E1"))
            assert ack.Result is True and ack.SessionID == first
        stop = await cpo.authorize_stop(
            AuthorizeStopRequest(
                SessionID=first, OperatorID=CPO, Identification=rfid(OFFLINE_UIDS[0])
            )
        )
        assert stop.AuthorizationStatus == "Authorized", stop
        assert (await cpo.send_cdr(cdr(second, f"{CPO}*E2", rfid(OFFLINE_UIDS[1])))).Result

    # The first CDR by the CLI, from a file.
    record = flows.workdir / "cdr.json"
    record.write_text(json.dumps(cdr(first, f"{CPO}*E1", rfid(OFFLINE_UIDS[0])).to_wire()))
    sent = flows.cli(CPO, "send-cdr", str(record))
    assert sent["Result"] is True and sent["SessionID"] == first
    assert sent["CPOPartnerSessionID"] == "cpo-off-1"

    # Nothing went to the online EMP; the offline one fetches both, one per page.
    assert flows.emp_server.received() == []
    fetched = flows.cli(
        OFFLINE,
        "get-cdrs",
        "--from",
        "2000-01-01T00:00:00Z",
        "--to",
        "2100-01-01T00:00:00Z",
        "--size",
        "1",
    )
    assert sorted(c["SessionID"] for c in fetched) == sorted(sessions)
    assert {c["ChargingStart"] for c in fetched} == {START}  # as the CPO wrote it
    async with flows.emp(OFFLINE) as emp:
        pages = [
            page
            async for page in emp.cdr_pages(
                "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", size=1, forwarded=False
            )
        ]
    assert [len(p.content) for p in pages] == [1, 1] and pages[-1].last is True
    assert {p.content[0].SessionID for p in pages} == set(sessions)
    async with flows.emp(OFFLINE) as emp:
        [only] = [
            page
            async for page in emp.cdr_pages(
                "2000-01-01T00:00:00Z",
                "2100-01-01T00:00:00Z",
                session_ids=[second],
                operator_id=CPO,
            )
        ]
    assert [c.SessionID for c in only.content] == [second]
    period = ("--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z")
    filtered = flows.cli(
        OFFLINE, "get-cdrs", *period, "--session", second, "--operator", CPO, "--not-forwarded"
    )
    assert [c["SessionID"] for c in filtered] == [second]
    assert flows.cli(OFFLINE, "get-cdrs", *period, "--forwarded") == []

    # The operator sees the notifications the hub kept for the offline EMP.
    shown = flows.hub.api("GET", f"/oicp/sessions/{first}", expect=200)
    kinds = [n["kind"] for n in shown["notifications"]]
    assert kinds == ["Start", "Progress", "Error", "End"]
    assert shown["state"] == "closed" and shown["cdr"]["forwarded"] is False


async def test_an_rfid_start_goes_to_the_online_emp_and_its_messages_follow(
    flows: Flows,
) -> None:
    async with flows.cpo() as cpo:
        refused = await cpo.authorize_start(
            AuthorizeStartRequest(
                OperatorID=CPO, EvseID=f"{CPO}*E5", Identification=rfid("99887766")
            )
        )
        assert refused.AuthorizationStatus == "NotAuthorized" and refused.SessionID is None
        answer = await cpo.authorize_start(
            AuthorizeStartRequest(
                OperatorID=CPO,
                EvseID=f"{CPO}*E5",
                Identification=rfid(ONLINE_UID),
                CPOPartnerSessionID="cpo-on-1",
            )
        )
        assert answer.AuthorizationStatus == "Authorized", answer
        assert answer.ProviderID == ONLINE_PROVIDER
        assert answer.EMPPartnerSessionID == "emp-rfid-1"
        session = answer.SessionID
        assert session is not None
        ack = await cpo.send_notification(notification("Start", session, f"{CPO}*E5"))
        assert ack.Result is True and ack.EMPPartnerSessionID == "emp-rfid-1"
        stop = await cpo.authorize_stop(
            AuthorizeStopRequest(SessionID=session, OperatorID=CPO, Identification=rfid(ONLINE_UID))
        )
        assert stop.AuthorizationStatus == "Authorized" and stop.SessionID == session
        assert stop.ProviderID == ONLINE_PROVIDER
        done = await cpo.send_cdr(cdr(session, f"{CPO}*E5", rfid(ONLINE_UID)))
        assert done.Result is True and done.SessionID == session

    asked = flows.emp_server.received("authorize_start")[:2]
    assert [a["Identification"] for a in asked] == [
        rfid("99887766").to_wire(),
        rfid(ONLINE_UID).to_wire(),
    ]
    assert asked[-1]["SessionID"] == session and asked[-1]["CPOPartnerSessionID"] == "cpo-on-1"
    [asked_stop] = flows.emp_server.received("authorize_stop")
    assert asked_stop["SessionID"] == session
    assert asked_stop["Identification"] == rfid(ONLINE_UID).to_wire()
    [told] = flows.emp_server.received("charging_notification")
    assert told["SessionID"] == session and told["ChargingStart"] == START
    assert told["EMPPartnerSessionID"] == "emp-rfid-1"
    [record] = flows.emp_server.received("charge_detail_record")
    assert record["SessionID"] == session and record["ConsumedEnergy"] == 9.5
    [forwarded] = flows.hub.api("GET", f"/oicp/cdrs?provider={ONLINE_PROVIDER}", expect=200)
    assert forwarded["session_id"] == session and forwarded["forwarded"] is True


async def test_remote_start_and_stop_reach_the_cpo_server_through_the_hub(
    flows: Flows,
) -> None:
    evse = f"{CPO}*E7"
    async with flows.emp(ONLINE_PROVIDER) as emp:
        started = await emp.remote_start(evse, ONLINE_EVCO, emp_partner_session_id="emp-r-1")
        assert started.Result is True and started.SessionID is not None
        assert started.CPOPartnerSessionID == "cpo-remote-1"
        assert started.EMPPartnerSessionID == "emp-r-1"
        stopped = await emp.remote_stop(started.SessionID, evse, emp_partner_session_id="emp-r-1")
        assert stopped.Result is True and stopped.SessionID == started.SessionID

    [start] = flows.cpo_server.received("remote_start")
    assert start["SessionID"] == started.SessionID and start["EvseID"] == evse
    assert start["Identification"] == {"RemoteIdentification": {"EvcoID": ONLINE_EVCO}}
    assert start["EMPPartnerSessionID"] == "emp-r-1"
    [stop] = flows.cpo_server.received("remote_stop")
    assert stop["SessionID"] == started.SessionID
    assert stop["CPOPartnerSessionID"] == "cpo-remote-1"


async def test_a_reservation_starts_and_stops_at_the_cpo_server(flows: Flows) -> None:
    evse = f"{CPO}*E8"
    async with flows.emp(ONLINE_PROVIDER) as emp:
        reserved = await emp.reservation_start(evse, ONLINE_EVCO, duration_minutes=15)
        assert reserved.Result is True and reserved.SessionID is not None
        assert reserved.CPOPartnerSessionID == "cpo-resv-1"
        released = await emp.reservation_stop(reserved.SessionID, evse)
        assert released.Result is True and released.SessionID == reserved.SessionID

    [start] = flows.cpo_server.received("reservation_start")
    assert start["SessionID"] == reserved.SessionID and start["Duration"] == 15
    [stop] = flows.cpo_server.received("reservation_stop")
    assert stop["SessionID"] == reserved.SessionID and stop["EvseID"] == evse


async def test_pricing_pushed_by_the_cpo_client_is_pulled_by_the_emp_client(
    flows: Flows,
) -> None:
    product = f"P{uuid.uuid4().hex[:8]}"
    data = PricingProductData.model_validate(
        {
            "OperatorID": CPO,
            "OperatorName": "Flow Charging",
            "ProviderID": "*",
            "PricingDefaultPrice": 0.5,
            "PricingDefaultPriceCurrency": "EUR",
            "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
            "PricingProductDataRecords": [
                {
                    "ProductID": product,
                    "ReferenceUnit": "KILOWATT_HOUR",
                    "ProductPriceCurrency": "EUR",
                    "PricePerReferenceUnit": 0.39,
                    "MaximumProductChargingPower": 22,
                    "IsValid24hours": True,
                    "ProductAvailabilityTimes": [],
                }
            ],
        }
    )
    pricing = EvsePricing(
        EvseID=f"{CPO}*E1", ProviderID=ONLINE_PROVIDER, EvseIDProductList=[product]
    )
    async with flows.cpo() as cpo:
        assert (await cpo.push_pricing_products(data)).Result is True
        assert (await cpo.push_evse_pricing([pricing])).Result is True
    async with flows.emp(ONLINE_PROVIDER) as emp:
        offers = await emp.pull_pricing_products([CPO])
        evse_pricing = await emp.pull_evse_pricing([CPO])
    [offer] = offers.PricingProductData
    assert offer.OperatorID == CPO and offer.ProviderID == "*"
    assert [r.ProductID for r in offer.PricingProductDataRecords] == [product]
    assert offer.PricingProductDataRecords[0].PricePerReferenceUnit == Decimal("0.39")
    [block] = evse_pricing.EVSEPricing
    assert [(e.EvseID, e.EvseIDProductList) for e in block.EVSEPricing] == [
        (f"{CPO}*E1", [product])
    ]
    async with flows.emp(OFFLINE) as emp:  # another EMP sees the offer to all, not the EVSE's
        assert [
            o.ProviderID for o in (await emp.pull_pricing_products([CPO])).PricingProductData
        ] == ["*"]
        assert (await emp.pull_evse_pricing([CPO])).EVSEPricing == []


async def test_a_qr_code_start_reaches_the_emp_of_its_evcoid_with_its_pin(flows: Flows) -> None:
    async with flows.cpo() as cpo:
        answer = await cpo.authorize_start(
            AuthorizeStartRequest(
                OperatorID=CPO, EvseID=f"{CPO}*E6", Identification=qr(ONLINE_EVCO, ONLINE_PIN)
            )
        )
        wrong = await cpo.authorize_start(
            AuthorizeStartRequest(
                OperatorID=CPO, EvseID=f"{CPO}*E6", Identification=qr(ONLINE_EVCO, "0000")
            )
        )
    assert answer.AuthorizationStatus == "Authorized", answer
    assert answer.ProviderID == ONLINE_PROVIDER and answer.SessionID is not None
    assert wrong.AuthorizationStatus == "NotAuthorized" and wrong.SessionID is None
    asked = [
        a["Identification"]["QRCodeIdentification"]
        for a in flows.emp_server.received("authorize_start")
        if "QRCodeIdentification" in a["Identification"]
    ]
    assert asked == [
        {"EvcoID": ONLINE_EVCO, "PIN": ONLINE_PIN},
        {"EvcoID": ONLINE_EVCO, "PIN": "0000"},
    ]
    shown = flows.hub.api("GET", f"/oicp/sessions/{answer.SessionID}", expect=200)
    assert shown["identification"] == {"type": "QRCodeIdentification", "EvcoID": "…765-4"}
    assert ONLINE_PIN not in json.dumps(shown)
