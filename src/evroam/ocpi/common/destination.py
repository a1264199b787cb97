"""Where the node may connect when it calls a partner: the destination policy (SSRF guard).

A partner chooses the URLs the node fetches (credentials ``url``, endpoints, redirects), so
without a check a holder of a token A could make the node GET cloud metadata or its own
operator API (DESIGN.md, "Partners are untrusted"). The check runs at connect time, inside
the HTTP transport, on the very addresses the host name resolved to: checking the URL
beforehand would let DNS rebinding (one answer at check time, another at connect time)
through. The socket is then opened to a checked IP literal, never to the name again; TLS
still verifies the certificate against, and sends SNI for, the host name (httpcore takes
both from the request's origin, not from the address connected to).

Classes of address:

- always refused: cloud metadata, link-local, unspecified (``0.0.0.0/8``, ``::``),
  multicast, broadcast and reserved ranges;
- refused unless private destinations are allowed: loopback and private ranges
  (RFC 1918, CGNAT ``100.64.0.0/10``, benchmarking ``198.18.0.0/15``, ``fc00::/7``);
- public: everything else.

IPv6 forms that carry an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4) are judged by
that IPv4 address, so ``::ffff:169.254.169.254`` is metadata like ``169.254.169.254``.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from evroam.ocpi.common.client import DestinationRefused

# The logger of all outbound partner traffic: an operator filters one name to see it.
log = logging.getLogger("evroam.ocpi.client")

IPAddress = IPv4Address | IPv6Address
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves ``(host, port)`` to IP address strings; injectable so tests need no DNS."""


class AddressClass(StrEnum):
    """What an address is, worded for the operator reading a refusal."""

    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    METADATA = "cloud metadata"
    LINK_LOCAL = "link-local"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    RESERVED = "reserved"


#: Refused whatever the configuration: nothing a partner may legitimately live on.
ALWAYS_REFUSED = frozenset(
    {
        AddressClass.METADATA,
        AddressClass.LINK_LOCAL,
        AddressClass.UNSPECIFIED,
        AddressClass.MULTICAST,
        AddressClass.BROADCAST,
        AddressClass.RESERVED,
    }
)
#: Refused unless ``allow_private_destinations``: a local partner in development or tests.
PRIVATE_CLASSES = frozenset({AddressClass.LOOPBACK, AddressClass.PRIVATE})

# Instance metadata and platform services of the big clouds. Most are link-local anyway,
# but some are not (Alibaba, Oracle, Azure's wireserver, the AWS/GCP IPv6 ones in fc00::/7,
# which a private-allowing node would otherwise reach).
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Hetzner, ...
        "169.254.169.253",  # AWS DNS
        "169.254.169.123",  # AWS time sync
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure wireserver
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::253",  # AWS DNS over IPv6
        "fd00:ec2::123",  # AWS time sync over IPv6
        "fd20:ce::254",  # GCP metadata over IPv6
    )
)

_V4_RANGES: tuple[tuple[IPv4Network, AddressClass], ...] = tuple(
    (IPv4Network(net), cls)
    for net, cls in (
        ("255.255.255.255/32", AddressClass.BROADCAST),
        ("0.0.0.0/8", AddressClass.UNSPECIFIED),  # "this network"; Linux connects to 0/8 locally
        ("127.0.0.0/8", AddressClass.LOOPBACK),
        ("169.254.0.0/16", AddressClass.LINK_LOCAL),
        ("224.0.0.0/4", AddressClass.MULTICAST),
        ("240.0.0.0/4", AddressClass.RESERVED),
        ("10.0.0.0/8", AddressClass.PRIVATE),
        ("172.16.0.0/12", AddressClass.PRIVATE),
        ("192.168.0.0/16", AddressClass.PRIVATE),
        ("100.64.0.0/10", AddressClass.PRIVATE),  # CGNAT, also used inside clouds
        ("198.18.0.0/15", AddressClass.PRIVATE),  # benchmarking, used on internal networks
        ("192.0.0.0/24", AddressClass.RESERVED),  # IETF protocol assignments
        ("192.0.2.0/24", AddressClass.RESERVED),  # documentation
        ("198.51.100.0/24", AddressClass.RESERVED),
        ("203.0.113.0/24", AddressClass.RESERVED),
        ("192.88.99.0/24", AddressClass.RESERVED),  # deprecated 6to4 relay anycast
    )
)

_V6_RANGES: tuple[tuple[IPv6Network, AddressClass], ...] = tuple(
    (IPv6Network(net), cls)
    for net, cls in (
        ("::/128", AddressClass.UNSPECIFIED),
        ("::1/128", AddressClass.LOOPBACK),
        ("fe80::/10", AddressClass.LINK_LOCAL),
        ("ff00::/8", AddressClass.MULTICAST),
        ("fc00::/7", AddressClass.PRIVATE),  # unique local
        ("fec0::/10", AddressClass.PRIVATE),  # deprecated site-local
        ("100::/64", AddressClass.RESERVED),  # discard-only
        ("2001:db8::/32", AddressClass.RESERVED),  # documentation
    )
)

# IPv6 prefixes whose last 32 bits are an IPv4 address the packet ends up at.
_V4_CARRIERS = tuple(
    IPv6Network(net)
    for net in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated; :: and ::1 matched before)
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b::/96",  # NAT64, well-known prefix
    )
)
_LOCAL_NAT64 = IPv6Network("64:ff9b:1::/48")  # NAT64 of a local network (RFC 8215)


