"""The webhook charge-point backend, both directions, with real processes on loopback.

Backend -> node: a CPO node (NL-CPO, ``EVROAM_BACKEND__KIND=webhook``) takes reports on
``POST /api/v1/backend/reports``; they land as its stored EVSE statuses, sessions and
CDRs and reach its eMSP partner (DE-MSP, a second real node) through the push outbox.
A report without the backend secret (or with the admin token) is 401; a bad one is
refused with nothing stored.

Node -> backend: ``WebhookBackend.handle_command`` / ``handle_profile`` against a small
real HTTP server started here, which records what arrives (body shape, bearer secret)
and answers as each case needs. Real-time authorization (``NodeReports.authorize``)
runs in this process over the CPO node's database and asks the eMSP node over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import httpx
import pytest
from pydantic import SecretStr

from evroam.backends.simulator import Simulator
from evroam.backends.validators import ocpi_validators
from evroam.backends.webhook import WebhookBackend
from evroam.config import BackendSettings
from evroam.core.backend import (
    BackendError,
    BackendReports,
    ChargerCommand,
    CommandResultType,
    CommandType,
    ProfileRequest,
    ProfileRequestType,
)
from evroam.core.errors import InvalidInput
from evroam.core.types import BusinessDetails, Party, Role
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.partner_api import OcpiPartnerApi
from evroam.services.backend_reports import NodeReports
from evroam.services.context import PartnerContext
from evroam.storage.db import create_engine, session_factory
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.integration.fake_partner import wait_until
from tests.support import NodeProcess, PgDatabases, pg_unavailable_reason
from tests.unit.test_simulator import FakeTime

SECRET = "backend-secret-0123456789"
ADMIN = "admin-secret-0123456789"
STAMP = "2026-11-25T10:00:00Z"
CPO_PARTY = Party("NL", "CPO", Role.CPO, BusinessDetails("cpo"))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def pair(
    request: pytest.FixtureRequest,
    pg_databases: PgDatabases | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    """A webhook CPO and an eMSP registered with it, shared by this module's tests
    (each uses object ids of its own)."""
    workdir = tmp_path_factory.mktemp("backend")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        urls = [pg_databases.create(), pg_databases.create()]
    else:
        urls = [f"sqlite+aiosqlite:///{workdir / n}" for n in ("cpo.db", "emsp.db")]
    env = {
        "EVROAM_BACKEND__KIND": "webhook",
        "EVROAM_BACKEND__SECRET": SECRET,
        # Never called by these tests: commands are the Commands module's.
        "EVROAM_BACKEND__URL": "http://127.0.0.1:9/commands",
    }
    cpo = NodeProcess(urls[0], workdir, country_code="NL", party_id="CPO", extra_env=env)
    emsp = NodeProcess(urls[1], workdir, country_code="DE", party_id="MSP", roles=("EMSP",))
    try:
        emsp.register_with(cpo)
        cpo.api("PUT", "/locations/NL/CPO/BR-LOC", location("BR-LOC"), expect=200)
        yield cpo, emsp
    finally:
        cpo.stop()
        emsp.stop()


def location(lid: str) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": lid,
        "publish": True,
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.08900", "longitude": "5.11000"},
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": "E1",
                "evse_id": "NL*CPO*EE1",
                "status": "AVAILABLE",
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 400,
                        "max_amperage": 32,
                        "last_updated": STAMP,
                    }
                ],
                "last_updated": STAMP,
            }
        ],
        "last_updated": STAMP,
    }


def session(sid: str, **extra: Any) -> dict[str, Any]:
    doc = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": sid,
        "start_date_time": STAMP,
        "kwh": 0,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "BR-TOKEN",
            "type": "APP_USER",
            "contract_id": "DE-MSP-C00000001",
        },
        "auth_method": "COMMAND",
        "location_id": "BR-LOC",
        "evse_uid": "E1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": STAMP,
    }
    return doc | extra


def cdr(cid: str, sid: str) -> dict[str, Any]:
    s = session(sid)
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": cid,
        "start_date_time": STAMP,
        "end_date_time": "2026-11-25T11:00:00Z",
        "session_id": sid,
        "cdr_token": s["cdr_token"],
        "auth_method": "COMMAND",
        "cdr_location": {
            "id": "BR-LOC",
            "address": "Stationsplein 1",
            "city": "Utrecht",
            "country": "NLD",
            "coordinates": {"latitude": "52.08900", "longitude": "5.11000"},
            "evse_uid": "E1",
            "evse_id": "NL*CPO*EE1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": STAMP, "dimensions": [{"type": "ENERGY", "volume": 11}]}
        ],
        "total_cost": {"excl_vat": 3.25, "incl_vat": 3.63},
        "total_energy": 11,
        "total_time": 1,
        "last_updated": "2026-11-25T11:00:00Z",
    }


def report(node: NodeProcess, body: Any, secret: str | None = SECRET) -> httpx.Response:
    headers = {} if secret is None else {"Authorization": f"Bearer {secret}"}
    return node.http.post(f"{node.url}/api/v1/backend/reports", json=body, headers=headers)


def get(node: NodeProcess, path: str) -> Any:
    r = node.http.get(
        f"{node.url}/api/v1{path}", headers={"Authorization": f"Bearer {node.admin_token}"}
    )
    return r.json().get("data") if r.status_code == 200 else None


# ---- backend -> node ------------------------------------------------------------------


def test_reports_land_as_stored_objects_and_reach_the_emsp(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = pair
    ok = report(
        cpo,
        {
            "type": "evse_status",
            "country_code": "NL",
            "party_id": "CPO",
            "location_id": "BR-LOC",
            "evse_uid": "E1",
            "status": "CHARGING",
            "at": "2026-11-25T10:00:01Z",
        },
    )
    assert ok.status_code == 200 and ok.json() == {"accepted": "evse_status"}
    assert get(cpo, "/locations/NL/CPO/BR-LOC/E1")["status"] == "CHARGING"
    wait_until(lambda: (get(emsp, "/locations/NL/CPO/BR-LOC/E1") or {}).get("status") == "CHARGING")

    sid = "BR-SES-1"
    assert report(cpo, {"type": "session_started", "session": session(sid)}).status_code == 200
    patch = {
        "kwh": 5.5,
        "total_cost": {"excl_vat": 1.88, "incl_vat": 2.07},
        "charging_periods": [
            {"start_date_time": STAMP, "dimensions": [{"type": "ENERGY", "volume": 5.5}]}
        ],
        "last_updated": "2026-11-25T10:30:00Z",
    }
    updated = {"type": "session_updated", "country_code": "nl", "party_id": "cpo"}
    assert report(cpo, updated | {"session_id": sid, "patch": patch}).status_code == 200
    ended = {
        "type": "session_ended",
        "country_code": "NL",
        "party_id": "CPO",
        "session_id": sid,
        "patch": {
            "status": "COMPLETED",
            "kwh": 11,
            "end_date_time": "2026-11-25T11:00:00Z",
            "last_updated": "2026-11-25T11:00:00Z",
        },
    }
    assert report(cpo, ended).status_code == 200
    stored = get(cpo, f"/sessions/NL/CPO/{sid}")
    assert stored["status"] == "COMPLETED" and stored["kwh"] == 11
    assert len(stored["charging_periods"]) == 1
    pushed = wait_until(
        lambda: (s := get(emsp, f"/sessions/NL/CPO/{sid}")) and s["status"] == "COMPLETED" and s
    )
    assert pushed["kwh"] == 11 and pushed["total_cost"] == patch["total_cost"]

    assert report(cpo, {"type": "cdr", "cdr": cdr("BR-CDR-1", sid)}).status_code == 200
    assert get(cpo, "/cdrs/NL/CPO/BR-CDR-1")["total_cost"]["excl_vat"] == 3.25
    wait_until(lambda: get(emsp, "/cdrs/NL/CPO/BR-CDR-1"))


@pytest.mark.parametrize(
    "secret", [None, "wrong-secret-0123456789", ADMIN], ids=["none", "wrong", "admin-token"]
)
def test_reports_need_the_backend_secret(
    pair: tuple[NodeProcess, NodeProcess], secret: str | None
) -> None:
    cpo, _ = pair
    r = report(cpo, {"type": "session_started", "session": session("BR-SES-401")}, secret)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert get(cpo, "/sessions/NL/CPO/BR-SES-401") is None


@pytest.mark.parametrize(
    "body, status, says",
    [
        ({"type": "meter_values", "kwh": 1}, 422, "type"),
        ({"type": "session_started"}, 422, "session"),
        ({"type": "session_started", "session": session("BR-SES-X", kwh="12")}, 422, "kwh"),
        (
            {"type": "session_started", "session": session("BR-SES-X", party_id="XYZ")},
            422,
            "XYZ",
        ),
        (
            {"type": "cdr", "cdr": {**cdr("BR-SES-X", "BR-SES-X"), "charging_periods": []}},
            422,
            "charging_periods",
        ),
        (
            {
                "type": "session_updated",
                "country_code": "NL",
                "party_id": "CPO",
                "session_id": "BR-SES-X",
                "patch": {"kwh": 1, "last_updated": STAMP},
            },
            404,
            "unknown session",
        ),
        (
            {
                "type": "evse_status",
                "country_code": "NL",
                "party_id": "CPO",
                "location_id": "BR-LOC",
                "evse_uid": "E9",
                "status": "CHARGING",
            },
            404,
            "unknown EVSE",
        ),
        (
            {
                "type": "evse_status",
                "country_code": "NL",
                "party_id": "CPO",
                "location_id": "BR-LOC",
                "evse_uid": "E1",
                "status": "ON_FIRE",
            },
            422,
            "status",
        ),
        (
            {
                "type": "command_result",
                "command_id": "00000000-0000-4000-8000-000000000000",
                "result": "ACCEPTED",
            },
            404,
            "00000000-0000-4000-8000-000000000000",
        ),
    ],
)
def test_bad_reports_are_refused_and_nothing_is_stored(
    pair: tuple[NodeProcess, NodeProcess], body: dict[str, Any], status: int, says: str
) -> None:
    cpo, _ = pair
    r = report(cpo, body)
    assert r.status_code == status, r.text
    assert says in r.json()["detail"]
    assert get(cpo, "/sessions/NL/CPO/BR-SES-X") is None
    assert get(cpo, "/cdrs/NL/CPO/BR-SES-X") is None
    assert get(cpo, "/locations/NL/CPO/BR-LOC/E9") is None


def test_a_cdr_reported_twice_is_refused_the_second_time(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, _ = pair
    body = {"type": "cdr", "cdr": cdr("BR-CDR-TWICE", "BR-SES-TWICE")}
    assert report(cpo, body).status_code == 200
    again = report(cpo, body | {"cdr": {**body["cdr"], "total_energy": 99}})
    assert again.status_code == 422 and "Credit CDR" in again.json()["detail"]
    assert get(cpo, "/cdrs/NL/CPO/BR-CDR-TWICE")["total_energy"] == 11


# ---- real-time authorization ------------------------------------------------------------


def test_authorize_asks_the_emsp_of_a_token_it_sent(pair: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = pair
    token = {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "BR-AUTH-1",
        "type": "RFID",
        "contract_id": "DE-MSP-C00000009",
        "issuer": "MSP",
        "valid": True,
        "whitelist": "ALWAYS",
        "last_updated": STAMP,
    }
    emsp.api("PUT", "/tokens/DE/MSP/BR-AUTH-1", token, expect=201)
    wait_until(lambda: get(cpo, "/tokens/DE/MSP/BR-AUTH-1"))  # pushed to the CPO

    async def ask() -> tuple[Any, Any, Any]:
        engine = create_engine(cpo.db_url)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                ctx = PartnerContext(
                    uow=SqlUnitOfWorkFactory(session_factory(engine)),
                    api=OcpiPartnerApi(OcpiClient(http, DeviationLog())),
                    own_parties=(CPO_PARTY,),
                    versions_url=cpo.versions_url,
                    supported_versions=("2.2.1",),
                )
                reports = NodeReports(ctx, ocpi_validators())
                found = await reports.authorize("BR-AUTH-1", "RFID", "BR-LOC", ["E1"])
                unknown = await reports.authorize("BR-AUTH-NONE", "RFID", party=("de", "msp"))
                try:
                    await reports.authorize("BR-AUTH-NONE", "RFID")
                    nobody = None
                except InvalidInput as exc:
                    nobody = str(exc)
                return found, unknown, nobody
        finally:
            await engine.dispose()

    found, unknown, nobody = asyncio.run(ask())
    assert found.allowed == "ALLOWED" and found.authorization_reference
    assert found.token["uid"] == "BR-AUTH-1"
    assert found.info["location"] == {"location_id": "BR-LOC", "evse_uids": ["E1"]}
    assert unknown.allowed == "NOT_ALLOWED"
    assert nobody is not None and "no eMSP partner has sent token" in nobody


# ---- the simulator into a node's store ----------------------------------------------------


def test_the_simulator_runs_a_session_into_the_node_store(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    """The simulator (in this process, on a driven clock) reports through NodeReports
    over the CPO node's database: every document it makes passes the node's wire
    validators and service rules, and the stored CDR costs what the tariff says for
    30 minutes at 22 kW (11 kWh at 0.25 plus a 0.50 start fee)."""
    cpo, _ = pair
    tariff = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "BR-T1",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [
                    {"type": "FLAT", "price": 0.5, "vat": 20.0, "step_size": 1},
                    {"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1},
                ]
            }
        ],
        "last_updated": STAMP,
    }
    cpo.api("PUT", "/tariffs/NL/CPO/BR-T1", tariff, expect=201)
    loc = location("BR-SIM")
    connector = loc["evses"][0]["connectors"][0]
    connector |= {"max_electric_power": 22000, "tariff_ids": ["BR-T1"]}
    cpo.api("PUT", "/locations/NL/CPO/BR-SIM", loc, expect=200)
    results: list[tuple[str, CommandResultType, str | None]] = []

    async def result(cid: str, outcome: CommandResultType, message: str | None) -> None:
        results.append((cid, outcome, message))

    async def drive() -> str:
        engine = create_engine(cpo.db_url)
        clock = FakeTime(datetime.now(UTC))
        sim = Simulator(
            BackendSettings(kind="simulator", step_seconds=60), clock=clock.clock, sleep=clock.sleep
        )
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                ctx = PartnerContext(
                    uow=SqlUnitOfWorkFactory(session_factory(engine)),
                    api=OcpiPartnerApi(OcpiClient(http, DeviationLog())),
                    own_parties=(CPO_PARTY,),
                    versions_url=cpo.versions_url,
                    supported_versions=("2.2.1",),
                )
                await sim.start(NodeReports(ctx, ocpi_validators(), command_result=result))
                token = {
                    "country_code": "DE",
                    "party_id": "MSP",
                    "uid": "BR-SIM-TOKEN",
                    "type": "APP_USER",
                    "contract_id": "DE-MSP-C00000002",
                    "issuer": "MSP",
                    "valid": True,
                    "whitelist": "NEVER",
                    "last_updated": STAMP,
                }
                await sim.handle_command(
                    replace(START, id="sim-start", token=token, location_id="BR-SIM")
                )
                await sim.idle()
                (sid,) = sim.running
                assert (get(cpo, "/locations/NL/CPO/BR-SIM/E1") or {})["status"] == "CHARGING"
                clock.now += timedelta(minutes=30)
                await sim.handle_command(
                    replace(START, id="sim-stop", type=CommandType.STOP_SESSION, session_id=sid)
                )
                await sim.idle()
                return sid
        finally:
            await sim.close()
            await engine.dispose()

    sid = asyncio.run(drive())
    assert [(c, r) for c, r, _ in results] == [
        ("sim-start", CommandResultType.ACCEPTED),
        ("sim-stop", CommandResultType.ACCEPTED),
    ]
    stored = get(cpo, f"/sessions/NL/CPO/{sid}")
    assert stored["status"] == "COMPLETED" and stored["kwh"] == 11
    assert stored["total_cost"] == {"excl_vat": 3.25, "incl_vat": 3.625}
    assert get(cpo, "/locations/NL/CPO/BR-SIM/E1")["status"] == "AVAILABLE"
    cdrs = [c for c in get(cpo, "/cdrs?own=true") if c.get("session_id") == sid]
    assert len(cdrs) == 1
    assert cdrs[0]["total_cost"] == {"excl_vat": 3.25, "incl_vat": 3.625}
    assert cdrs[0]["total_energy"] == 11 and cdrs[0]["tariffs"][0]["id"] == "BR-T1"


# ---- node -> backend --------------------------------------------------------------------


class Backend:
    """A charge-point backend on loopback: records each POST, answers ``status`` (or a
    redirect to ``location``)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any]] = []
        self.status = 202
        self.location: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                size = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(size) or b"null")
                outer.received.append((dict(self.headers.items()), body))
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cp"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backend_server() -> Iterator[Backend]:
    server = Backend()
    yield server
    server.close()


