"""The node's own changes reach its partners through the outbox, between two real nodes
(the shared ``connected_nodes`` pair, SQLite and PostgreSQL): the operator API changes a
CPO's Location, EVSE status, Tariff, Session and CDR and an eMSP's Token, and the other
node has stored each, as its Receiver stores a push (issue 8)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.integration.test_locations import location
from tests.support import NodeProcess

Pair = tuple[NodeProcess, NodeProcess]


def eventually(read: Callable[[], Any], wanted: Callable[[Any], bool], within: float = 15.0) -> Any:
    """Polls ``read`` until ``wanted`` holds: delivery is asynchronous, the worker is
    woken by the commit; the deadline only bounds a failure."""
    deadline = time.monotonic() + within
    while True:
        value = read()
        if wanted(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not delivered in {within} s: {value!r}")
        time.sleep(0.05)


def received(node: NodeProcess, path: str) -> Any:
    answer = node.api("GET", path)
    return answer.get("data") if answer.get("status_code") == 1000 else None


def test_a_new_location_and_its_evse_statuses_reach_the_emsp_in_order(
    connected_nodes: Pair,
) -> None:
    cpo, emsp = connected_nodes
    cpo.api("PUT", "/locations/NL/CPO/LOC-PUSH-1", location("LOC-PUSH-1"), expect=None)
    for n, status in enumerate(("CHARGING", "BLOCKED", "AVAILABLE", "CHARGING")):
        patch = {"status": status, "last_updated": f"2026-11-20T11:00:0{n}Z"}
        cpo.api("PATCH", "/locations/NL/CPO/LOC-PUSH-1/E1", patch, expect=200)
    stored = eventually(
        lambda: received(emsp, "/locations/NL/CPO/LOC-PUSH-1"),
        lambda loc: loc is not None and loc["evses"][0]["last_updated"] == "2026-11-20T11:00:03Z",
    )
    assert [e["status"] for e in stored["evses"]] == ["CHARGING", "AVAILABLE"]
    # The receiver moved the parent's last_updated with the EVSE's (mod_locations PATCH).
    assert stored["last_updated"] == "2026-11-20T11:00:03Z"


def test_a_tariff_and_its_removal_reach_the_emsp(connected_nodes: Pair) -> None:
    cpo, emsp = connected_nodes
    tariff = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "TAR-PUSH-1",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]}],
        "last_updated": "2026-11-20T10:00:00Z",
    }
    cpo.api("PUT", "/tariffs/NL/CPO/TAR-PUSH-1", tariff, expect=None)
    got = eventually(lambda: received(emsp, "/tariffs/NL/CPO/TAR-PUSH-1"), lambda t: t is not None)
    assert got["currency"] == "EUR"
    assert cpo.api("DELETE", "/tariffs/NL/CPO/TAR-PUSH-1")["status_code"] == 1000
    eventually(lambda: received(emsp, "/tariffs/NL/CPO/TAR-PUSH-1"), lambda t: t is None)


def test_a_token_and_its_blocking_reach_the_cpo(connected_nodes: Pair) -> None:
    cpo, emsp = connected_nodes
    token = {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "TOK-PUSH-1",
        "type": "RFID",
        "contract_id": "DE-MSP-C12345678-X",
        "issuer": "push test",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-11-20T10:00:00Z",
    }
    emsp.api("PUT", "/tokens/DE/MSP/TOK-PUSH-1", token, expect=None)
    eventually(lambda: received(cpo, "/tokens/DE/MSP/TOK-PUSH-1"), lambda t: t is not None)
    patch = {"valid": False, "last_updated": "2026-11-20T12:00:00Z"}
    emsp.api("PATCH", "/tokens/DE/MSP/TOK-PUSH-1", patch, expect=200)
    got = eventually(
        lambda: received(cpo, "/tokens/DE/MSP/TOK-PUSH-1"), lambda t: t and t["valid"] is False
    )
    assert got["last_updated"] == "2026-11-20T12:00:00Z"


def test_a_session_its_updates_and_its_cdr_reach_only_the_emsp_of_the_token(
    connected_nodes: Pair,
) -> None:
    """A Session (PUT, then PATCHes of kwh and charging_periods) and its CDR (POST)
    reach the eMSP holding the token's party, DE-MSP: it ends with every period once,
    in order, and serves the CDR from its Receiver. Another eMSP partner of the CPO
    (a fake, DE-OTH, with Receivers of every module) gets none of them: Sessions and
    CDRs are owed only to their audience, while it does get a Location."""
    from tests.integration.test_cdrs import RECEIVER, cdr, token_for
    from tests.integration.test_push_nodes import RecordingEmsp, register_fake
    from tests.integration.test_sessions import period, session

    cpo, emsp = connected_nodes
    other = RecordingEmsp(country_code="DE", party_id="OTH").start()
    try:
        register_fake(cpo, other)
        cpo.api("PUT", "/sessions/NL/CPO/SES-PUSH-1", session("SES-PUSH-1", kwh=0), expect=None)
        periods = [period(f"2026-11-25T09:{15 * n:02d}:00Z", 2.0) for n in range(3)]
        for n, p in enumerate(periods, start=1):
            update = {
                "kwh": 2.0 * n,
                "charging_periods": [p],
                "last_updated": f"2026-11-25T10:0{n}:00Z",
            }
            cpo.api("PATCH", "/sessions/NL/CPO/SES-PUSH-1", update, expect=200)
        got = eventually(
            lambda: received(emsp, "/sessions/NL/CPO/SES-PUSH-1"),
            lambda s: s is not None and s["last_updated"] == "2026-11-25T10:03:00Z",
        )
        assert got["kwh"] == 6.0
        assert got["charging_periods"] == periods

        sent = cdr("CDR-PUSH-1", "2026-11-25T11:00:00Z")
        assert sent["cdr_token"]["country_code"] == "DE" and sent["cdr_token"]["party_id"] == "MSP"
        cpo.api("POST", "/cdrs", sent, expect=201)
        eventually(lambda: received(emsp, "/cdrs/NL/CPO/CDR-PUSH-1"), lambda c: c is not None)
        # Where the Receiver's Location header points (cdrs/receiver.py): the CDR as sent.
        at = emsp.ocpi("GET", f"{RECEIVER}/NL/CPO/CDR-PUSH-1", token_for(cpo))
        assert at.status_code == 200 and at.json()["data"]["id"] == "CDR-PUSH-1"

        # The other eMSP is a live subscriber: it gets a Location made after them...
        cpo.api("PUT", "/locations/NL/CPO/LOC-PUSH-AUD", location("LOC-PUSH-AUD"), expect=None)
        eventually(lambda: other.pushed("locations"), bool)
        # ... but nothing of the Session or CDR was ever owed to it, let alone sent.
        for module in ("sessions", "cdrs"):
            owed = cpo.api("GET", f"/outbox/entries?partner=DE-OTH&module={module}", expect=200)
            assert owed == []
            assert other.pushed(module) == []
    finally:
        cpo.api("POST", "/partners/DE-OTH/reset", expect=None)
        cpo.api("DELETE", "/partners/DE-OTH", expect=None)
        other.stop()
