"""Interleavings the handshake must survive, driven for real: a partner that holds its
answer while the test resets, unregisters or kills the node.

The fake partner (``hold_credentials``) completes a credentials POST/PUT on its side —
callbacks done, tokens switched — then waits for the test before answering, so the
node's action is exactly "in flight" when the test acts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.integration.fake_partner import FakePartner, issued_token_hashes, token_out
from tests.support import NodeProcess


def _register(node: NodeProcess, fake: FakePartner) -> int:
    partner = node.api(
        "POST",
        "/partners/register",
        {"versions_url": fake.versions_url, "token": fake.issue_token_a()},
        expect=201,
    )
    return int(partner["id"])


def _in_flight(
    fake: FakePartner, action: Callable[[], Any], meanwhile: Callable[[], Any]
) -> tuple[Any, Any]:
    """Run ``action`` until the fake holds its answer, run ``meanwhile``, then release."""
    gate = threading.Event()
    fake.hold_credentials = gate
    fake.holding.clear()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(action)
        assert fake.holding.wait(30), "the partner never received the credentials call"
        during = meanwhile()
        gate.set()
        result = future.result(60)
    fake.hold_credentials = None
    return result, during


def test_rotation_in_flight_does_not_undo_a_reset(
    node_factory: Callable[..., NodeProcess], partner_factory: Callable[..., FakePartner]
) -> None:
    node = node_factory("NL", "CPO")
    fake = partner_factory()
    pid = _register(node, fake)

    rotated, reset = _in_flight(
        fake,
        lambda: node.http.post(
            f"{node.url}/api/v1/partners/{pid}/rotate-token",
            headers={"Authorization": f"Bearer {node.admin_token}"},
            timeout=60,
        ),
        lambda: node.api("POST", f"/partners/{pid}/reset", expect=200),
    )
    assert rotated.status_code == 409, rotated.text
    shown = node.api("GET", f"/partners/{pid}", expect=200)
    assert shown["status"] == "PLANNED" and not shown["registered"]
    # Nothing of the partner's answer was stored; the only token left is the new token A.
    assert token_out(node, pid) is None
    assert [kind for _pid, kind, _h in issued_token_hashes(node)] == ["A"]
    # The token the partner got in the PUT (and the one before it) open nothing.
    assert fake.node.token
    for token in (fake.node.token,):
        assert node.ocpi("GET", "/ocpi/versions", token).status_code == 401
    assert node.ocpi("GET", "/ocpi/versions", reset["token"]).status_code == 200
    assert "was reset, unregistered or updated while the rotation ran" in rotated.text


def test_rotation_in_flight_does_not_undo_the_partners_unregister(
    node_factory: Callable[..., NodeProcess], partner_factory: Callable[..., FakePartner]
) -> None:
    node = node_factory("NL", "CPO")
    fake = partner_factory()
    pid = _register(node, fake)
    old_token = fake.node.token
    assert old_token

    def partner_deletes() -> int:
        r = node.ocpi(
            "DELETE", node.versions_url.replace("versions", "2.2.1/credentials"), old_token
        )
        return r.status_code

    rotated, deleted = _in_flight(
        fake,
        lambda: node.http.post(
            f"{node.url}/api/v1/partners/{pid}/rotate-token",
            headers={"Authorization": f"Bearer {node.admin_token}"},
            timeout=60,
        ),
        partner_deletes,
    )
    assert deleted == 200
    assert rotated.status_code == 409, rotated.text
    shown = node.api("GET", f"/partners/{pid}", expect=200)
    assert shown["status"] == "SUSPENDED"
    assert issued_token_hashes(node) == []
    assert token_out(node, pid) is None


def test_interrupted_registration_is_resolved_at_restart(
    node_factory: Callable[..., NodeProcess],
    partner_factory: Callable[..., FakePartner],
    tmp_path: Any,
) -> None:
    node = node_factory("NL", "CPO")
    fake = partner_factory()
    gate = threading.Event()
    fake.hold_credentials = gate
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            lambda: node.http.post(
                f"{node.url}/api/v1/partners/register",
                json={"versions_url": fake.versions_url, "token": fake.issue_token_a()},
                headers={"Authorization": f"Bearer {node.admin_token}"},
                timeout=60,
            )
        )
        assert fake.holding.wait(30)
        token_b = fake.node.token  # the partner holds token B and thinks we are registered
        assert token_b and node.ocpi("GET", "/ocpi/versions", token_b).status_code == 200
        node.proc.kill()  # SIGKILL: no shutdown, no cleanup
        node.proc.wait(10)
        gate.set()
    node.stop()

    again = NodeProcess(node.db_url, tmp_path, country_code="NL", party_id="CPO")
    try:
        assert again.ocpi("GET", "/ocpi/versions", token_b).status_code == 401
        [partner] = again.api("GET", "/partners", expect=200)
        assert partner["pending_since"] is None and not partner["registered"]
        assert "interrupted" in partner["notice"] and "token B revoked" in partner["notice"]
        assert "was interrupted" in again.log()
        again.api("DELETE", f"/partners/{partner['id']}", expect=200)
        assert again.api("GET", "/partners", expect=200) == []
    finally:
        again.stop()