def classify(address: str | IPAddress) -> AddressClass:
    """The class of one IP address (a string may carry an IPv6 ``%scope``)."""
    ip = ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, IPv6Address):
        if ip.scope_id is not None:
            ip = IPv6Address(str(ip).split("%", 1)[0])
        inner = _embedded_v4(ip)
        if inner is not None:
            return classify(inner)
        if ip in _LOCAL_NAT64:
            cls = classify(IPv4Address(int(ip) & 0xFFFFFFFF))
            return AddressClass.PRIVATE if cls is AddressClass.PUBLIC else cls
        if ip.sixtofour is not None:
            cls = classify(ip.sixtofour)
            if cls is not AddressClass.PUBLIC:
                return cls
    if ip in METADATA_ADDRESSES:
        return AddressClass.METADATA
    ranges: Iterable[tuple[IPv4Network | IPv6Network, AddressClass]] = (
        _V4_RANGES if isinstance(ip, IPv4Address) else _V6_RANGES
    )
    for net, cls in ranges:
        if ip in net:
            return cls
    # Whatever else IANA marks as not globally reachable (e.g. 2001::/23 with Teredo).
    if ip.is_multicast:
        return AddressClass.MULTICAST
    if ip.is_link_local:
        return AddressClass.LINK_LOCAL
    if not ip.is_global:
        return AddressClass.RESERVED
    return AddressClass.PUBLIC


def _embedded_v4(ip: IPv6Address) -> IPv4Address | None:
    if int(ip) <= 1:  # :: and ::1 are themselves, not IPv4-compatible 0.0.0.0 / 0.0.0.1
        return None
    for net in _V4_CARRIERS:
        if ip in net:
            return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def resolve_allow_private(setting: bool | None, base_url: str) -> bool:
    """``Settings.allow_private_destinations`` with its default resolved.

    Unset, private destinations are allowed exactly when the node's own public URL is on
    loopback or a private address: such a node is in development, a test, or a closed
    network, where its partners are too. A public node (or one named by a DNS name, which
    is not resolved here) must opt in explicitly.
    """
    if setting is not None:
        return setting
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return classify(host) in PRIVATE_CLASSES
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """Which addresses the node may connect to when calling a partner."""

    allow_private: bool

    @classmethod
    def from_settings(cls, setting: bool | None, base_url: str) -> DestinationPolicy:
        return cls(allow_private=resolve_allow_private(setting, base_url))

    def refusal(self, address: str | IPAddress) -> AddressClass | None:
        """Why ``address`` is refused, or None when the node may connect to it."""
        cls = classify(address)
        if cls in ALWAYS_REFUSED or (cls in PRIVATE_CLASSES and not self.allow_private):
            return cls
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``, in its order of preference."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def checked_addresses(
    policy: DestinationPolicy, host: str, port: int, resolved: Sequence[str]
) -> list[str]:
    """The distinct addresses ``host`` resolved to, all allowed by ``policy``: else log
    and raise ``DestinationRefused`` (one forbidden address refuses the name); OSError
    when there is none or one is not an address. Both wires check through this."""
    addresses = list(dict.fromkeys(resolved))
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    for address in addresses:
        try:
            reason = policy.refusal(address)
        except ValueError:
            raise OSError(f"{host} resolved to {address!r}") from None
        if reason is not None:
            refused = DestinationRefused(host, address, reason.value)
            log.warning("outbound connection to %s port %d: %s", host, port, refused)
            raise refused
    return addresses


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks every address, then connects.

    All addresses a name resolves to must pass: a name answering both a public and a
    metadata address is an attack, not a partner. The inner backend is handed an IP
    literal, so nothing re-resolves the name between the check and the connect.
    """

    def __init__(
        self,
        policy: DestinationPolicy,
        *,
        resolver: Resolver = system_resolver,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.backend = backend if backend is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        deadline = None if timeout is None else anyio.current_time() + timeout
        try:
            with anyio.fail_after(timeout):
                resolved = await self.resolver(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = self.check(host, port, resolved)
        error: httpcore.ConnectError | None = None
        for address in addresses:
            left = None if deadline is None else max(deadline - anyio.current_time(), 0.0)
            try:
                return await self.backend.connect_tcp(
                    address,
                    port,
                    timeout=left,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None  # check() never returns an empty list
        raise error

    def check(self, host: str, port: int, resolved: Sequence[str]) -> list[str]:
        """The distinct addresses to try, all allowed; else log and raise DestinationRefused."""
        try:
            return checked_addresses(self.policy, host, port, resolved)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from None

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: a partner is reached over TCP, and this transport is built without ``uds``."""
        raise httpcore.ConnectError("unix sockets are not partner destinations")

    async def sleep(self, seconds: float) -> None:
        await self.backend.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections all go through the destination policy.

    httpx 0.27/0.28 have no ``network_backend`` argument, so the connection pool the
    parent built is replaced by an equal one on a ``GuardedNetworkBackend``; everything
    else (request conversion, exception mapping, streaming) stays httpx's own. If a future
    httpx no longer keeps its pool in ``_pool``, construction fails rather than leaving the
    node unguarded. No proxy: an HTTP proxy would connect on our behalf, past the check
    (``httpx.AsyncClient`` ignores proxy environment variables once a transport is given).
    """

    def __init__(
        self,
        policy: DestinationPolicy,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
        resolver: Resolver = system_resolver,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        # One SSL context for both pools: loading the CA bundle costs ~30 ms.
        ssl_context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify)
        )
        super().__init__(verify=ssl_context, limits=limits)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("this httpx version keeps no _pool: cannot guard destinations")
        self.network_backend = GuardedNetworkBackend(policy, resolver=resolver, backend=backend)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=self.network_backend,
        )
