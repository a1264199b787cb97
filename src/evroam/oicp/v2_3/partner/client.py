"""The call machinery shared by the CPO and EMP clients: one HTTPS client with the
partner's certificate, the operation table for every path, answers parsed into the wire
models, refusals raised, HTTP 429 retried, pushes of one operation kept in order, paged
pulls walked to the end.

Rules, and where they come from:

* **Paths** come from :mod:`evroam.oicp.v2_3.paths` only; the base URL is Hubject's
  (``HUBJECT_QA``, ``HUBJECT_PROD``), this hub's, or any OICP 2.3 endpoint, given with
  or without the ``/api/oicp`` every path already starts with.
* **Mutual TLS** is the only credential (digest §6): the client presents ``cert``/``key``
  and verifies the server against ``ca`` (the system store when None), with
  :func:`evroam.oicp.tls.client_ssl_context`. No redirects, no proxy from the
  environment: a push goes where it was told to, or nowhere.
* **Answers.** An acknowledgement with ``Result: false`` (whatever the HTTP status: the
  hub answers a malformed body 400/022 and a refused certificate 403/017) raises
  :class:`~evroam.oicp.v2_3.errors.OicpPartnerError` with the partner's code and texts,
  as does a data answer whose ``StatusCode`` is not ``000``. AuthorizeStart/Stop answer
  ``NotAuthorized`` as a business outcome: that comes back as the parsed answer, for the
  caller to read. Anything that is not the operation's answer (not JSON, another shape,
  an HTML error page, too large) is :class:`NotAnOicpAnswer`; no answer at all
  (timeout, refused, TLS failure) is :class:`NoAnswer`. Neither is retried: a push
  that may have arrived is not sent twice behind the caller's back.
* **HTTP 429** (the AUP's rate limits, digest §6) is retried up to ``retries.attempts``
  times with exponential backoff and jitter (``Retry-After`` when the server names one,
  capped), then :class:`RateLimited`. The sleep and the randomness are injectable so
  tests drive them instead of waiting.
* **Sequential pushes** (digest §6): the operations ``paths`` marks ``sequential`` hold a
  lock per operation for the whole call, retries included, so two pushes of one
  operation from one client never overlap and arrive in the order they were made.
* **Paging** (digest §5): :meth:`OicpClient.pages` asks page 0, 1, ... with ``size`` up
  to 2000 until the answer says ``last`` (or is empty, or ``totalPages`` is reached: a
  hostile server cannot keep the client paging forever).
* **Logging** names the operation, the HTTP status, the code and the time taken; never a
  body, and an identification (EvcoID, card UID) only through :func:`masked`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from evroam.oicp import tls
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.errors import OicpPartnerError
from evroam.oicp.v2_3.models.common import Page
from evroam.oicp.v2_3.pages import MAX_SIZE, PageRequest, next_page
from evroam.oicp.v2_3.paths import BASE_PATH, OperationName, operation

log = logging.getLogger("evroam.oicp.client")

AnswerT = TypeVar("AnswerT", bound=BaseModel)
PageT = TypeVar("PageT", bound=Page[Any])

#: Hubject's environments (digest §1.1); the paths add ``/api/oicp/...``.
HUBJECT_QA = "https://service-qa.hubject.com"
HUBJECT_PROD = "https://service.hubject.com"

#: Largest answer read: a page of 2000 EVSE data records is a few megabytes.
MAX_ANSWER_BYTES = 64_000_000

Sleep = Callable[[float], Awaitable[None]]


class OicpCallFailed(Exception):
    """The call got no OICP answer: nothing is known about whether it was performed."""

    def __init__(self, operation: str, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{operation}: {reason}")
        self.operation = operation
        self.reason = reason
        self.http_status = http_status


class NoAnswer(OicpCallFailed):
    """Timeout, connection refused or reset, TLS handshake refused."""


class NotAnOicpAnswer(OicpCallFailed):
    """An answer came, but not the operation's (not JSON, another shape, too large)."""


