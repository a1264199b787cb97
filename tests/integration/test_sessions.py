"""Sessions between two real nodes (OCPI 2.2.1 mod_sessions), on SQLite and PostgreSQL,
through the shared pair: NL-CPO (CPO) and DE-MSP (eMSP).

The partner side is driven with the node's OWN client code (``sessions/client.py``) run
in the test process, with the token the other node holds for it (``token_out``):
the eMSP reads the CPO's Sender following ``Link`` to the end and sets Charging
Preferences; the CPO writes the eMSP's Receiver. What the nodes serve is validated
against the OCPI OpenAPI files. Object ids start with ``SES-T`` (the pair is shared).

Charging Preferences need a Location and Tariffs in the CPO's store; the Locations and
Tariffs modules are written alongside this one, so the test stores those two documents
straight through the storage layer (the Sessions service reads them only as JSON).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from evroam.core.objects import ObjectKey, StoredObject
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    ModuleId,
    Partner,
    Party,
    Role,
)
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.v2_2_1.sessions.client import SessionsClient
from evroam.ocpi.v2_2_1.sessions.models import ChargingPreferencesResponse
from evroam.storage.db import create_engine, session_factory
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.integration.fake_partner import token_out
from tests.ocpi_schema import schemas_missing_reason, validate_221
from tests.support import NodeProcess

T = TypeVar("T")
CLIENT = SessionsClient()
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ocpi" / "examples" / "2.2.1"
CPO_PARTY = Party("NL", "CPO", Role.CPO, BusinessDetails("cpo"))
EMSP_PARTY = Party("DE", "MSP", Role.EMSP, BusinessDetails("emsp"))
SENDER = "/ocpi/2.2.1/sender/sessions"
RECEIVER = "/ocpi/2.2.1/receiver/sessions"
ROUTE_TO_CPO = {
    "OCPI-from-country-code": "DE",
    "OCPI-from-party-id": "MSP",
    "OCPI-to-country-code": "NL",
    "OCPI-to-party-id": "CPO",
}


def session(
    sid: str, *, last_updated: str = "2026-11-25T10:00:00Z", **extra: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": sid,
        "start_date_time": "2026-11-25T09:00:00Z",
        "kwh": 1.5,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "TOKEN1",
            "type": "RFID",
            "contract_id": "DE-MSP-C00000001",
        },
        "auth_method": "WHITELIST",
        "location_id": "SES-T-LOC",
        "evse_uid": "SES-T-EVSE-SMART",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": last_updated,
    }
    return doc | extra


def period(start: str, kwh: float) -> dict[str, Any]:
    return {"start_date_time": start, "dimensions": [{"type": "ENERGY", "volume": kwh}]}


def core_partner(node: NodeProcess, ref: str) -> Partner:
    """The partner as ``node`` holds it, with its token, for the node's client code."""
    p = node.api("GET", f"/partners/{ref}", expect=200)
    return Partner(
        id=p["id"],
        status=ConnectionStatus(p["status"]),
        version=p["version"],
        endpoints=[
            Endpoint(e["identifier"], InterfaceRole(e["role"]) if e["role"] else None, e["url"])
            for e in p["endpoints"]
        ],
        roles=[
            Party(r["country_code"], r["party_id"], Role(r["role"]), BusinessDetails(r["name"]))
            for r in p["roles"]
        ],
        token_out=token_out(node, p["id"]),
    )


