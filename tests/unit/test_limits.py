"""BodyLimitMiddleware driven with raw ASGI calls (to count what is read and sent) and through
httpx's ASGI transport (to see the answer a client gets)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from evroam.ocpi.common.limits import BodyLimitMiddleware

LIMIT = 100


@dataclass
class Inner:
    """The wrapped app: reads the whole body (stopping at a disconnect), answers 200."""

    calls: int = 0
    body: bytes = b""
    receive: Receive | None = None
    send: Send | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        self.receive, self.send = receive, send
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@dataclass
class Exchange:
    sent: list[Message] = field(default_factory=list)
    receive_calls: int = 0

    @property
    def starts(self) -> list[Message]:
        return [m for m in self.sent if m["type"] == "http.response.start"]

    @property
    def status(self) -> int:
        assert len(self.starts) == 1, self.sent
        return int(self.starts[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.starts[0]["headers"])

    @property
    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


async def call(
    app: Any,
    *,
    headers: Sequence[tuple[str, str]] = (),
    chunks: Sequence[bytes] = (),
    path: str = "/ocpi/2.2.1/emsp/locations/NL/ABC/LOC1",
    method: str = "PUT",
    http_version: str = "1.1",
) -> Exchange:
    """One request; the body arrives as ``chunks``, one receive() each."""
    exchange = Exchange()
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks or [b""])
    ]

    async def receive() -> Message:
        exchange.receive_calls += 1
        await asyncio.sleep(0)  # a real server suspends here: concurrent readers interleave
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        exchange.sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 1234),
        "server": ("node", 80),
    }
    await app(scope, receive, send)
    return exchange


def chunked() -> list[tuple[str, str]]:
    return [("transfer-encoding", "chunked")]


async def test_declared_length_over_limit_is_413_without_the_app_reading_the_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Slightly over the limit: the body is read and dropped by the middleware (so the
    client gets the 413, not a reset), never handed to the app."""
    inner = Inner()
    with caplog.at_level(logging.INFO, logger="evroam.web"):
        ex = await call(
            BodyLimitMiddleware(inner, LIMIT),
            headers=[("content-length", str(LIMIT + 1))],
            chunks=[b"x" * 60, b"x" * (LIMIT + 1 - 60)],
        )
    assert ex.receive_calls == 2 and inner.calls == 0
    assert ex.status == 413
    assert ex.headers[b"connection"] == b"close"
    body = ex.json
    assert body["status_code"] == 2000
    assert body["status_message"] == f"request body larger than {LIMIT} bytes"
    assert "timestamp" in body and "data" not in body
    records = [r for r in caplog.records if r.name == "evroam.web"]
    assert len(records) == 1 and records[0].exc_info is None
    assert records[0].levelno in (logging.INFO, logging.WARNING)


async def test_far_over_limit_or_expect_continue_is_413_without_reading_anything() -> None:
    """Bodies far over the limit are not read at all, nor is one the client holds back
    until it hears ``100 Continue``."""
    limit = BodyLimitMiddleware(Inner(), LIMIT)
    ex = await call(limit, headers=[("content-length", str(limit.drain_bytes + 1))])
    assert ex.status == 413 and ex.receive_calls == 0
    ex = await call(
        limit,
        headers=[("content-length", str(LIMIT + 1)), ("expect", "100-continue")],
        chunks=[b"x" * (LIMIT + 1)],
    )
    assert ex.status == 413 and ex.receive_calls == 0


async def test_absurd_content_length_is_413_not_a_crash() -> None:
    # 5000 digits: int() of it would raise ValueError under the interpreter's digit limit.
    ex = await call(BodyLimitMiddleware(Inner(), LIMIT), headers=[("content-length", "9" * 5000)])
    assert ex.status == 413 and ex.receive_calls == 0


async def test_streamed_body_over_limit_is_413_and_app_sees_at_most_limit() -> None:
    inner = Inner()
    ex = await call(BodyLimitMiddleware(inner, LIMIT), headers=chunked(), chunks=[b"x" * 30] * 10)
    assert ex.status == 413
    assert ex.json["status_message"] == f"request body larger than {LIMIT} bytes"
    assert len(inner.body) == 90  # three chunks; the fourth crosses the limit
    assert ex.receive_calls == 4  # the rest of the stream is never pulled


async def test_body_longer_than_its_content_length_is_still_counted() -> None:
    inner = Inner()
    ex = await call(
        BodyLimitMiddleware(inner, LIMIT),
        headers=[("content-length", "10")],
        chunks=[b"x" * 60, b"x" * 60],
    )
    assert ex.status == 413 and len(inner.body) <= LIMIT


async def test_http2_body_without_length_headers_is_counted() -> None:
    inner = Inner()
    ex = await call(BodyLimitMiddleware(inner, LIMIT), http_version="2", chunks=[b"x" * 101])
    assert ex.status == 413 and inner.body == b""


@pytest.mark.parametrize("headers", [[("content-length", str(LIMIT))], chunked()])
async def test_body_of_exactly_max_bytes_passes(headers: list[tuple[str, str]]) -> None:
    inner = Inner()
    ex = await call(BodyLimitMiddleware(inner, LIMIT), headers=headers, chunks=[b"x" * LIMIT])
    assert ex.status == 200 and inner.body == b"x" * LIMIT


