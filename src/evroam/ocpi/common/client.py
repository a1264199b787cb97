"""Outbound OCPI HTTP: headers, envelope parsing, pagination and tolerance of odd partners.

evroam itself sends exactly what OCPI 2.2.1 says (Base64 token header, X-Request-ID,
X-Correlation-ID, routing headers on functional modules) but accepts partners that
answer with redirects, want the other trailing-slash form of a URL, send the raw token
form only, reject a token with HTTP 403 and a non-OCPI body, or omit X-Request-ID.
Each such deviation is logged once per partner.

Where the node may connect at all is decided below this module, in the transport
(``destination.py``): every connection, redirect hops included, is checked there after DNS
resolution and refused with ``DestinationRefused``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from evroam.core.credentials_tokens import encode_token
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.common.pagination import next_link
from evroam.ocpi.common.wire import HttpxWire, Wire, WireError, WireResponse, WireTimeout

log = logging.getLogger("evroam.ocpi.client")

MAX_REDIRECTS = 3


class PartnerError(Exception):
    """The partner's answer was not a usable success. Never our own client's fault."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        ocpi_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.ocpi_status = ocpi_status

    def partner_message(self) -> str | None:
        """What to keep of a failed call: with an OCPI status, the partner's message
        alone (the statuses are kept on their own); otherwise what went wrong (timed out,
        not JSON...)."""
        text = str(self)
        if self.ocpi_status is None:
            return text
        _, found, message = text.partition(f"OCPI {self.ocpi_status}: ")
        return message if found else None


class PartnerAuthRejected(PartnerError):
    """HTTP 401/403: the partner does not accept the token we sent."""


class DestinationRefused(PartnerError):
    """A partner URL (or a redirect) leads to an address the destination policy forbids.

    Raised by the transport (``destination.GuardedNetworkBackend``) after DNS resolution and
    before any connection is opened, so nothing was sent. It passes through httpx and
    ``OcpiClient.request`` unchanged: the operator reads which address and why, e.g.
    ``destination 169.254.169.254 refused: cloud metadata``. A partner must not.
    """

    def __init__(self, host: str, address: str, reason: str) -> None:
        shown = address if host.strip("[]") == address else f"{host} ({address})"
        super().__init__(f"destination {shown} refused: {reason}")
        self.host = host
        self.address = address
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    token: str = field(repr=False)
    content: bytes | None
    params: Mapping[str, str] | None
    routing: Mapping[str, str] | None
    correlation_id: str
    host: str
    label: str


@dataclass(slots=True)
class OcpiAnswer:
    http_status: int
    status_code: int
    status_message: str | None
    data: Any
    headers: Mapping[str, str]
    url: str


def _toggle_slash(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
    return parts._replace(path=path).geturl()


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc) == (pb.scheme, pb.netloc)


