"""``AioWire``: the push worker's wire, on ``aiohttp`` (why: ``wire.py``).

The destination policy holds here as in ``destination.GuardedTransport``: a host name
goes through ``GuardedResolver``, which resolves it and refuses the call when any
address it resolves to is forbidden (aiohttp then connects to exactly the addresses
checked); an IP literal never reaches a resolver in aiohttp, so ``send`` checks it
before the request (its verdict kept per host: the same literal always gets the same one).
Redirects are not followed (``OcpiClient`` follows same-origin
ones itself), proxies from the environment are ignored (a proxy would connect past
the check), and answers are read up to ``MAX_ANSWER_BYTES``.

The session is made on first use, inside the running loop, and closed by ``aclose``.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from evroam.ocpi.common.client import DestinationRefused
from evroam.ocpi.common.destination import (
    DestinationPolicy,
    Resolver,
    checked_addresses,
    system_resolver,
)
from evroam.ocpi.common.wire import MAX_ANSWER_BYTES, WireError, WireResponse, WireTimeout

#: The most hosts whose literal-address verdict ``AioWire`` keeps (then it starts over):
#: a node calls a few hundred partner origins; a partner giving ever new literals
#: (response URLs) cannot grow the map without bound.
LITERAL_VERDICTS = 1024


class GuardedResolver(AbstractResolver):
    """Resolves with ``resolver`` and lets through only names whose every address the
    policy allows (a name answering a public and a metadata address is an attack)."""

    def __init__(self, policy: DestinationPolicy, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self.resolver = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            resolved = await self.resolver(host, port)
        except OSError as exc:
            raise OSError(f"cannot resolve {host}: {exc}") from exc
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in checked_addresses(self.policy, host, port, resolved)
        ]

    async def close(self) -> None:
        return None


class AioWire:
    """One aiohttp session for all partners: up to ``per_host`` connections to each
    origin, kept alive between deliveries."""

    def __init__(
        self,
        policy: DestinationPolicy,
        *,
        connect_timeout: float,
        read_timeout: float,
        per_host: int,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.policy = policy
        self.timeouts = (connect_timeout, read_timeout)
        self._per_host = per_host
        self._ssl = ssl_context if ssl_context is not None else ssl.create_default_context()
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_read=read_timeout
        )
        # Host of a URL -> None (a name, or an allowed literal) or why the literal is
        # refused: parsing and classifying the same literal on every delivery was ~6 us
        # (ipaddress), ~1% of a delivery's CPU. The verdict is a function of the text
        # and the policy alone (no DNS is involved), so it can be kept.
        self._literals: dict[str, tuple[str, str] | None] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0,
                limit_per_host=self._per_host,
                resolver=GuardedResolver(self.policy, self._resolver),
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                trust_env=False,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    def _check_literal(self, target: URL) -> None:
        """Refuse an IP literal the policy forbids. The host is the one aiohttp connects
        to (``target.raw_host``, the URL object the request is made with), so no second
        parser can read another host out of the same text."""
        host = target.raw_host or ""
        try:
            verdict = self._literals[host]
        except KeyError:
            verdict = self._judge(host)
        if verdict is not None:
            raise DestinationRefused(host, *verdict)

    def _judge(self, host: str) -> tuple[str, str] | None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            verdict = None  # a name: the resolver checks it
        else:
            reason = self.policy.refusal(address)
            verdict = None if reason is None else (str(address), reason.value)
        if len(self._literals) >= LITERAL_VERDICTS:
            self._literals.clear()
        self._literals[host] = verdict
        return verdict

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, str] | None,
    ) -> WireResponse:
        target = URL(url, encoded=True)
        self._check_literal(target)
        session = self._open()
        try:
            async with session.request(
                method,
                target,
                data=content,
                params=params,
                headers=headers,
                allow_redirects=False,
            ) as resp:
                body = await _read(resp)
                return WireResponse(resp.status, resp.headers, body, str(resp.url))
        except DestinationRefused:
            raise
        except TimeoutError as exc:
            raise WireTimeout("timed out") from exc
        except aiohttp.ClientError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, DestinationRefused):
                raise cause from None
            raise WireError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _read(resp: aiohttp.ClientResponse) -> bytes:
    if resp.content_length is not None:
        if resp.content_length > MAX_ANSWER_BYTES:
            raise WireError(f"answer of {resp.content_length} bytes is too large")
        # The parser stops at Content-Length: one read instead of an async iteration
        # (a push's answer is an envelope of a few hundred bytes).
        return await resp.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise WireError("answer too large")
        chunks.append(chunk)
    return b"".join(chunks)