def run(make: Callable[[OcpiClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with httpx.AsyncClient(timeout=30) as http:
            return await make(OcpiClient(http, DeviationLog()))

    return asyncio.run(go())


async def collect(pages: AsyncIterator[Any]) -> list[Any]:
    return [page async for page in pages]


def store_own(node: NodeProcess, module: ModuleId, key: ObjectKey, doc: dict[str, Any]) -> None:
    async def go() -> None:
        engine = create_engine(node.db_url)
        try:
            uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
            async with uow_factory() as uow:
                await uow.objects.put(StoredObject(module, key, datetime.now(UTC), json.dumps(doc)))
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(go())


def envelope(r: httpx.Response, http_status: int, status: int) -> dict[str, Any]:
    assert r.status_code == http_status, r.text
    body = r.json()
    assert body["status_code"] == status, body
    return dict(body)


@pytest.fixture(scope="module")
def nodes(connected_nodes: tuple[NodeProcess, NodeProcess]) -> tuple[NodeProcess, NodeProcess]:
    """The pair with three own sessions loaded on the CPO through the operator API."""
    cpo, _ = connected_nodes
    for n in range(1, 4):
        cpo.api("PUT", f"/sessions/NL/CPO/SES-T-{n}", session(f"SES-T-{n}"), expect=201)
    return connected_nodes


def test_operator_loads_own_sessions_and_refuses_other_parties(
    nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, _ = nodes
    body = cpo.api("PUT", "/sessions/NL/CPO/SES-T-1", session("SES-T-1"), expect=200)
    assert body["status_code"] == 1000
    got = cpo.api("GET", "/sessions/nl/cpo/ses-t-1", expect=200)
    assert got["data"] == session("SES-T-1")
    refused = cpo.api("PUT", "/sessions/DE/MSP/SES-T-X", session("SES-T-X"), expect=400)
    assert refused["status_code"] == 2001 and "DE-MSP" in refused["status_message"]
    mismatch = cpo.api("PUT", "/sessions/NL/CPO/SES-T-Y", session("SES-T-1"), expect=400)
    assert mismatch["status_code"] == 2001
    assert cpo.api("GET", "/sessions/NL/CPO/SES-T-Y", expect=404)["status_code"] == 2000
    # PATCH through the operator API appends charging_periods and keeps the rest.
    cpo.api(
        "PATCH",
        "/sessions/NL/CPO/SES-T-3",
        {
            "kwh": 2.0,
            "charging_periods": [period("2026-11-25T09:00:00Z", 2.0)],
            "last_updated": "2026-11-25T10:05:00Z",
        },
        expect=200,
    )
    got = cpo.api("GET", "/sessions/NL/CPO/SES-T-3", expect=200)["data"]
    assert got["kwh"] == 2.0 and len(got["charging_periods"]) == 1
    listed = cpo.api("GET", "/sessions?party=NL-CPO&own=true&limit=1000", expect=200)
    assert {"SES-T-1", "SES-T-2", "SES-T-3"} <= {s["id"] for s in listed["data"]}


def test_emsp_client_reads_the_cpo_sender_following_link(
    nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = nodes
    partner = core_partner(emsp, "NL-CPO")
    pages = run(
        lambda http: collect(
            CLIENT.pull(
                http, partner, EMSP_PARTY, date_from=datetime(2026, 1, 1, tzinfo=UTC), limit=2
            )
        )
    )
    assert len(pages) >= 2  # three sessions, two per page: Link was followed
    ids = [s["id"] for p in pages for s in p.sessions]
    assert {"SES-T-1", "SES-T-2", "SES-T-3"} <= set(ids)
    assert len(ids) == len(set(ids))
    assert all(not p.invalid for p in pages)
    # The raw answer: routing headers swapped, pagination headers, an absolute Link.
    token = token_out(emsp, partner.id)
    r = cpo.ocpi(
        "GET",
        SENDER,
        token,
        params={"date_from": "2026-01-01T00:00:00Z", "limit": 1},
        headers=ROUTE_TO_CPO,
    )
    body = envelope(r, 200, 1000)
    assert r.headers["OCPI-from-country-code"] == "NL" and r.headers["OCPI-from-party-id"] == "CPO"
    assert r.headers["OCPI-to-country-code"] == "DE" and r.headers["OCPI-to-party-id"] == "MSP"
    assert int(r.headers["X-Total-Count"]) >= 3 and r.headers["X-Limit"]
    assert r.headers["Link"].startswith(f"<{cpo.url}{SENDER}?")
    assert "date_from=2026-01-01T00%3A00%3A00Z" in r.headers["Link"]
    assert len(body["data"]) == 1


def test_sender_without_date_from_is_tolerated(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    # The spec marks date_from required for this list; evroam serves from the beginning.
    cpo, emsp = nodes
    token = token_out(emsp, core_partner(emsp, "NL-CPO").id)
    r = cpo.ocpi("GET", SENDER, token, params={"limit": 1000})
    assert {"SES-T-1", "SES-T-2"} <= {s["id"] for s in envelope(r, 200, 1000)["data"]}
    later = cpo.ocpi("GET", SENDER, token, params={"date_from": "2026-11-25T10:00:01Z"})
    assert "SES-T-1" not in {s["id"] for s in envelope(later, 200, 1000)["data"]}


def test_sender_serves_only_the_callers_sessions(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = nodes
    other = session("SES-T-OTHER")
    other["cdr_token"] |= {"country_code": "BE", "party_id": "XYZ"}
    cpo.api("PUT", "/sessions/NL/CPO/SES-T-OTHER", other, expect=201)
    token = token_out(emsp, core_partner(emsp, "NL-CPO").id)
    r = cpo.ocpi("GET", SENDER, token, params={"limit": 1000})
    served = envelope(r, 200, 1000)["data"]
    assert "SES-T-OTHER" not in {s["id"] for s in served}
    assert int(r.headers["X-Total-Count"]) == len(served)
    shown = cpo.api("GET", "/sessions?party=NL-CPO&own=true&limit=1000", expect=200)["data"]
    assert "SES-T-OTHER" in {s["id"] for s in shown}  # the operator sees every own session


def test_sender_refuses_wrong_routing_headers(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = nodes
    token = token_out(emsp, core_partner(emsp, "NL-CPO").id)
    wrong = ROUTE_TO_CPO | {"OCPI-from-party-id": "XXX"}
    r = cpo.ocpi("GET", SENDER, token, params={"date_from": "2026-01-01T00:00:00Z"}, headers=wrong)
    assert "OCPI-from" in envelope(r, 200, 2001)["status_message"]


def test_served_sessions_validate_against_the_openapi_schema(
    nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    if reason := schemas_missing_reason():
        pytest.skip(reason)
    cpo, emsp = nodes
    token = token_out(emsp, core_partner(emsp, "NL-CPO").id)
    r = cpo.ocpi("GET", SENDER, token, params={"date_from": "2026-01-01T00:00:00Z", "limit": 1000})
    served = envelope(r, 200, 1000)["data"]
    assert served
    for item in served:
        assert validate_221("sessions", "Session", item) == []


def test_cpo_client_writes_the_emsp_receiver(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = nodes
    partner = core_partner(cpo, "DE-MSP")
    key = {"country_code": "NL", "party_id": "CPO", "id": "SES-T-R1"}
    first = session("SES-T-R1", charging_periods=[period("2026-11-25T09:00:00Z", 1.0)])

    async def flow(http: OcpiClient) -> list[Any]:
        put = await CLIENT.put(http, partner, CPO_PARTY, first)
        again = await CLIENT.put(http, partner, CPO_PARTY, first)
        patch = await CLIENT.patch(
            http,
            partner,
            CPO_PARTY,
            key,
            {
                "kwh": 3.0,
                "charging_periods": [period("2026-11-25T09:30:00Z", 2.0)],
                "last_updated": "2026-11-25T10:10:00Z",
            },
        )
        after_patch = await CLIENT.get(http, partner, CPO_PARTY, key)
        stale = await CLIENT.patch(
            http, partner, CPO_PARTY, key, {"kwh": 0.1, "last_updated": "2026-11-25T10:01:00Z"}
        )
        after_stale = await CLIENT.get(http, partner, CPO_PARTY, key)
        replace = session(
            "SES-T-R1",
            last_updated="2026-11-25T10:20:00Z",
            kwh=4.0,
            status="COMPLETED",
            end_date_time="2026-11-25T10:15:00Z",
        )
        await CLIENT.put(http, partner, CPO_PARTY, replace)
        after_put = await CLIENT.get(http, partner, CPO_PARTY, key)
        return [put, again, patch, after_patch, stale, after_stale, after_put]

    put, again, patch, after_patch, stale, after_stale, after_put = run(flow)
    assert (put.http_status, again.http_status) == (201, 200)
    assert put.headers["OCPI-from-country-code"] == "DE"
    assert put.headers["OCPI-to-party-id"] == "CPO"
    assert patch.status_code == 1000
    assert after_patch["kwh"] == 3.0
    assert [p["dimensions"][0]["volume"] for p in after_patch["charging_periods"]] == [1.0, 2.0]
    assert stale.status_code == 1000 and after_stale == after_patch  # older: unchanged
    assert "charging_periods" not in after_put  # PUT replaces them wholesale
    assert after_put["status"] == "COMPLETED"
    # The eMSP's operator sees the received session.
    shown = emsp.api("GET", "/sessions/NL/CPO/SES-T-R1", expect=200)["data"]
    assert shown == after_put
    received = emsp.api("GET", "/sessions?party=NL-CPO&own=false", expect=200)["data"]
    assert "SES-T-R1" in {s["id"] for s in received}
    if not schemas_missing_reason():
        r = emsp.ocpi("GET", f"{RECEIVER}/NL/CPO/SES-T-R1", partner.token_out)
        assert validate_221("sessions", "Session", envelope(r, 200, 1000)["data"]) == []


def test_receiver_refuses_bad_input_and_changes_nothing(
    nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = nodes
    token = core_partner(cpo, "DE-MSP").token_out
    url = f"{RECEIVER}/NL/CPO/SES-T-B1"
    envelope(emsp.ocpi("PUT", url, token, json=session("SES-T-B1")), 201, 1000)
    before = envelope(emsp.ocpi("GET", url, token), 200, 1000)["data"]

    def refused(method: str, path: str, body: Any, http_status: int = 200) -> str:
        r = emsp.ocpi(method, path, token, json=body)
        return str(envelope(r, http_status, 2001 if http_status != 400 else 2000)["status_message"])

    assert "DE-MSP" in refused(
        "PUT",
        f"{RECEIVER}/DE/MSP/SES-T-B1",
        session("SES-T-B1") | {"country_code": "DE", "party_id": "MSP"},
    )
    assert "id" in refused("PUT", url, session("SES-T-OTHER"))
    assert "last_updated" in refused("PATCH", url, {"kwh": 9.0})
    assert "status" in refused(
        "PATCH", url, {"status": "RESERVED", "last_updated": "2026-11-25T11:00:00Z"}
    )
    assert "id" in refused("PUT", url, session("SES-T-B1", id="x" * 37))
    assert "kwh" in refused("PUT", url, session("SES-T-B1") | {"kwh": "9"})
    assert refused("PUT", url, [session("SES-T-B1")])
    r = emsp.ocpi(
        "PUT", url, token, content=b'{"id": ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    unknown = refused(
        "PATCH",
        f"{RECEIVER}/NL/CPO/SES-T-NONE",
        {"kwh": 1.0, "last_updated": "2026-11-25T11:00:00Z"},
        http_status=404,
    )
    assert "PUT it first" in unknown
    assert envelope(emsp.ocpi("GET", url, token), 200, 1000)["data"] == before
    envelope(emsp.ocpi("GET", f"{RECEIVER}/NL/CPO/SES-T-NONE", token), 404, 2000)


def test_session_examples_through_the_receiver(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    if not EXAMPLES.is_dir():
        pytest.skip(f"OCPI examples not found at {EXAMPLES} (../shared is absent)")
    cpo, emsp = nodes
    token = core_partner(cpo, "DE-MSP").token_out
    for n, name in enumerate(
        ["session_example_1_simple_start.json", "session_example_2_short_finished.json"]
    ):
        example = json.loads((EXAMPLES / name).read_text())
        # Owner and id replaced: the Receiver takes only the caller's party (NL-CPO).
        example |= {"country_code": "NL", "party_id": "CPO", "id": f"SES-T-EX{n}"}
        url = f"{RECEIVER}/NL/CPO/SES-T-EX{n}"
        # The example is wrong (digest §7.14): its cdr_token has no country_code/party_id.
        r = emsp.ocpi("PUT", url, token, json=example)
        assert "cdr_token.country_code" in envelope(r, 200, 2001)["status_message"]
        example["cdr_token"] |= {"country_code": "NL", "party_id": "TST"}
        envelope(emsp.ocpi("PUT", url, token, json=example), 201, 1000)
        assert envelope(emsp.ocpi("GET", url, token), 200, 1000)["data"] == example
    # The PATCH examples on the finished session: total cost first (older), then a period.
    url = f"{RECEIVER}/NL/CPO/SES-T-EX1"
    stored = envelope(emsp.ocpi("GET", url, token), 200, 1000)["data"]
    for name in [
        "session_patch_example_total_cost.json",
        "session_patch_example_charging_period.json",
    ]:
        patch = json.loads((EXAMPLES / name).read_text())
        envelope(emsp.ocpi("PATCH", url, token, json=patch), 200, 1000)
        stored = (
            stored
            | {k: v for k, v in patch.items() if k != "charging_periods"}
            | {"charging_periods": stored["charging_periods"] + patch.get("charging_periods", [])}
        )
    assert envelope(emsp.ocpi("GET", url, token), 200, 1000)["data"] == stored
    assert len(stored["charging_periods"]) == 4


def test_charging_preferences(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = nodes
    store_own(
        cpo,
        ModuleId.TARIFFS,
        ObjectKey("NL", "CPO", "SES-T-FAST"),
        {"id": "SES-T-FAST", "type": "PROFILE_FAST"},
    )
    store_own(
        cpo,
        ModuleId.LOCATIONS,
        ObjectKey("NL", "CPO", "SES-T-LOC"),
        {
            "id": "SES-T-LOC",
            "evses": [
                {
                    "uid": "SES-T-EVSE-SMART",
                    "capabilities": ["RFID_READER", "CHARGING_PREFERENCES_CAPABLE"],
                    "connectors": [{"id": "1", "tariff_ids": ["SES-T-FAST"]}],
                },
                {
                    "uid": "SES-T-EVSE-PLAIN",
                    "capabilities": ["RFID_READER"],
                    "connectors": [{"id": "1"}],
                },
            ],
        },
    )
    cpo.api(
        "PUT",
        "/sessions/NL/CPO/SES-T-PLAIN",
        session("SES-T-PLAIN", evse_uid="SES-T-EVSE-PLAIN"),
        expect=201,
    )
    cpo.api(
        "PUT", "/sessions/NL/CPO/SES-T-DONE", session("SES-T-DONE", status="COMPLETED"), expect=201
    )
    partner = core_partner(emsp, "NL-CPO")
    before = cpo.api("GET", "/sessions/NL/CPO/SES-T-1", expect=200)["data"]

    async def ask(http: OcpiClient, sid: str, prefs: dict[str, Any]) -> Any:
        try:
            return await CLIENT.set_charging_preferences(http, partner, EMSP_PARTY, sid, prefs)
        except PartnerError as exc:
            return (exc.http_status, exc.ocpi_status)

    def answer(sid: str, prefs: dict[str, Any]) -> Any:
        return run(lambda http: ask(http, sid, prefs))

    fast = {"profile_type": "FAST", "departure_time": "2099-01-01T10:00:00Z"}
    assert answer("SES-T-1", fast) == ChargingPreferencesResponse.ACCEPTED
    assert answer("ses-t-2", {"profile_type": "GREEN"}) == (
        ChargingPreferencesResponse.PROFILE_TYPE_NOT_SUPPORTED
    )
    assert answer("SES-T-DONE", {"profile_type": "REGULAR"}) == (
        ChargingPreferencesResponse.NOT_POSSIBLE
    )
    assert answer("SES-T-PLAIN", {"profile_type": "REGULAR"}) == (404, 2001)
    assert answer("SES-T-NOPE", {"profile_type": "REGULAR"}) == (404, 2001)
    stored = cpo.api("GET", "/sessions/NL/CPO/SES-T-1/charging_preferences", expect=200)
    assert stored["data"] == fast
    # The Session's wire form and the Sender list are unchanged by stored preferences.
    assert cpo.api("GET", "/sessions/NL/CPO/SES-T-1", expect=200)["data"] == before
    token = token_out(emsp, partner.id)
    r = cpo.ocpi("GET", SENDER, token, params={"limit": 1000})
    served = envelope(r, 200, 1000)["data"]
    assert [s for s in served if s["id"] == "SES-T-1"] == [before]
    assert all("profile_type" not in s for s in served)
    assert int(r.headers["X-Total-Count"]) == len(served)
    # Bad input: an invalid profile is 2001.
    bad = cpo.ocpi(
        "PUT", f"{SENDER}/SES-T-1/charging_preferences", token, json={"profile_type": "SLOW"}
    )
    assert "profile_type" in envelope(bad, 200, 2001)["status_message"]
