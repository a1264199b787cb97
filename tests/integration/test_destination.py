"""The destination policy end to end: a token A holder cannot make a real node fetch
cloud metadata or the node's own operator API (server-side request forgery).

The node runs as a real process with ``EVROAM_ALLOW_PRIVATE_DESTINATIONS=false``. Each
attempt must answer 3001, log one WARNING naming the refused target, leave the invitation
as it was, and open no connection: a listening socket that nobody accepts on shows any
connection attempt as a pending one.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.fake_partner import (
    assert_envelope,
    new_token,
    partners,
    stored_state,
    wait_until,
)
from tests.support import NodeProcess

CREDENTIALS = "/ocpi/2.2.1/credentials"
NO_PRIVATE = {"EVROAM_ALLOW_PRIVATE_DESTINATIONS": "false"}


def _credentials(url: str) -> dict[str, Any]:
    role = {
        "role": "EMSP",
        "business_details": {"name": "Attacker"},
        "party_id": "ATK",
        "country_code": "DE",
    }
    return {"token": new_token(), "url": url, "roles": [role]}


def _refusal_lines(node: NodeProcess, target: str) -> list[str]:
    return [
        line
        for line in node.log().splitlines()
        if " WARNING evroam.ocpi.client " in line and target in line and "refused" in line
    ]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that listens but never accepts: a connection would be left pending."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _nobody_connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def _attempt(node: NodeProcess, url: str, target: str) -> dict[str, Any]:
    """POST credentials pointing at ``url`` with a fresh token A; check what must hold."""
    token_a: str = node.api("POST", "/partners/invite", {}, expect=201)["token"]
    before = stored_state(node)

    body = assert_envelope(
        node.ocpi("POST", CREDENTIALS, token_a, json=_credentials(url)), 200, 3001
    )

    [line] = wait_until(lambda: _refusal_lines(node, target))
    assert stored_state(node) == before
    assert all(not p["registered"] and p["status"] == "PLANNED" for p in partners(node))
    assert_envelope(node.ocpi("GET", "/ocpi/versions", token_a), 200, 1000)  # invitation kept
    return body


@pytest.fixture
def strict_node(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("NL", "CPO", roles=("CPO",), extra_env=NO_PRIVATE)


def test_credentials_url_at_cloud_metadata_is_refused(strict_node: NodeProcess) -> None:
    _attempt(strict_node, "http://169.254.169.254/latest/meta-data", "169.254.169.254")


def test_credentials_url_at_the_nodes_own_operator_api_is_refused(
    strict_node: NodeProcess, listener: socket.socket
) -> None:
    node = strict_node
    own_api = f"http://127.0.0.1:{node.port}/api/v1/partners"
    _attempt(node, own_api, "127.0.0.1")
    # The same for any loopback port: the node did not even open the connection.
    port = listener.getsockname()[1]
    _attempt(node, f"http://127.0.0.1:{port}/ocpi/versions", f"127.0.0.1 port {port}")
    assert _nobody_connected(listener)


def test_metadata_is_refused_by_a_default_node_that_allows_loopback(
    node_factory: Callable[..., NodeProcess],
) -> None:
    node = node_factory("NL", "CPO", roles=("CPO",))
    _attempt(node, "http://169.254.169.254/latest/meta-data", "169.254.169.254")


def test_refusal_answer_tells_the_partner_nothing_internal(strict_node: NodeProcess) -> None:
    node = strict_node
    for url in (
        "http://169.254.169.254/latest/meta-data",
        f"http://127.0.0.1:{node.port}/api/v1/partners",
    ):
        message = _attempt(node, url, urlsplit(url).hostname or url).get("status_message") or ""
        for secret in ("169.254", "127.0.0.1", str(node.port), "refused", "metadata", "loopback"):
            assert secret not in message, message
