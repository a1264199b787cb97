"""The wire under ``OcpiClient``: one HTTP exchange, whatever library carries it.

``OcpiClient`` decides what to send and what an answer means (tokens, redirects, the
envelope, partners' deviations); a wire only sends one request and hands back the
status, headers and body. Two wires exist:

* ``HttpxWire`` (``httpx`` over ``destination.GuardedTransport``): every call the node
  makes, handshakes, pulls and syncs;
* ``AioWire`` (``aiowire.py``, ``aiohttp``): the push worker's deliveries, where the
  client's own cost per request decides the delivery rate. Measured on this project's
  2-core machine against one loopback receiver per partner, sequential calls: httpx
  ~0.9k requests/s, httpx over an aiohttp transport about the same (the cost is httpx's
  request and response objects), aiohttp alone ~3k/s.

Both apply the destination policy to every connection and raise ``WireTimeout`` or
``WireError`` for a call that got no answer, so ``OcpiClient`` maps one set of
exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

#: The largest answer body a wire reads (a push's answer is an envelope of a few
#: hundred bytes; a page of a partner's list is larger): beyond it the call fails
#: instead of the node buffering whatever a partner sends.
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class WireError(Exception):
    """No usable answer: the connection failed, broke, or the answer was too large."""


class WireTimeout(WireError):
    """No answer in time (connect or read)."""


class WireResponse:
    """What a wire hands back: status, case-insensitive headers, body, final URL."""

    __slots__ = ("_json", "content", "headers", "status_code", "url")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], content: bytes, url: str
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url
        self._json: Any = _UNPARSED

    def json(self) -> Any:
        """The body as JSON, parsed once (the client looks at it more than once);
        ``ValueError`` when it is not JSON."""
        if self._json is _UNPARSED:
            try:
                self._json = json.loads(self.content)
            except (ValueError, UnicodeDecodeError) as exc:
                self._json = _NOT_JSON
                raise ValueError("not JSON") from exc
        if self._json is _NOT_JSON:
            raise ValueError("not JSON")
        return self._json


_UNPARSED = object()
_NOT_JSON = object()


class Wire(Protocol):
    #: (connect, read) timeouts in seconds: the longest one call may take.
    timeouts: tuple[float, float]

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, str] | None,
    ) -> WireResponse: ...

    async def aclose(self) -> None: ...


class HttpxWire:
    """The node's httpx client as a wire (its transport guards destinations)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        timeout = http.timeout
        self.timeouts = (timeout.connect or 10.0, timeout.read or 30.0)

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, str] | None,
    ) -> WireResponse:
        try:
            resp = await self.http.request(
                method, url, content=content, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise WireTimeout("timed out") from exc
        except httpx.HTTPError as exc:
            raise WireError(f"{type(exc).__name__}: {exc}") from exc
        return WireResponse(resp.status_code, resp.headers, resp.content, str(resp.request.url))

    async def aclose(self) -> None:
        await self.http.aclose()
