"""ChargingProfiles (OCPI 2.2.1 mod_charging_profiles) between real nodes, on SQLite and
PostgreSQL.

Three nodes per backend, shared by the module's tests: an eMSP (DE-MSP) registered with
two CPOs, both running the simulator backend: NL-CPO answers every request (it keeps a
profile set on a session and reports the session's active profile after a SET and a
CLEAR), NL-MUT is ``silent`` (it takes every request and never answers) with the
shortest timeout allowed (5 s), so the node itself answers when it runs out.

What is checked independently of the code under test: the refusals are sent as raw OCPI
requests with the token the CPO issued the eMSP (read from the eMSP's database), and what
they must not do is read back through the operator APIs (no request kept, no outbox
entry); what reaches the eMSP is read back from its operator API. Session ids are the
module's own (the nodes are shared).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from functools import partial
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
from tests.support import NodeProcess, PgDatabases

TIMEOUT_S = 5
RECEIVER = "/ocpi/2.2.1/receiver/chargingprofiles"
SENDER = "/ocpi/2.2.1/sender/chargingprofiles"
PROFILE: dict[str, Any] = {
    "charging_rate_unit": "W",
    "charging_profile_period": [{"start_period": 0, "limit": 7400}],
}


def session(cc: str, pid: str, sid: str, token_party: tuple[str, str]) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": sid,
        "start_date_time": "2026-11-25T09:00:00Z",
        "kwh": 1.5,
        "cdr_token": {
            "country_code": token_party[0],
            "party_id": token_party[1],
            "uid": "PRF-T1",
            "type": "RFID",
            "contract_id": f"{token_party[0]}-{token_party[1]}-C1",
        },
        "auth_method": "WHITELIST",
        "location_id": "PRF-LOC",
        "evse_uid": "E1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": "2026-11-25T10:00:00Z",
    }


class Nodes:
    def __init__(self, emsp: NodeProcess, cpo: NodeProcess, mute: NodeProcess) -> None:
        self.emsp, self.cpo, self.mute = emsp, cpo, mute


def status(node: NodeProcess, path: str) -> int:
    """The HTTP status of an operator API GET (``NodeProcess.api`` reads the body only)."""
    auth = {"Authorization": f"Bearer {node.admin_token}"}
    return node.http.get(f"{node.url}/api/v1{path}", headers=auth).status_code


def arrived(node: NodeProcess, path: str) -> bool:
    return status(node, path) == 200


def until(check: Callable[[], Any], what: str, within: float = 20) -> Any:
    deadline = time.monotonic() + within
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.1)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def nodes(
    request: pytest.FixtureRequest,
    pg_databases: PgDatabases | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Nodes]:
    workdir = tmp_path_factory.mktemp("chargingprofiles")
    urls = database_urls(request.param, pg_databases, workdir, 3)
    simulator = {"EVROAM_BACKEND__KIND": "simulator"}
    silent = simulator | {
        "EVROAM_BACKEND__SILENT": "true",
        "EVROAM_COMMANDS__TIMEOUT": str(TIMEOUT_S),
    }
    starts = [
        emsp_node(urls[0], workdir),
        cpo_node(urls[1], workdir, "CPO", simulator),
        cpo_node(urls[2], workdir, "MUT", silent),
    ]
    with running(starts) as (emsp, cpo, mute):
        emsp.register_with(cpo)
        emsp.register_with(mute)
        for node, cc, pid, sid, driver in (
            (cpo, "NL", "CPO", "PRF-S1", ("DE", "MSP")),
            (cpo, "NL", "CPO", "PRF-OTHERS", ("FR", "OTH")),
            (mute, "NL", "MUT", "PRF-M1", ("DE", "MSP")),
        ):
            doc = session(cc, pid, sid, driver)
            node.api("PUT", f"/sessions/{cc}/{pid}/{sid}", doc, expect=201)
        for path in ("NL/CPO/PRF-S1", "NL/MUT/PRF-M1"):
            until(partial(arrived, emsp, f"/sessions/{path}"), f"session {path} at the eMSP")
        yield Nodes(emsp, cpo, mute)


def request_of(node: NodeProcess, request_id: str, states: set[str], within: float = 20) -> Any:
    def check() -> Any:
        got = node.api("GET", f"/chargingprofiles/requests/{request_id}", expect=200)
        return got if got["state"] in states else None

    return until(check, f"request {request_id} in {states}", within)


def kept_active(node: NodeProcess, sid: str, limit: float) -> Any:
    """The eMSP's latest pushed ActiveChargingProfile, once its first limit is ``limit``."""

    def check() -> Any:
        r = node.http.get(
            f"{node.url}/api/v1/chargingprofiles/{sid}/active",
            headers={"Authorization": f"Bearer {node.admin_token}"},
        )
        if r.status_code != 200:
            return None
        doc = r.json()
        periods = doc["active_profile"]["charging_profile"]["charging_profile_period"]
        return doc if periods[0]["limit"] == limit else None

    return until(check, f"active profile of {sid} with limit {limit}")


