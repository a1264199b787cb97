"""Commands (OCPI 2.2.1 mod_commands) between real nodes, on SQLite and PostgreSQL.

Three nodes per backend, shared by the module's tests: an eMSP (DE-MSP) registered with
two CPOs. NL-CPO runs the simulator backend (it answers every command, starts and stops
sessions); NL-SLO runs the webhook backend pointed at a small HTTP server of this test,
which takes every command and never reports (so the node answers TIMEOUT itself), and
answers 501 (not supported) to UNLOCK_CONNECTOR. Its timeout is the shortest allowed
(5 s), so the TIMEOUT test waits about that long.

What is checked independently of the code under test: the webhook server sees what the
node handed its backend; the refusals are sent as raw OCPI requests with the token the
CPO issued the eMSP (read from the eMSP's database), and what they must not do is read
back through the operator APIs (no command kept, no session started, no outbox entry).
Command and object ids are the test's own (the nodes are shared).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evroam.cli.main import app as cli_app
from tests.integration.fake_partner import token_out
from tests.integration.requests_support import (
    ROUTE,
    cpo_node,
    database_urls,
    emsp_node,
    running,
)
from tests.integration.test_push_delivery import Arrived, Receiver
from tests.support import NodeProcess, PgDatabases

SECRET = "backend-secret-0123456789"
TIMEOUT_S = 5
RECEIVER = "/ocpi/2.2.1/receiver/commands"

TARIFF: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "CMD-T1",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]}],
    "last_updated": "2026-01-01T00:00:00Z",
}


def connector(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 400,
        "max_amperage": 32,
        "max_electric_power": 22000,
        "tariff_ids": ["CMD-T1"],
        "last_updated": "2026-01-01T00:00:00Z",
    }


def location(cc: str, pid: str, lid: str, *evse_uids: str) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": lid,
        "publish": True,
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.08900", "longitude": "5.11000"},
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": uid,
                "evse_id": f"NL*CPO*E{uid}",
                "status": "AVAILABLE",
                "connectors": [connector("1")],
                "last_updated": "2026-01-01T00:00:00Z",
            }
            for uid in evse_uids
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }


def token(cc: str = "DE", pid: str = "MSP", uid: str = "CMD-APP1") -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "uid": uid,
        "type": "APP_USER",
        "contract_id": f"{cc}-{pid}-C00001",
        "issuer": "MSP",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": "2026-01-01T00:00:00Z",
    }


class Nodes:
    def __init__(
        self, emsp: NodeProcess, cpo: NodeProcess, slow: NodeProcess, backend: Receiver
    ) -> None:
        self.emsp, self.cpo, self.slow, self.backend = emsp, cpo, slow, backend


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def nodes(
    request: pytest.FixtureRequest,
    pg_databases: PgDatabases | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Nodes]:
    workdir = tmp_path_factory.mktemp("commands")
    urls = database_urls(request.param, pg_databases, workdir, 3)

    def webhook_answer(arrived: Arrived) -> tuple[int, str] | None:
        body = arrived.body or {}
        return (501, "{}") if body.get("type") == "UNLOCK_CONNECTOR" else None

    hook = Receiver(answer=webhook_answer).start()
    simulator = {"EVROAM_BACKEND__KIND": "simulator", "EVROAM_BACKEND__STEP_SECONDS": "0.2"}
    webhook = {
        "EVROAM_BACKEND__KIND": "webhook",
        "EVROAM_BACKEND__URL": f"http://127.0.0.1:{hook.port}/backend",
        "EVROAM_BACKEND__SECRET": SECRET,
        "EVROAM_COMMANDS__TIMEOUT": str(TIMEOUT_S),
    }
    starts = [
        emsp_node(urls[0], workdir),
        cpo_node(urls[1], workdir, "CPO", simulator),
        cpo_node(urls[2], workdir, "SLO", webhook),
    ]
    try:
        with running(starts) as (emsp, cpo, slow):
            emsp.register_with(cpo)
            emsp.register_with(slow)
            assert cpo.api("PUT", "/tariffs/NL/CPO/CMD-T1", TARIFF)["status_code"] == 1000
            for node, cc, pid in ((cpo, "NL", "CPO"), (slow, "NL", "SLO")):
                doc = location(cc, pid, "CMD-LOC", "E1", "E2", "E3")
                assert node.api("PUT", f"/locations/{cc}/{pid}/CMD-LOC", doc)["status_code"] == 1000
            put = emsp.api("PUT", "/tokens/DE/MSP/CMD-APP1?type=APP_USER", token())
            assert put["status_code"] == 1000
            yield Nodes(emsp, cpo, slow, hook)
    finally:
        hook.stop()


def send(emsp: NodeProcess, command: str, body: dict[str, Any], expect: int = 201) -> Any:
    return emsp.api("POST", f"/commands/{command}", body, expect=expect)


def until(node: NodeProcess, command_id: str, states: set[str], within: float = 20) -> Any:
    deadline = time.monotonic() + within
    while True:
        got = node.api("GET", f"/commands/{command_id}", expect=200)
        if got["state"] in states:
            return got
        assert time.monotonic() < deadline, f"still {got['state']}: {got}"
        time.sleep(0.1)


def emsp_session_of(emsp: NodeProcess, token_uid: str, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        page = emsp.api("GET", "/sessions?party=NL-CPO&own=false&limit=1000", expect=200)["data"]
        mine = [
            s
            for s in page
            if s["cdr_token"]["uid"] == token_uid and s["status"] not in ("COMPLETED",)
        ]
        if mine:
            return dict(mine[0])
        assert time.monotonic() < deadline, "the session never reached the eMSP"
        time.sleep(0.1)


def emsp_cdr_of(emsp: NodeProcess, session_id: str, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        page = emsp.api("GET", "/cdrs?party=NL-CPO&own=false&limit=1000", expect=200)["data"]
        mine = [c for c in page if c.get("session_id") == session_id]
        if mine:
            return dict(mine[0])
        assert time.monotonic() < deadline, "the CDR never reached the eMSP"
        time.sleep(0.1)


def test_every_command_is_accepted_and_its_result_reaches_the_emsp(nodes: Nodes) -> None:
    emsp, cpo = nodes.emsp, nodes.cpo
    started = send(
        emsp,
        "start_session",
        {
            "party": "NL-CPO",
            "location_id": "CMD-LOC",
            "evse_uid": "E1",
            "connector_id": "1",
            "token_uid": "CMD-APP1",
            "token_type": "APP_USER",
        },
    )
    assert started["response"] == "ACCEPTED" and started["timeout"] == 30
    url = started["request"]["response_url"]
    assert url == f"{emsp.url}/ocpi/2.2.1/sender/commands/START_SESSION/{started['id']}"
    done = until(emsp, started["id"], {"RESULT"})
    assert done["result"] == "ACCEPTED" and done["result_document"] == {"result": "ACCEPTED"}
    # The CPO kept the request under the same eMSP party and answered it once.
    kept = [c for c in cpo.api("GET", "/commands?direction=received", expect=200) if c["result"]]
    assert any(c["type"] == "START_SESSION" and c["requester"] == "DE-MSP" for c in kept)
    session = emsp_session_of(emsp, "CMD-APP1")
    assert session["evse_uid"] == "E1" and session["auth_method"] == "COMMAND"

    stopped = send(emsp, "STOP_SESSION", {"party": "nl-cpo", "session_id": session["id"]})
    assert stopped["response"] == "ACCEPTED"
    assert until(emsp, stopped["id"], {"RESULT"})["result"] == "ACCEPTED"
    # The simulator ends the session with a CDR priced from the connector's tariff,
    # which reaches the eMSP: 0.30 EUR per kWh billed in 1 Wh steps, worked out here.
    cdr = emsp_cdr_of(emsp, session["id"])
    billed_wh = math.ceil(round(cdr["total_energy"] * 1000, 6))
    assert cdr["tariffs"][0]["id"] == TARIFF["id"]
    assert cdr["total_cost"]["excl_vat"] == pytest.approx(0.3 * billed_wh / 1000, abs=1e-4)
    assert billed_wh > 0

    reservation = f"R-{uuid.uuid4().hex[:8]}"
    reserved = send(
        emsp,
        "RESERVE_NOW",
        {
            "party": "NL-CPO",
            "location_id": "CMD-LOC",
            "evse_uid": "E2",
            "reservation_id": reservation,
            "expiry_date": "2099-01-01T00:00:00Z",
            "token": token(),
        },
    )
    assert until(emsp, reserved["id"], {"RESULT"})["result"] == "ACCEPTED"
    cancelled = send(emsp, "CANCEL_RESERVATION", {"party": "NL-CPO", "reservation_id": reservation})
    assert until(emsp, cancelled["id"], {"RESULT"})["result"] == "ACCEPTED"
    unlocked = send(
        emsp,
        "UNLOCK_CONNECTOR",
        {"party": "NL-CPO", "location_id": "CMD-LOC", "evse_uid": "E3", "connector_id": "1"},
    )
    assert until(emsp, unlocked["id"], {"RESULT"})["result"] == "ACCEPTED"
    listed = emsp.api("GET", "/commands?direction=sent&state=RESULT&limit=1000", expect=200)
    ids = {c["id"] for c in listed}
    assert {started["id"], stopped["id"], reserved["id"], cancelled["id"], unlocked["id"]} <= ids


def test_a_result_that_never_comes_is_answered_timeout_and_a_late_one_is_not_sent(
    nodes: Nodes,
) -> None:
    emsp, slow = nodes.emsp, nodes.slow
    sent = send(
        emsp,
        "START_SESSION",
        {
            "party": "NL-SLO",
            "location_id": "CMD-LOC",
            "token_uid": "CMD-APP1",
            "token_type": "APP_USER",
        },
    )
    assert (sent["response"], sent["timeout"]) == ("ACCEPTED", TIMEOUT_S)
    handed = [a.body for a in nodes.backend.arrived if a.body.get("type") == "START_SESSION"]
    assert handed and handed[-1]["emsp"] == {"country_code": "DE", "party_id": "MSP"}
    command_id = handed[-1]["id"]
    timed_out = until(emsp, sent["id"], {"RESULT"}, within=TIMEOUT_S + 10)
    assert timed_out["result"] == "TIMEOUT"
    # The backend answers after all: kept at the CPO as a late result, never sent.
    r = slow.http.post(
        f"{slow.url}/api/v1/backend/reports",
        json={"type": "command_result", "command_id": command_id, "result": "ACCEPTED"},
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert r.status_code == 200, r.text
    kept = slow.api("GET", f"/commands/{command_id}", expect=200)
    assert (kept["state"], kept["result"], kept["late_result"]) == (
        "TIMEOUT",
        "TIMEOUT",
        "ACCEPTED",
    )
    entries = slow.api("GET", "/outbox/entries?state=delivered&module=commands&limit=1000")
    assert [e["url"] for e in entries].count(sent["request"]["response_url"]) == 1
    assert emsp.api("GET", f"/commands/{sent['id']}", expect=200)["result"] == "TIMEOUT"


def test_a_backend_that_cannot_take_a_command_is_answered_at_once(nodes: Nodes) -> None:
    """The webhook answers 501: NOT_SUPPORTED at once, the request kept as REFUSED at
    the CPO, no result POSTed (OCPI sends one only after ACCEPTED)."""
    sent = send(
        nodes.emsp,
        "UNLOCK_CONNECTOR",
        {"party": "NL-SLO", "location_id": "CMD-LOC", "evse_uid": "E1", "connector_id": "1"},
    )
    assert sent["state"] == "NOT_SUPPORTED" and sent["response"] == "NOT_SUPPORTED"
    refused = nodes.slow.api("GET", "/commands?direction=received&state=REFUSED", expect=200)
    assert [c["type"] for c in refused] == ["UNLOCK_CONNECTOR"]


def cpo_token(nodes: Nodes) -> str:
    """The token the eMSP calls NL-CPO with (the CPO issued it), from its database."""
    [partner] = [
        p
        for p in nodes.emsp.api("GET", "/partners", expect=200)
        if any(r["party_id"] == "CPO" for r in p["roles"])
    ]
    value = token_out(nodes.emsp, partner["id"])
    assert value
    return value


def start_body(emsp: NodeProcess, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "response_url": f"{emsp.url}/ocpi/2.2.1/sender/commands/START_SESSION/x-{uuid.uuid4()}",
        "token": token(),
        "location_id": "CMD-LOC",
        "evse_uid": "E1",
        "connector_id": "1",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_refused_commands_store_nothing_and_start_nothing(nodes: Nodes) -> None:
    emsp, cpo = nodes.emsp, nodes.cpo
    secret = cpo_token(nodes)
    cpo.api(
        "PUT",
        "/sessions/NL/CPO/CMD-OTHERS",
        {
            "country_code": "NL",
            "party_id": "CPO",
            "id": "CMD-OTHERS",
            "start_date_time": "2026-11-25T09:00:00Z",
            "kwh": 1.5,
            "cdr_token": {
                "country_code": "FR",
                "party_id": "OTH",
                "uid": "T",
                "type": "RFID",
                "contract_id": "FR-OTH-C1",
            },
            "auth_method": "WHITELIST",
            "location_id": "CMD-LOC",
            "evse_uid": "E3",
            "connector_id": "1",
            "currency": "EUR",
            "status": "ACTIVE",
            "last_updated": "2026-11-25T10:00:00Z",
        },
        expect=201,
    )

    def before() -> tuple[int, int, int]:
        received = cpo.api("GET", "/commands?direction=received&limit=1000", expect=200)
        sessions = cpo.api("GET", "/sessions?party=NL-CPO&own=true&limit=1000", expect=200)
        outbox = cpo.api(
            "GET",
            "/outbox/entries?module=commands&state=pending&state=delivered&state=dead&limit=1000",
        )
        return len(received), len(sessions["data"]), len(outbox)

    def post(command: str, body: Any) -> dict[str, Any]:
        r = cpo.ocpi("POST", f"{RECEIVER}/{command}", secret, json=body, headers=ROUTE)
        assert r.status_code == 200, r.text
        assert r.headers["ocpi-to-party-id"] == "MSP"  # routing headers on refusals too
        return dict(r.json())

    state = before()
    cases: list[tuple[str, Any, int, str | None]] = [
        ("START_SESSION", start_body(emsp, location_id="NOPE"), 2003, "REJECTED"),
        ("START_SESSION", start_body(emsp, evse_uid="E9"), 2003, "REJECTED"),
        ("START_SESSION", start_body(emsp, connector_id="9"), 2003, "REJECTED"),
        ("START_SESSION", start_body(emsp, token=token("FR", "OTH")), 2001, "REJECTED"),
        (
            "UNLOCK_CONNECTOR",
            {**start_body(emsp, token=None), "location_id": "NOPE"},
            2003,
            "REJECTED",
        ),
        (
            "STOP_SESSION",
            {"response_url": start_body(emsp)["response_url"], "session_id": "CMD-OTHERS"},
            1000,
            "UNKNOWN_SESSION",
        ),
        (
            "STOP_SESSION",
            {"response_url": start_body(emsp)["response_url"], "session_id": "CMD-NONE"},
            1000,
            "UNKNOWN_SESSION",
        ),
        # A response_url on another port, another host, or not http(s): 2001.
        ("START_SESSION", start_body(emsp, response_url="http://127.0.0.1:1/cb"), 2001, None),
        ("START_SESSION", start_body(emsp, response_url="https://evil.example/cb"), 2001, None),
        ("START_SESSION", start_body(emsp, response_url="ftp://127.0.0.1/cb"), 2001, None),
        # Malformed: a field missing, a connector without its EVSE, not an object, an
        # unknown command.
        ("START_SESSION", start_body(emsp, location_id=None), 2001, None),
        ("START_SESSION", start_body(emsp, evse_uid=None), 2001, None),
        ("START_SESSION", ["not", "an", "object"], 2001, None),
        ("SELF_DESTRUCT", start_body(emsp), 2001, None),
    ]
    for command, body, status, result in cases:
        answer = post(command, body)
        assert answer["status_code"] == status, (command, body, answer)
        got = (answer.get("data") or {}).get("result")
        assert got == result, (command, body, answer)
    # No command kept, no session started by the simulator, no result queued.
    assert before() == state


def test_a_result_is_taken_only_from_the_partner_the_command_went_to(nodes: Nodes) -> None:
    emsp = nodes.emsp
    sent = send(
        emsp,
        "UNLOCK_CONNECTOR",
        {"party": "NL-CPO", "location_id": "CMD-LOC", "evse_uid": "E3", "connector_id": "1"},
    )
    done = until(emsp, sent["id"], {"RESULT"})
    # NL-SLO (registered, but not whom the command went to) posts a result to its URL.
    [slo] = [
        p
        for p in nodes.slow.api("GET", "/partners", expect=200)
        if any(r["party_id"] == "MSP" for r in p["roles"])
    ]
    secret = token_out(nodes.slow, slo["id"])
    assert secret
    r = emsp.ocpi(
        "POST",
        sent["request"]["response_url"],
        secret,
        json={"result": "FAILED"},
        headers={
            "OCPI-from-country-code": "NL",
            "OCPI-from-party-id": "SLO",
            "OCPI-to-country-code": "DE",
            "OCPI-to-party-id": "MSP",
        },
    )
    assert (r.status_code, r.json()["status_code"]) == (404, 2001)
    assert emsp.api("GET", f"/commands/{sent['id']}", expect=200)["result"] == done["result"]


def test_cli_shows_a_command_and_its_result(nodes: Nodes, tmp_path: Path) -> None:
    emsp = nodes.emsp
    token_file = tmp_path / "admin-token"
    token_file.write_text(emsp.admin_token + "\n")
    common = ["--node", emsp.url, "--admin-token-file", str(token_file)]
    runner = CliRunner()
    started = runner.invoke(
        cli_app,
        [
            "commands",
            "unlock",
            "--party",
            "NL-CPO",
            "--location",
            "CMD-LOC",
            "--evse",
            "E3",
            "--connector",
            "1",
            "--wait",
            "20",
            "--json",
            *common,
        ],
    )
    assert started.exit_code == 0, started.output
    data = json.loads(started.output)
    assert data["state"] == "RESULT" and data["result"] == "ACCEPTED"
    shown = runner.invoke(cli_app, ["commands", "show", data["id"], *common])
    assert shown.exit_code == 0, shown.output
    assert "UNLOCK_CONNECTOR" in shown.output and "ACCEPTED" in shown.output
    assert "NL-CPO" in shown.output
    listed = runner.invoke(cli_app, ["commands", "list", "--direction", "sent", *common])
    assert listed.exit_code == 0 and data["id"][:8] in listed.output
    missing = runner.invoke(cli_app, ["commands", "show", "no-such-id", *common])
    assert missing.exit_code == 1 and "unknown command" in missing.output
    # A command the CPO refuses: what a person reads is the CPO's reason, and a script
    # sees it failed.
    refused = runner.invoke(
        cli_app,
        ["commands", "unlock", "--party", "NL-CPO", "--location", "NOPE", "--evse", "E3"]
        + ["--connector", "1", *common],
    )
    assert refused.exit_code == 1, refused.output
    assert "answer says: OCPI 2003: unknown location 'NOPE'" in refused.output
    assert "REJECTED (result within" not in refused.output
    assert "http://" not in refused.output.split("request:")[0]
