"""Request body size limit, enforced while the body arrives rather than after it is buffered.

A pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request) in front of the
app, so a partner cannot make the node hold more than ``max_bytes`` of one body in memory:

* A declared ``Content-Length`` above the limit is answered HTTP 413 without handing a
  byte of the body to the app (a client that asked for ``100 Continue`` does not get
  it). Bodies up to four times the limit (at least 4 MB, at most 16 MB) are read and
  dropped first, so that the client gets the 413 rather than a reset connection. A
  malformed or conflicting ``Content-Length`` is answered 400: the body's framing cannot
  be trusted.
* A body without a usable length (chunked, HTTP/2) is counted as the app reads it. The chunk
  that crosses the limit is not handed over: the 413 goes out at once, and the app's
  ``receive`` then reports ``http.disconnect``, the ASGI way of saying "no more body", so
  the app stops. Whatever it sends afterwards, and any error it raises on the way out, is
  dropped: the answer is decided, and a second response start would break the connection.
  If the app had already started its own response, it cannot be replaced by a 413; it is
  left incomplete, so the server closes the connection and the client cannot mistake a cut
  answer for a whole one.
* 413 and 400 answers carry ``Connection: close``: the unread rest of the body is still on
  the wire and must not be parsed as the next request.
* Under ``/ocpi`` the answer is an OCPI envelope with status 2000 (OCPI 2.2.1
  transport_and_format §"Response format"; the digest §1.3 lets HTTP errors carry one),
  elsewhere the operator API's ``{"error": ..., "detail": ...}``.

Requests that cannot have a body under HTTP/1.x (no ``Content-Length``, no
``Transfer-Encoding``: RFC 9112 §6.3) pass through untouched: this sits in front of every
GET, and costs one scan of the header list there.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evroam.ocpi.common.envelope import dump_json, envelope

log = logging.getLogger("evroam.web")

# HTTP versions whose requests have no body unless a header announces one (RFC 9112 §6.3).
# HTTP/2 and /3 frame bodies themselves, so there a body is always counted.
_FRAMED_BY_HEADERS = frozenset({"1.0", "1.1"})
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


class BodyLimitMiddleware:
    """Refuse (HTTP 413) request bodies larger than ``max_bytes``; see the module docstring."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes
        # A Content-Length with more digits than the limit is over it: no int() needed,
        # so an absurd header (thousands of digits) costs nothing.
        self._max_digits = len(str(max_bytes))
        self.too_large = f"request body larger than {max_bytes} bytes"
        # Bodies up to this size are read and dropped before the 413 (see ``_drain``).
        self.drain_bytes = min(max(4 * max_bytes, 4_000_000), 16_000_000)
        self._drain_digits = len(str(self.drain_bytes))

    async def _drain(self, scope: Scope, receive: Receive) -> None:
        """Read and drop a refused body that is not much over the limit.

        Why: answering 413 and closing while the client is still sending makes the
        client's kernel see unread data and reset the connection, and the client then
        reports a reset instead of the 413 (``evroam data import`` saw that in most
        tries with a 1 MB object). Reading the rest first lets the answer arrive; the
        bytes are dropped as they come, so memory stays bounded, and bodies far over
        the limit are still refused at once. A client that asked ``Expect:
        100-continue`` has sent nothing yet and gets the 413 at once."""
        for name, value in scope["headers"]:
            if name == b"expect" and value.lower() == b"100-continue":
                return
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, _ in scope["headers"]:
            if name in _BODY_HEADERS:
                break
        else:
            if scope.get("http_version", "1.1") in _FRAMED_BY_HEADERS:
                await self.app(scope, receive, send)
                return
        await self._limited(scope, receive, send)

    async def _declared_problem(self, scope: Scope, receive: Receive) -> tuple[int, str] | None:
        """What is wrong with the declared ``Content-Length`` (HTTP status, message), or
        None. A body a little over the limit has been drained when this answers 413."""
        declared: bytes | None = None
        conflicting = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                conflicting = conflicting or (declared is not None and value != declared)
                declared = value
        if declared is not None:
            digits = declared.strip()
            if conflicting or not digits.isdigit():
                return 400, "malformed Content-Length header"
            if len(digits) > self._max_digits or int(digits) > self.max_bytes:
                if len(digits) <= self._drain_digits and int(digits) <= self.drain_bytes:
                    await self._drain(scope, receive)
                return 413, self.too_large
        return None

    async def read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body of a request, read under the same rules as the middleware's, or
        None when it was refused (the 400 or 413 is sent). For callers that read the body
        before handing the request on (``fastlane.py``): a body counted as a whole needs
        no guard around ``receive`` and ``send``. ``ClientDisconnect`` when the client
        goes away mid-body."""
        for name, _ in scope["headers"]:
            if name in _BODY_HEADERS:
                break
        else:
            if scope.get("http_version", "1.1") in _FRAMED_BY_HEADERS:
                return b""
        problem = await self._declared_problem(scope, receive)
        if problem is not None:
            await self.refuse(scope, send, *problem)
            return None
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise ClientDisconnect()
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self.refuse(scope, send, 413, self.too_large)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request that may have a body: check its declared length, then count it."""
        problem = await self._declared_problem(scope, receive)
        if problem is not None:
            await self.refuse(scope, send, *problem)
            return
        guard = _BodyGuard(self, scope, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception as exc:
            if not guard.refused:
                raise
            # The app failed because its body was cut off: the 413 already answers it.
            log.debug("after refusing the body: %s", type(exc).__name__)

    async def refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        """Answer ``status`` with ``message`` and log one line (no traceback: the partner's
        input was wrong, the node is fine)."""
        path: str = scope["path"]
        log.warning("refused %s %r: %s (HTTP %d)", scope["method"], path, message, status)
        if path.startswith("/ocpi"):
            body = dump_json(envelope(None, 2000, message))
        else:
            kind = "PayloadTooLarge" if status == 413 else "BadRequest"
            body = dump_json({"error": kind, "detail": message})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyGuard:
    """One request's byte count and response state, between the app and the server."""

    __slots__ = ("limit", "scope", "_receive", "_send", "received", "started", "refused")

    def __init__(
        self, limit: BodyLimitMiddleware, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.limit = limit
        self.scope = scope
        self._receive = receive
        self._send = send
        self.received = 0
        self.started = False
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if self.refused:  # another receive() running concurrently crossed the limit
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_bytes:
                self.refused = True
                if self.started:
                    log.warning(
                        "refused %s %r: %s after the response started; connection dropped",
                        self.scope["method"],
                        self.scope["path"],
                        self.limit.too_large,
                    )
                else:
                    await self.limit.refuse(self.scope, self._send, 413, self.limit.too_large)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


__all__ = ["BodyLimitMiddleware"]