def test_set_get_and_clear_reach_the_emsp_with_results_and_active_profiles(nodes: Nodes) -> None:
    emsp, cpo = nodes.emsp, nodes.cpo
    # No party named: the CPO whose session the eMSP holds under that id.
    sent = emsp.api("POST", "/chargingprofiles/PRF-S1", {"charging_profile": PROFILE}, expect=201)
    assert (sent["type"], sent["party"], sent["response"], sent["timeout"]) == (
        "SET",
        "NL-CPO",
        "ACCEPTED",
        30,
    )
    url = f"{emsp.url}{SENDER}/SET/{sent['id']}"
    assert sent["request"] == {"charging_profile": PROFILE, "response_url": url}
    done = request_of(emsp, sent["id"], {"RESULT"})
    assert done["result_document"] == {"result": "ACCEPTED"}
    # The chargers' new active profile was PUT to the eMSP, which set one.
    pushed = kept_active(emsp, "PRF-S1", 7400)
    assert pushed["party"] == "NL-CPO"

    asked = emsp.api("GET", "/chargingprofiles/PRF-S1?duration=600", expect=201)
    assert asked["request"] == {
        "duration": 600,
        "response_url": f"{emsp.url}{SENDER}/GET_ACTIVE/{asked['id']}",
    }
    result = request_of(emsp, asked["id"], {"RESULT"})["result_document"]
    assert result["result"] == "ACCEPTED"
    profile = result["profile"]["charging_profile"]
    assert profile["duration"] == 600 and profile["charging_profile_period"] == [
        {"start_period": 0, "limit": 7400}
    ]

    cleared = emsp.api("DELETE", "/chargingprofiles/PRF-S1?party=nl-cpo", expect=201)
    assert request_of(emsp, cleared["id"], {"RESULT"})["result"] == "ACCEPTED"
    kept_active(emsp, "PRF-S1", 11000)  # back to the connector's full power

    received = cpo.api("GET", "/chargingprofiles?direction=received&session=PRF-S1", expect=200)
    assert sorted((r["type"], r["state"], r["requester"]) for r in received) == [
        ("CLEAR", "DONE", "DE-MSP"),
        ("GET_ACTIVE", "DONE", "DE-MSP"),
        ("SET", "DONE", "DE-MSP"),
    ]
    listed = emsp.api("GET", "/chargingprofiles?direction=sent&state=RESULT", expect=200)
    assert {sent["id"], asked["id"], cleared["id"]} <= {r["id"] for r in listed}


def test_a_result_that_never_comes_is_answered_unknown_by_the_cpo(nodes: Nodes) -> None:
    emsp, mute = nodes.emsp, nodes.mute
    sent = emsp.api("POST", "/chargingprofiles/PRF-M1", {"charging_profile": PROFILE}, expect=201)
    assert (sent["party"], sent["response"], sent["timeout"]) == ("NL-MUT", "ACCEPTED", TIMEOUT_S)
    done = request_of(emsp, sent["id"], {"RESULT"}, within=TIMEOUT_S + 10)
    assert done["result_document"] == {"result": "UNKNOWN"}
    [kept] = mute.api("GET", "/chargingprofiles?direction=received", expect=200)
    assert (kept["state"], kept["result"]) == ("TIMEOUT", "UNKNOWN")
    assert (
        status(emsp, "/chargingprofiles/PRF-M1/active") == 404
    )  # nothing was pushed for a profile never confirmed


def issued_token(holder: NodeProcess, party_id: str) -> str:
    """The token ``holder`` calls the partner with ``party_id`` with, from its database."""
    [partner] = [
        p
        for p in holder.api("GET", "/partners", expect=200)
        if any(r["party_id"] == party_id for r in p["roles"])
    ]
    value = token_out(holder, partner["id"])
    assert value
    return value