async def test_request_without_body_headers_passes_through_untouched() -> None:
    inner = Inner()
    received: list[Receive] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received.append(receive)
        await inner(scope, receive, send)

    ex = await call(BodyLimitMiddleware(app, LIMIT), method="GET")
    assert ex.status == 200
    # The server's own callables reach the app: no wrapper on the GET path.
    assert received[0].__qualname__ == "call.<locals>.receive"
    assert inner.send is not None and inner.send.__qualname__ == "call.<locals>.send"


async def test_non_http_scopes_pass_through() -> None:
    inner = Inner()
    mw = BodyLimitMiddleware(inner, LIMIT)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    await mw({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert inner.calls == 1 and inner.receive is receive


async def test_operator_api_gets_its_error_shape() -> None:
    ex = await call(
        BodyLimitMiddleware(Inner(), LIMIT),
        path="/api/v1/partners",
        method="POST",
        headers=[("content-length", "1000")],
    )
    assert ex.status == 413
    assert ex.json == {
        "error": "PayloadTooLarge",
        "detail": f"request body larger than {LIMIT} bytes",
    }


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/ocpi/versions", [("content-length", "abc")]),
        ("/ocpi/versions", [("content-length", "-1")]),
        ("/ocpi/versions", [("content-length", "")]),
        ("/ocpi/versions", [("content-length", "5, 5")]),
        ("/ocpi/versions", [("content-length", "5"), ("content-length", "6")]),
        ("/api/v1/partners", [("content-length", "1e3")]),
    ],
)
async def test_malformed_content_length_is_400(path: str, headers: list[tuple[str, str]]) -> None:
    inner = Inner()
    ex = await call(BodyLimitMiddleware(inner, LIMIT), path=path, headers=headers)
    assert ex.status == 400 and inner.calls == 0 and ex.receive_calls == 0
    if path.startswith("/ocpi"):
        assert ex.json["status_code"] == 2000
    else:
        assert ex.json["error"] == "BadRequest"


async def test_app_answer_after_the_refusal_is_dropped() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"bad"})

    ex = await call(BodyLimitMiddleware(app, LIMIT), headers=chunked(), chunks=[b"x" * 80] * 3)
    assert ex.status == 413 and len(ex.sent) == 2


async def test_starlette_app_cut_off_mid_body_stops_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Request.body() raises ClientDisconnect at the cut: swallowed, one log line, one 413."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()
        raise AssertionError("unreachable: the body is cut off")

    with caplog.at_level(logging.DEBUG, logger="evroam.web"):
        ex = await call(BodyLimitMiddleware(app, LIMIT), headers=chunked(), chunks=[b"x" * 60] * 3)
    assert ex.status == 413
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(loud) == 1 and all(r.exc_info is None for r in caplog.records)


async def test_limit_crossed_after_response_started_sends_no_second_start() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RuntimeError("client went away")  # what a streaming app might do
            body += message["body"]
            await send({"type": "http.response.body", "body": b"echo", "more_body": True})

    ex = await call(BodyLimitMiddleware(app, LIMIT), headers=chunked(), chunks=[b"x" * 60] * 3)
    assert [m["status"] for m in ex.starts] == [200]
    # The response is left incomplete, so the server drops the connection.
    assert not any(
        m["type"] == "http.response.body" and not m.get("more_body", False) for m in ex.sent
    )


async def test_concurrent_readers_crossing_the_limit_log_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Starlette's StreamingResponse reads receive() in a second task to watch for a
    disconnect; both readers may be waiting when the limit is crossed."""
    seen: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def reader() -> None:
            while (message := await receive())["type"] != "http.disconnect":
                seen.append(len(message["body"]))

        await asyncio.gather(reader(), reader())

    with caplog.at_level(logging.INFO, logger="evroam.web"):
        ex = await call(BodyLimitMiddleware(app, LIMIT), headers=chunked(), chunks=[b"x" * 60] * 3)
    assert ex.status == 413 and sum(seen) <= LIMIT
    assert len(caplog.records) == 1


async def test_app_error_unrelated_to_the_limit_propagates() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        await call(BodyLimitMiddleware(app, LIMIT), headers=chunked(), chunks=[b"x"])


async def test_client_sees_413_for_a_streamed_upload_over_http() -> None:
    inner = Inner()
    transport = httpx.ASGITransport(app=BodyLimitMiddleware(inner, LIMIT))

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 40

    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        ocpi = await client.post("/ocpi/2.2.1/cpo/commands/START_SESSION", content=upload())
        assert ocpi.status_code == 413 and ocpi.json()["status_code"] == 2000
        assert ocpi.headers["connection"] == "close"
        assert inner.body == b"y" * 80
        inner.body = b""
        small = await client.post("/api/v1/partners", content=b'{"a": 1}')
    assert small.status_code == 200 and inner.body == b'{"a": 1}'


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        BodyLimitMiddleware(Inner(), -1)
