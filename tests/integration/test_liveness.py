"""Connection status follows reality: a node pings silent partners (GET versions) and
marks them OFFLINE / CONNECTED; invited partners are PLANNED, unregistered ones SUSPENDED.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.integration.fake_partner import FakeFleet, FakePartner, b64, wait_until
from tests.support import NodeProcess

NodeFactory = Callable[..., NodeProcess]
FAST = ("--liveness-interval", "1")


def ts(value: str | None) -> datetime:
    assert value, "no timestamp"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def partner(node: NodeProcess, ref: str | int) -> dict[str, Any]:
    return dict(node.api("GET", f"/partners/{ref}", expect=200))


def status_is(node: NodeProcess, ref: str | int, status: str) -> Callable[[], Any]:
    def check() -> Any:
        p = partner(node, ref)
        return p if p["status"] == status else None

    return check


def node_registers_with(node: NodeProcess, fake: FakePartner) -> dict[str, Any]:
    return dict(
        node.api(
            "POST",
            "/partners/register",
            {"versions_url": fake.versions_url, "token": fake.issue_token_a()},
            expect=201,
        )
    )


def partner_registers_with(node: NodeProcess, fake: FakePartner) -> dict[str, Any]:
    invitation = node.api("POST", "/partners/invite", {}, expect=201)
    r = fake.register_with(invitation["versions_url"], invitation["token"])
    assert r.json()["status_code"] == 1000, r.text
    return partner(node, invitation["partner"]["id"])


def test_unreachable_partner_goes_offline_and_comes_back_connected(
    node_factory: NodeFactory, fakes: FakeFleet
) -> None:
    node = node_factory("DE", "EVR", extra_args=FAST)
    fake = fakes.start()
    registered = node_registers_with(node, fake)
    assert registered["status"] == "CONNECTED"

    fake.stop()
    offline = wait_until(status_is(node, registered["id"], "OFFLINE"), timeout=15)
    assert ts(offline["status_changed_at"]) > ts(registered["status_changed_at"])
    # Offline is not "gone": the partner keeps its registration.
    assert offline["registered"] is True

    fake.start()  # same port, same tokens
    back = wait_until(status_is(node, registered["id"], "CONNECTED"), timeout=15)
    assert ts(back["last_connection"]) > ts(offline["last_connection"])
    assert ts(back["status_changed_at"]) > ts(offline["status_changed_at"])

    # The pings are versions GETs with the partner's token, Base64, and no routing headers.
    pings = fake.requests_for("/ocpi/versions", "GET")[1:]
    assert pings, "no liveness ping reached the partner"
    for ping in pings:
        assert ping.authorization == f"Token {b64(fake.issued or '')}"
        assert ping.headers.get("x-request-id") and ping.headers.get("x-correlation-id")
        assert not any(h.startswith("ocpi-") for h in ping.headers)


def test_partner_that_registered_with_us_is_watched_too(
    node_factory: NodeFactory, fakes: FakeFleet
) -> None:
    node = node_factory("DE", "EVR", extra_args=FAST)
    fake = fakes.start()
    registered = partner_registers_with(node, fake)
    fake.stop()
    wait_until(status_is(node, registered["id"], "OFFLINE"), timeout=15)
    fake.start()
    wait_until(status_is(node, registered["id"], "CONNECTED"), timeout=15)


def test_invited_and_unregistered_partners_are_planned_and_suspended_and_not_pinged(
    node_factory: NodeFactory, fakes: FakeFleet
) -> None:
    node = node_factory("DE", "EVR", extra_args=FAST)
    invited = node.api("POST", "/partners/invite", {"note": "not yet"}, expect=201)["partner"]
    assert invited["status"] == "PLANNED"
    assert invited["registered"] is False

    by_operator = fakes.start("NL", "OPR")
    node_registers_with(node, by_operator)
    result = node.api("POST", "/partners/NL-OPR/unregister", expect=200)
    assert result["remote_ok"] is True
    assert result["partner"]["status"] == "SUSPENDED"

    by_partner = fakes.start("NL", "OWN")
    partner_registers_with(node, by_partner)
    r = by_partner.call_node("DELETE", by_partner.node_endpoint("credentials"))
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
    assert partner(node, "NL-OWN")["status"] == "SUSPENDED"

    by_operator.clear_requests()
    by_partner.clear_requests()
    time.sleep(2.5)  # several liveness rounds (1 s interval, 0.5 s tick)
    statuses = {p["id"]: p["status"] for p in node.api("GET", "/partners", expect=200)}
    assert statuses[invited["id"]] == "PLANNED"
    assert statuses[partner(node, "NL-OPR")["id"]] == "SUSPENDED"
    assert statuses[partner(node, "NL-OWN")["id"]] == "SUSPENDED"
    assert by_operator.requests == [] and by_partner.requests == []


def test_a_call_from_the_partner_updates_last_connection(
    node_factory: NodeFactory, fakes: FakeFleet
) -> None:
    node = node_factory("DE", "EVR")  # default interval: no ping gets in the way
    fake = fakes.start()
    registered = partner_registers_with(node, fake)
    before = ts(registered["last_connection"])

    def advanced() -> Any:
        r = fake.call_node("GET", fake.node.versions_url or "")
        assert r.status_code == 200, r.text
        p = partner(node, registered["id"])
        return p if ts(p["last_connection"]) > before else None

    after = wait_until(advanced, timeout=15, interval=0.05)
    assert after["status"] == "CONNECTED"


def test_a_call_from_an_offline_partner_brings_it_back_at_once(
    node_factory: NodeFactory, fakes: FakeFleet
) -> None:
    node = node_factory("DE", "EVR", extra_args=FAST)
    fake = fakes.start()
    registered = partner_registers_with(node, fake)
    fake.stop()  # its server is down, but it can still call us
    offline = wait_until(status_is(node, registered["id"], "OFFLINE"), timeout=15)
    r = fake.call_node("GET", fake.node.versions_url or "")
    assert r.status_code == 200, r.text
    now = partner(node, registered["id"])
    assert now["status"] == "CONNECTED"
    assert ts(now["last_connection"]) > ts(offline["last_connection"])