def test_refused_requests_store_nothing(nodes: Nodes) -> None:
    emsp, cpo = nodes.emsp, nodes.cpo
    secret = issued_token(emsp, "CPO")
    ok_url = f"{emsp.url}{SENDER}/SET/x-refused"

    def state() -> tuple[int, int]:
        kept = cpo.api("GET", "/chargingprofiles?direction=received&limit=1000", expect=200)
        outbox = cpo.api(
            "GET",
            "/outbox/entries?module=chargingprofiles&state=pending&state=delivered&state=dead"
            "&limit=1000",
        )
        return len(kept), len(outbox)

    def call(method: str, sid: str, **kwargs: Any) -> dict[str, Any]:
        r = cpo.ocpi(method, f"{RECEIVER}/{sid}", secret, headers=ROUTE, **kwargs)
        assert r.status_code == 200, r.text
        assert r.headers["ocpi-to-party-id"] == "MSP"  # routing headers on refusals too
        return dict(r.json())

    def put(sid: str, profile: Any = PROFILE, url: str = ok_url) -> dict[str, Any]:
        return call("PUT", sid, json={"charging_profile": profile, "response_url": url})

    before = state()
    negative = {**PROFILE, "charging_profile_period": [{"start_period": 0, "limit": -5}]}
    unknown = call("GET", "PRF-NONE", params={"duration": 60, "response_url": ok_url})
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        (unknown, 1000, "UNKNOWN_SESSION"),
        (put("PRF-OTHERS"), 1000, "REJECTED"),  # another party's driver
        # A response_url on another port or host: 2001.
        (put("PRF-S1", url="http://127.0.0.1:1/cb"), 2001, None),
        (put("PRF-S1", url="https://evil.example/cb"), 2001, None),
        # Malformed: a negative limit, no unit, not an object, no duration/response_url.
        (put("PRF-S1", negative), 2001, None),
        (put("PRF-S1", {"charging_profile_period": []}), 2001, None),
        (call("PUT", "PRF-S1", json=["not", "an", "object"]), 2001, None),
        (call("GET", "PRF-S1", params={"response_url": ok_url}), 2001, None),
        (call("DELETE", "PRF-S1"), 2001, None),
    ]
    for answer, status, result in cases:
        assert answer["status_code"] == status, answer
        assert (answer.get("data") or {}).get("result") == result, answer
    assert state() == before

    # At the eMSP: a CPO it never set a profile with pushes an active profile, and posts
    # a result to a response URL of a request that went to another CPO: both unknown.
    mute_secret = issued_token(nodes.mute, "MSP")
    headers = {**ROUTE, "OCPI-from-party-id": "MUT", "OCPI-to-party-id": "MSP"}
    headers.update({"OCPI-from-country-code": "NL", "OCPI-to-country-code": "DE"})
    active = {"start_date_time": "2026-11-25T10:00:00Z", "charging_profile": PROFILE}
    r = emsp.ocpi("PUT", f"{SENDER}/PRF-S1", mute_secret, json=active, headers=headers)
    assert (r.status_code, r.json()["status_code"]) == (404, 2001)
    cleared = emsp.api("DELETE", "/chargingprofiles/PRF-S1", expect=201)
    url = cleared["request"]["response_url"]
    r = emsp.ocpi("POST", url, mute_secret, json={"result": "REJECTED"}, headers=headers)
    assert (r.status_code, r.json()["status_code"]) == (404, 2001)
    assert request_of(emsp, cleared["id"], {"RESULT"})["result"] == "ACCEPTED"  # NL-CPO's


def test_cli_sets_a_profile_and_shows_it(nodes: Nodes, tmp_path: Path) -> None:
    emsp = nodes.emsp
    token_file = tmp_path / "admin-token"
    token_file.write_text(emsp.admin_token + "\n")
    common = ["--node", emsp.url, "--admin-token-file", str(token_file)]
    runner = CliRunner()
    args = ["profiles", "set", "--session", "PRF-S1", "--limit", "16", "--unit", "A"]
    done = runner.invoke(cli_app, [*args, "--wait", "20", "--json", *common])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert (data["state"], data["result"], data["party"]) == ("RESULT", "ACCEPTED", "NL-CPO")
    shown = runner.invoke(cli_app, ["profiles", "show", data["id"], *common])
    assert shown.exit_code == 0, shown.output
    assert "SET" in shown.output and "ACCEPTED" in shown.output and "PRF-S1" in shown.output
    listed = runner.invoke(cli_app, ["profiles", "list", "--session", "PRF-S1", *common])
    assert listed.exit_code == 0 and data["id"][:8] in listed.output
    kept_active(emsp, "PRF-S1", 16)
    active = runner.invoke(cli_app, ["profiles", "active", "--session", "PRF-S1", *common])
    assert active.exit_code == 0 and '"A"' in active.output, active.output
    missing = runner.invoke(cli_app, ["profiles", "show", "no-such-id", *common])
    assert missing.exit_code == 1 and "unknown charging profile request" in missing.output
