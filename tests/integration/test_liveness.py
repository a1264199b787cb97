"""The node's background liveness loop, on a real process: a partner that stops answering
is marked OFFLINE, and CONNECTED again once it answers. Every rule of the status itself
(silence, who is pinged, contact during a failing ping) is driven with a clock in
``tests/unit/test_liveness.py``; this only shows the loop runs and uses them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.integration.fake_partner import FakeFleet, b64, wait_until
from tests.support import NodeProcess

NodeFactory = Callable[..., NodeProcess]


def ts(value: str | None) -> datetime:
    assert value, "no timestamp"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def status_is(node: NodeProcess, ref: int, status: str) -> Callable[[], Any]:
    def check() -> Any:
        p = node.api("GET", f"/partners/{ref}", expect=200)
        return p if p["status"] == status else None

    return check


def test_the_loop_marks_a_partner_offline_and_connected_again(
    node_factory: NodeFactory, fakes: FakeFleet
) -> None:
    node = node_factory("DE", "EVR", extra_args=("--liveness-interval", "1"))
    fake = fakes.start()
    registered = node.api(
        "POST",
        "/partners/register",
        {"versions_url": fake.versions_url, "token": fake.issue_token_a()},
        expect=201,
    )
    assert registered["status"] == "CONNECTED"

    fake.stop()
    offline = wait_until(status_is(node, registered["id"], "OFFLINE"), timeout=20, interval=0.1)
    assert ts(offline["status_changed_at"]) > ts(registered["status_changed_at"])
    assert offline["registered"] is True

    fake.start()  # same port, same tokens
    back = wait_until(status_is(node, registered["id"], "CONNECTED"), timeout=20, interval=0.1)
    assert ts(back["last_connection"]) > ts(offline["last_connection"])

    # The pings are versions GETs with the partner's token, Base64, and no routing headers.
    pings = fake.requests_for("/ocpi/versions", "GET")[1:]
    assert pings, "no liveness ping reached the partner"
    for ping in pings:
        assert ping.authorization == f"Token {b64(fake.issued or '')}"
        assert not any(h.startswith("ocpi-") for h in ping.headers)