START = ChargerCommand(
    id="c0ffee00-0000-4000-8000-000000000001",
    type=CommandType.START_SESSION,
    party=("NL", "CPO"),
    emsp=("DE", "MSP"),
    received_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    timeout_s=30,
    token={"uid": "BR-TOKEN", "type": "APP_USER"},
    location_id="BR-LOC",
    evse_uid="E1",
)


def webhook(url: str) -> WebhookBackend:
    return WebhookBackend(
        BackendSettings(kind="webhook", url=url, secret=SecretStr(SECRET), timeout=2)
    )


async def test_commands_and_profile_requests_are_posted_with_the_secret(
    backend_server: Backend,
) -> None:
    hook = webhook(backend_server.url)
    await hook.start(cast(BackendReports, object()))
    try:
        await hook.handle_command(START)
        await hook.handle_profile(
            ProfileRequest(
                "p-1",
                ProfileRequestType.GET_ACTIVE,
                ("NL", "CPO"),
                "S-1",
                START.received_at,
                30,
                duration_s=900,
            )
        )
    finally:
        await hook.close()
    (h1, command), (h2, profile) = backend_server.received
    assert h1["Authorization"] == h2["Authorization"] == f"Bearer {SECRET}"
    assert command == {
        "kind": "command",
        "id": START.id,
        "type": "START_SESSION",
        "party": {"country_code": "NL", "party_id": "CPO"},
        "emsp": {"country_code": "DE", "party_id": "MSP"},
        "received_at": "2026-11-25T10:00:00Z",
        "timeout": 30,
        "token": {"uid": "BR-TOKEN", "type": "APP_USER"},
        "location_id": "BR-LOC",
        "evse_uid": "E1",
        "connector_id": None,
        "session_id": None,
        "reservation_id": None,
        "expiry_date": None,
        "authorization_reference": None,
    }
    assert profile["kind"] == "profile" and profile["type"] == "GET_ACTIVE"
    assert profile["session_id"] == "S-1" and profile["duration"] == 900


@pytest.mark.parametrize(
    "status, location, not_supported",
    [
        (500, None, False),
        (401, None, False),
        (501, None, True),
        (307, "http://127.0.0.1:9/", False),
    ],
)
async def test_a_backend_that_does_not_take_it_is_a_backend_error(
    backend_server: Backend, status: int, location: str | None, not_supported: bool
) -> None:
    backend_server.status, backend_server.location = status, location
    hook = webhook(backend_server.url)
    await hook.start(cast(BackendReports, object()))
    try:
        with pytest.raises(BackendError) as caught:
            await hook.handle_command(START)
    finally:
        await hook.close()
    assert caught.value.not_supported is not_supported
    assert len(backend_server.received) == 1  # a redirect is not followed
    assert SECRET not in str(caught.value)


async def test_an_unreachable_backend_is_a_backend_error(backend_server: Backend) -> None:
    backend_server.close()  # nothing listens there any more
    hook = webhook(backend_server.url)
    await hook.start(cast(BackendReports, object()))
    try:
        with pytest.raises(BackendError, match="unreachable"):
            await hook.handle_command(START)
    finally:
        await hook.close()