class OcpiClient:
    """One per node (and one for the push worker, on its own wire): the connection pool
    is shared by all partners. ``wire`` carries the requests (``wire.py``); by default
    the httpx client ``http``."""

    def __init__(
        self, http: httpx.AsyncClient, deviations: DeviationLog, *, wire: Wire | None = None
    ) -> None:
        self.http = http
        self.deviations = deviations
        self.wire: Wire = wire if wire is not None else HttpxWire(http)
        # X-Request-ID and X-Correlation-ID: a random per-client prefix and a counter,
        # UUID-shaped, as the node's own answers (``transport.py``). Unique per request
        # as OCPI asks, and ~0.3 us instead of str(uuid.uuid4())'s ~7 us: two per
        # delivery were ~3% of the push worker's CPU.
        prefix = os.urandom(10).hex()
        self._id_prefix = f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-{prefix[16:20]}-"
        self._ids = itertools.count(1)
        # token -> its Base64 header form (a few partners' tokens, each sent per call).
        self._encoded: dict[str, str] = {}

    def new_id(self) -> str:
        """A fresh request or correlation ID."""
        return f"{self._id_prefix}{next(self._ids):012x}"

    def _authorization(self, token: str, raw: bool) -> str:
        if raw:
            return f"Token {token}"
        header = self._encoded.get(token)
        if header is None:
            if len(self._encoded) >= 1024:  # tokens rotate: never grow without bound
                self._encoded.clear()
            header = self._encoded[token] = f"Token {encode_token(token)}"
        return header

    async def request(
        self,
        method: str,
        url: str,
        token: str,
        *,
        partner: str = "",
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        routing: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
        encode: bool = True,
    ) -> OcpiAnswer:
        """Send one OCPI request and return the parsed envelope; raise PartnerError otherwise.

        ``partner`` names the partner in log lines (its party, once known). The body is
        ``json_body`` serialised, or ``content``, JSON already (the outbox keeps bodies
        rendered: no parse and dump again per delivery).
        """
        host = urlsplit(url).netloc
        dev = self.deviations
        url = dev.rewrites.get(url, url)
        use_raw = not encode or host in dev.raw_token_hosts
        call = _Call(
            method=method,
            token=token,
            content=content if json_body is None else json.dumps(json_body).encode("utf-8"),
            params=params,
            routing=routing,
            correlation_id=correlation_id or self.new_id(),
            host=host,
            label=partner,
        )
        try:
            resp = await self._send(call, url, use_raw)
            if resp.status_code in (401, 403) and not use_raw:
                retry = await self._send(call, url, True)
                if retry.status_code not in (401, 403):
                    dev.learn_raw_token(host)
                    dev.note(
                        host, "raw-token", "accepts only the raw (not Base64) token header", partner
                    )
                    resp = retry
            if resp.status_code == 404 and not _looks_ocpi(resp):
                alt_url = _toggle_slash(url)
                alt = await self._send(call, alt_url, use_raw)
                if alt.status_code != 404 or _looks_ocpi(alt):
                    dev.note(host, "trailing-slash", f"{url} only works as {alt_url}", partner)
                    dev.learn_rewrite(host, url, alt_url)
                    resp = alt
        except WireTimeout as exc:
            raise PartnerError(f"{method} {url}: timed out") from exc
        except WireError as exc:
            raise PartnerError(f"{method} {url}: {exc}") from exc
        finally:
            await dev.flush()
        return self._parse(method, resp, host, partner)

    async def _send(self, call: _Call, url: str, raw_token: bool) -> WireResponse:
        """One request, following same-origin redirects; permanent ones are remembered."""
        origin = url
        params = call.params
        authorization = self._authorization(call.token, raw_token)
        for _ in range(MAX_REDIRECTS + 1):
            headers = {
                "Authorization": authorization,
                "X-Request-ID": self.new_id(),
                "X-Correlation-ID": call.correlation_id,
                "Accept": "application/json",
            }
            if call.content is not None:
                headers["Content-Type"] = "application/json"
            if call.routing:
                headers.update(call.routing)
            if url is not origin and not _same_origin(origin, url):
                # Never hand our credentials to another host because a partner redirected us.
                raise PartnerError(f"{call.method} {origin}: redirected to another host ({url})")
            resp = await self.wire.send(call.method, url, headers, call.content, params)
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                target = urljoin(url, resp.headers["location"])
                self.deviations.note(
                    call.host,
                    "redirect",
                    f"{url} answers {resp.status_code} to {target}",
                    call.label,
                )
                if resp.status_code in (301, 308) and _same_origin(origin, target):
                    self.deviations.learn_rewrite(call.host, origin, target)
                url = target
                params = None if "?" in target else params
                continue
            return resp
        raise PartnerError(f"{call.method} {origin}: more than {MAX_REDIRECTS} redirects")

    def _parse(self, method: str, resp: WireResponse, host: str, label: str) -> OcpiAnswer:
        where = f"{method} {resp.url}"
        if "x-request-id" not in resp.headers:
            self.deviations.note(host, "no-request-id", "answers without X-Request-ID", label)
        if resp.status_code in (401, 403):
            if resp.status_code == 403 or not _looks_ocpi(resp):
                body = "an OCPI envelope" if _looks_ocpi(resp) else "a non-OCPI body"
                self.deviations.note(
                    host,
                    "auth-refusal",
                    f"refuses a token with HTTP {resp.status_code} and {body} (OCPI: 401)",
                    label,
                )
            detail = _ocpi_message(resp)
            raise PartnerAuthRejected(
                f"{where}: token refused (HTTP {resp.status_code}){detail}",
                http_status=resp.status_code,
            )
        try:
            body = resp.json()
        except ValueError:
            raise PartnerError(
                f"{where}: HTTP {resp.status_code} with a body that is not JSON",
                http_status=resp.status_code,
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("status_code"), int):
            raise PartnerError(
                f"{where}: HTTP {resp.status_code} without an OCPI envelope",
                http_status=resp.status_code,
            )
        status = body["status_code"]
        message = body.get("status_message")
        if resp.status_code >= 300 or not 1000 <= status < 2000:
            raise PartnerError(
                f"{where}: HTTP {resp.status_code}, OCPI {status}"
                + (f": {message}" if message else ""),
                http_status=resp.status_code,
                ocpi_status=status,
            )
        return OcpiAnswer(
            http_status=resp.status_code,
            status_code=status,
            status_message=message,
            data=body.get("data"),
            headers=resp.headers,
            url=resp.url,
        )

    async def get_pages(
        self,
        url: str,
        token: str,
        *,
        partner: str,
        params: Mapping[str, str] | None = None,
        routing: Mapping[str, str] | None = None,
        max_pages: int = 100_000,
    ) -> AsyncIterator[list[Any]]:
        """Yield each page of a paginated Sender list, following ``Link: rel="next"``."""
        next_url: str | None = url
        first = True
        pages = 0
        while next_url and pages < max_pages:
            answer = await self.request(
                "GET",
                next_url,
                token,
                partner=partner,
                params=params if first else None,
                routing=routing,
            )
            first = False
            pages += 1
            if not isinstance(answer.data, list):
                raise PartnerError(f"GET {next_url}: data is not a list")
            yield answer.data
            link = next_link(answer.headers.get("link"))
            next_url = urljoin(answer.url, link) if link else None
            if not answer.data:
                break


def _looks_ocpi(resp: WireResponse) -> bool:
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "status_code" in body


def _ocpi_message(resp: WireResponse) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and body.get("status_message"):
        return f": {body['status_message']}"
    return ""
