"""Request body limits on a real node (uvicorn on loopback, ``EVROAM_MAX_BODY_BYTES=2048``):
what a partner's client sees when its body is too large or too deeply nested, and that
the node neither crashes nor fills its log with tracebacks. ``tests/unit/test_limits.py``
and ``test_jsonbody.py`` cover the middleware and the parser in-process."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import NodeProcess

LIMIT = 2048


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    workdir = tmp_path_factory.mktemp("limits")
    node = NodeProcess(
        f"sqlite+aiosqlite:///{workdir / 'node.db'}",
        workdir,
        country_code="NL",
        party_id="LIM",
        extra_env={"EVROAM_MAX_BODY_BYTES": str(LIMIT)},
    )
    yield node
    node.stop()


@pytest.fixture(scope="module")
def token_a(node: NodeProcess) -> str:
    return str(node.api("POST", "/partners/invite", {}, expect=201)["token"])


def auth(token: str, request_id: str) -> dict[str, str]:
    return {
        "Authorization": "Token " + base64.b64encode(token.encode()).decode(),
        "X-Request-ID": request_id,
        "Content-Type": "application/json",
    }


def credentials_body(size: int) -> bytes:
    """A credentials object padded to exactly ``size`` bytes: valid JSON, only too big."""
    head = b'{"token":"t","url":"https://p.example.com/ocpi/versions","roles":[],"pad":"'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def assert_envelope(r: httpx.Response, http_status: int, request_id: str) -> dict[str, Any]:
    assert r.status_code == http_status, r.text
    assert r.headers["x-request-id"] == request_id
    body = r.json()
    assert body["status_code"] == 2000
    assert body["timestamp"].endswith("Z")
    assert isinstance(body["status_message"], str)
    return dict(body)


def assert_alive(node: NodeProcess, token: str) -> None:
    assert node.proc.poll() is None, node.log()
    r = node.ocpi("GET", "/ocpi/versions", token)
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text


def new_log_lines(node: NodeProcess, offset: int, expect_in_last: str) -> list[str]:
    """Lines the node logged after ``offset``, once one containing ``expect_in_last`` is
    there (the access line is written as the answer goes out; poll, with a deadline)."""
    deadline = time.monotonic() + 10
    while True:
        text = node.log()[offset:]
        if expect_in_last in text or time.monotonic() > deadline:
            return [line for line in text.splitlines() if line.strip()]
        time.sleep(0.05)


def test_a_body_over_the_limit_is_413_with_an_ocpi_envelope(
    node: NodeProcess, token_a: str
) -> None:
    body = credentials_body(3000)
    assert len(body) == 3000
    r = node.http.post(
        f"{node.url}/ocpi/2.2.1/credentials", content=body, headers=auth(token_a, "too-big-1")
    )
    assert_envelope(r, 413, "too-big-1")
    assert str(LIMIT) in r.json()["status_message"]
    assert_alive(node, token_a)


def test_a_chunked_body_over_the_limit_is_413_too(node: NodeProcess, token_a: str) -> None:
    body = credentials_body(3000)
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 500):
            sent.append(i)
            yield body[i : i + 500]

    r = node.http.post(
        f"{node.url}/ocpi/2.2.1/credentials", content=chunks(), headers=auth(token_a, "chunked-1")
    )
    assert sent, "the body was not streamed"
    assert_envelope(r, 413, "chunked-1")
    assert_alive(node, token_a)


def test_a_body_at_the_limit_reaches_the_endpoint(node: NodeProcess, token_a: str) -> None:
    """The control: 2048 bytes are read and parsed (here refused for its content, 2001)."""
    r = node.http.post(
        f"{node.url}/ocpi/2.2.1/credentials",
        content=credentials_body(LIMIT),
        headers=auth(token_a, "at-limit"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status_code"] == 2001


def test_deeply_nested_json_is_400_with_one_log_line_and_no_traceback(
    node: NodeProcess, token_a: str
) -> None:
    # Within the size limit, and far deeper than json.loads can recurse (about 1000).
    body = b"[" * 2000
    offset = len(node.log())
    r = node.http.post(
        f"{node.url}/ocpi/2.2.1/credentials", content=body, headers=auth(token_a, "nested-1")
    )
    assert_envelope(r, 400, "nested-1")
    lines = new_log_lines(node, offset, '" 400')
    assert len(lines) == 1, "\n".join(lines)
    assert '"POST /ocpi/2.2.1/credentials HTTP/1.1" 400' in lines[0]
    assert "Traceback" not in node.log()
    assert_alive(node, token_a)