class RateLimited(OicpCallFailed):
    """Still HTTP 429 after every retry."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How HTTP 429 is retried: ``attempts`` retries after the first try, the n-th after
    ``base * 2**n`` seconds (at most ``cap``), of which a random half is dropped (equal
    jitter: clients limited together do not come back together). A ``Retry-After`` in
    seconds replaces the computed delay, still capped."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 60.0

    def delay(self, retry: int, retry_after: float | None, draw: Callable[[], float]) -> float:
        if retry_after is not None:
            return min(self.cap, max(0.0, retry_after))
        ceiling = min(self.cap, self.base * (2.0**retry))
        return ceiling / 2 + draw() * ceiling / 2


def masked(identification: str | None) -> str:
    """An EvcoID or UID for a log line: its first five characters (for an EvcoID the
    provider, which routes it) and the length, never the whole (digest §6 puts them
    among personal data)."""
    if not identification:
        return "-"
    return f"{identification[:5]}…({len(identification)})"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 6:
        return float(value)
    return None


def base_url(url: str) -> str:
    """``url`` without a trailing slash or ``/api/oicp`` (every path adds it back)."""
    url = url.strip().rstrip("/")
    if not url.lower().startswith(("https://", "http://")):
        raise ValueError(f"the base URL must start with https:// (got {url[:60]!r})")
    return url[: -len(BASE_PATH)] if url.endswith(BASE_PATH) else url


class OicpClient:
    """One partner's connection to a hub. Use as ``async with``, or call :meth:`aclose`.

    ``transport`` replaces the network (tests: an in-process app); ``sleep`` and
    ``draw`` the waiting and randomness of the 429 backoff.
    """

    def __init__(
        self,
        url: str,
        *,
        cert: Path | None = None,
        key: Path | None = None,
        ca: Path | None = None,
        timeout: float = 30.0,
        retries: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        draw: Callable[[], float] = random.random,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        if timeout <= 0:
            raise ValueError("the timeout must be positive")
        self.base_url = base_url(url)
        self.timeout = timeout
        self.retries = retries or RetryPolicy()
        self.max_answer_bytes = max_answer_bytes
        self._sleep = sleep
        self._draw = draw
        verify: Any = True
        if transport is None:
            verify = tls.client_ssl_context(cert, key, ca)
        self._http = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        # One lock per sequential operation, made with the client (no module state).
        self._locks = {name: asyncio.Lock() for name in OperationName if operation(name).sequential}

    async def __aenter__(self) -> OicpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ one call

    def url(self, name: OperationName, path_id: str | None) -> str:
        op = operation(name)
        path = op.url(**{op.id_param: path_id}) if op.id_param and path_id else op.url()
        return self.base_url + path

    async def call(
        self,
        name: OperationName,
        path_id: str | None,
        body: BaseModel | Mapping[str, Any],
        answer: type[AnswerT],
        *,
        params: Mapping[str, str] | None = None,
    ) -> AnswerT:
        """POST ``body`` as operation ``name``; the answer as ``answer`` (module
        docstring for what is raised)."""
        content = json.dumps(_wire(body), separators=(",", ":"), ensure_ascii=False).encode()
        url = self.url(name, path_id)
        lock = self._locks.get(name)
        if lock is None:
            return await self._send(name, url, content, answer, params)
        async with lock:
            return await self._send(name, url, content, answer, params)

    async def _send(
        self,
        name: OperationName,
        url: str,
        content: bytes,
        answer: type[AnswerT],
        params: Mapping[str, str] | None,
    ) -> AnswerT:
        retry = 0
        while True:
            started = time.monotonic()
            status, response, raw = await self._post(name, url, content, params)
            millis = (time.monotonic() - started) * 1000
            if status != 429:
                break
            if retry >= self.retries.attempts:
                log.warning("%s: HTTP 429 after %d retries", name, retry)
                raise RateLimited(name, f"HTTP 429 after {retry} retries", http_status=429)
            delay = self.retries.delay(retry, _retry_after(response), self._draw)
            log.info("%s: HTTP 429, retry %d in %.1f s", name, retry + 1, delay)
            await self._sleep(delay)
            retry += 1
        parsed = self._parse(name, status, raw, answer)
        code = getattr(getattr(parsed, "StatusCode", None), "Code", Code.SUCCESS.value)
        log.info("%s: HTTP %d, %s in %.0f ms", name, status, code, millis)
        return parsed

    async def _post(
        self, name: OperationName, url: str, content: bytes, params: Mapping[str, str] | None
    ) -> tuple[int, httpx.Response, bytes]:
        try:
            async with asyncio.timeout(self.timeout):
                async with self._http.stream(
                    "POST", url, content=content, params=dict(params or {})
                ) as response:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_answer_bytes:
                            raise NotAnOicpAnswer(
                                name,
                                f"answer larger than {self.max_answer_bytes} bytes",
                                http_status=response.status_code,
                            )
                        chunks.append(chunk)
                    return response.status_code, response, b"".join(chunks)
        except (TimeoutError, httpx.TimeoutException):
            log.warning("%s: no answer within %g s", name, self.timeout)
            raise NoAnswer(name, f"no answer within {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            log.warning("%s: %s", name, type(exc).__name__)
            raise NoAnswer(name, f"not reachable ({type(exc).__name__}: {exc})") from None

    def _parse(
        self, name: OperationName, status: int, raw: bytes, answer: type[AnswerT]
    ) -> AnswerT:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise NotAnOicpAnswer(
                name, f"HTTP {status}, the answer is not JSON", http_status=status
            ) from None
        if isinstance(data, dict):
            refusal = _refusal(data, status)
            if refusal is not None:
                log.info("%s: refused, HTTP %d, %s", name, status, refusal.code)
                raise refusal
        if status >= 300:
            raise NotAnOicpAnswer(
                name, f"HTTP {status} without an OICP acknowledgement", http_status=status
            )
        try:
            return answer.model_validate(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(x) for x in first.get("loc", ()))
            raise NotAnOicpAnswer(
                name,
                f"not an OICP {name} answer ({where}: {first.get('msg')})",
                http_status=status,
            ) from None

    # ------------------------------------------------------------------ paging

    async def pages(
        self,
        name: OperationName,
        path_id: str,
        body: BaseModel,
        page_model: type[PageT],
        *,
        size: int = MAX_SIZE,
        first_page: int = 0,
    ) -> AsyncIterator[PageT]:
        """Every page of a paged pull, from ``first_page`` until the last."""
        if not operation(name).paginated:
            raise ValueError(f"{name} is not paged")
        if not 1 <= size <= MAX_SIZE:
            raise ValueError(f"size must be from 1 to {MAX_SIZE}")
        request: PageRequest | None = PageRequest(page=first_page, size=size)
        while request is not None:
            page = await self.call(name, path_id, body, page_model, params=request.query())
            yield page
            seen = {"last": page.last, "content": page.content, "totalPages": page.totalPages}
            request = next_page(seen, request)


def _wire(body: BaseModel | Mapping[str, Any]) -> Any:
    """The JSON of a request: a wire model's own wire form, a mapping as it is."""
    if isinstance(body, BaseModel):
        to_wire = getattr(body, "to_wire", None)
        if callable(to_wire):
            return to_wire()
        return body.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dict(body)


def _refusal(data: Mapping[str, Any], status: int) -> OicpPartnerError | None:
    """The partner's refusal in ``data``: an acknowledgement with ``Result: false``, or
    any answer whose ``StatusCode`` is not 000 unless it is an authorization answer
    (``AuthorizationStatus`` carries the outcome there)."""
    code_obj = data.get("StatusCode")
    code = description = info = None
    if isinstance(code_obj, Mapping):
        code, description, info = (
            code_obj.get("Code"),
            code_obj.get("Description"),
            code_obj.get("AdditionalInfo"),
        )
    negative = data.get("Result") is False or (
        "AuthorizationStatus" not in data and code is not None and code != Code.SUCCESS.value
    )
    if not negative:
        return None
    return OicpPartnerError(
        str(code) if code is not None else "???",
        str(description) if description is not None else None,
        str(info) if info is not None else None,
        http_status=status,
    )
