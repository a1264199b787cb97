"""The destination policy (SSRF guard): address classes, the default, and the connect-time check.

The connect-time tests use real sockets on 127.0.0.1 that count every accepted connection,
so "refused" means no TCP connection was opened, not merely that no answer was read. Host
names resolve through a stub resolver: no DNS is needed, and a test can make a name
"rebind" to another address between two calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import httpcore
import httpx
import pytest

from evroam.ocpi.common.client import DestinationRefused, OcpiClient, PartnerError
from evroam.ocpi.common.destination import (
    AddressClass,
    DestinationPolicy,
    GuardedTransport,
    classify,
    resolve_allow_private,
)
from evroam.ocpi.common.deviations import DeviationLog

DENY = DestinationPolicy(allow_private=False)
ALLOW = DestinationPolicy(allow_private=True)

# ---------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        # public
        ("93.184.216.34", AddressClass.PUBLIC),
        ("8.8.8.8", AddressClass.PUBLIC),
        ("2606:4700:4700::1111", AddressClass.PUBLIC),
        ("::ffff:8.8.8.8", AddressClass.PUBLIC),
        # cloud metadata, before link-local / private
        ("169.254.169.254", AddressClass.METADATA),
        ("169.254.170.2", AddressClass.METADATA),
        ("100.100.100.200", AddressClass.METADATA),
        ("192.0.0.192", AddressClass.METADATA),
        ("168.63.129.16", AddressClass.METADATA),
        ("fd00:ec2::254", AddressClass.METADATA),
        ("FD00:EC2:0::254", AddressClass.METADATA),
        ("fd20:ce::254", AddressClass.METADATA),
        # IPv4 hidden in IPv6 is judged as that IPv4
        ("::ffff:169.254.169.254", AddressClass.METADATA),
        ("::ffff:a9fe:a9fe", AddressClass.METADATA),
        ("::169.254.169.254", AddressClass.METADATA),
        ("::ffff:0:169.254.169.254", AddressClass.METADATA),
        ("64:ff9b::169.254.169.254", AddressClass.METADATA),
        ("2002:a9fe:a9fe::1", AddressClass.METADATA),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("::127.0.0.1", AddressClass.LOOPBACK),
        ("64:ff9b::7f00:1", AddressClass.LOOPBACK),
        ("2002:7f00:1::", AddressClass.LOOPBACK),
        ("::ffff:10.1.2.3", AddressClass.PRIVATE),
        ("::ffff:0.0.0.0", AddressClass.UNSPECIFIED),
        ("64:ff9b:1::8.8.8.8", AddressClass.PRIVATE),
        # link-local
        ("169.254.1.1", AddressClass.LINK_LOCAL),
        ("fe80::1", AddressClass.LINK_LOCAL),
        ("fe80::1%eth0", AddressClass.LINK_LOCAL),
        ("febf::1", AddressClass.LINK_LOCAL),
        # unspecified, multicast, broadcast, reserved
        ("0.0.0.0", AddressClass.UNSPECIFIED),
        ("0.1.2.3", AddressClass.UNSPECIFIED),
        ("::", AddressClass.UNSPECIFIED),
        ("224.0.0.1", AddressClass.MULTICAST),
        ("239.255.255.250", AddressClass.MULTICAST),
        ("ff02::1", AddressClass.MULTICAST),
        ("255.255.255.255", AddressClass.BROADCAST),
        ("240.0.0.1", AddressClass.RESERVED),
        ("192.0.2.10", AddressClass.RESERVED),
        ("2001:db8::1", AddressClass.RESERVED),
        ("100::1", AddressClass.RESERVED),
        # loopback and private
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("127.255.255.254", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("10.0.0.1", AddressClass.PRIVATE),
        ("172.16.0.1", AddressClass.PRIVATE),
        ("172.31.255.255", AddressClass.PRIVATE),
        ("192.168.1.1", AddressClass.PRIVATE),
        ("100.64.0.1", AddressClass.PRIVATE),
        ("100.127.255.254", AddressClass.PRIVATE),
        ("fc00::1", AddressClass.PRIVATE),
        ("fd12:3456::1", AddressClass.PRIVATE),
        # just outside the private ranges
        ("172.32.0.1", AddressClass.PUBLIC),
        ("100.128.0.1", AddressClass.PUBLIC),
        ("11.0.0.1", AddressClass.PUBLIC),
    ],
)
def test_classify(address: str, expected: AddressClass) -> None:
    assert classify(address) is expected


def test_classify_rejects_what_is_not_an_address() -> None:
    with pytest.raises(ValueError):
        classify("localhost")


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "fe80::1", "0.0.0.0", "::"]
    + ["224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1"],
)
def test_always_refused_even_when_private_destinations_are_allowed(address: str) -> None:
    assert ALLOW.refusal(address) is not None
    assert DENY.refusal(address) is not None


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.1", "192.168.0.5", "fd12::1"]
)
def test_loopback_and_private_only_when_allowed(address: str) -> None:
    assert ALLOW.refusal(address) is None
    assert DENY.refusal(address) in (AddressClass.LOOPBACK, AddressClass.PRIVATE)


def test_public_is_always_allowed() -> None:
    assert DENY.refusal("93.184.216.34") is None
    assert ALLOW.refusal("2606:4700:4700::1111") is None


@pytest.mark.parametrize(
    ("setting", "base_url", "allowed"),
    [
        (None, "http://127.0.0.1:8080", True),
        (None, "http://localhost:8080", True),
        (None, "http://[::1]:8080", True),
        (None, "http://10.1.2.3", True),
        (None, "https://192.168.0.10/evroam", True),
        (None, "https://node.example.com", False),
        (None, "https://203.0.113.7", False),  # documentation range: not private
        (None, "https://8.8.8.8", False),
        (None, "https://node.internal", False),  # names are not resolved: opt in explicitly
        (True, "https://node.example.com", True),
        (False, "http://127.0.0.1:8080", False),
    ],
)
def test_default_allows_private_only_for_a_private_node(
    setting: bool | None, base_url: str, allowed: bool
) -> None:
    assert resolve_allow_private(setting, base_url) is allowed
    assert DestinationPolicy.from_settings(setting, base_url).allow_private is allowed


# ---------------------------------------------------------------------- connect time


class RecordingServer:
    """A loopback HTTP/1.1 server counting every TCP connection it accepts.

    ``/moved`` answers 307 to ``/ocpi/versions`` and closes the connection, so the next hop
    needs a new connection (and with it a new resolution and check); ``/away`` answers 307
    to ``http://evil.test/``.
    """

    def __init__(self) -> None:
        self.accepts = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.sni: list[str | None] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> RecordingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ssl_context)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepts += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                first, *lines = head.split("\r\n")
                method, target, _ = first.split(" ")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines if line)
                }
                self.requests.append((method, target, headers))
                if target in ("/moved", "/away"):
                    location = b"/ocpi/versions" if target == "/moved" else b"http://evil.test/"
                    writer.write(
                        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location + b"\r\n"
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    await writer.drain()
                    return
                body = json.dumps(
                    {"status_code": 1000, "data": [], "timestamp": "2026-01-01T00:00:00Z"}
                ).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-ID: r\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[RecordingServer]:
    srv = await RecordingServer().start()
    yield srv
    await srv.stop()


class StubResolver:
    """Answers each name from a script; the last answer repeats. Counts lookups."""

    def __init__(self, **answers: Sequence[Sequence[str]]) -> None:
        self.answers = {name.replace("_", "."): list(seq) for name, seq in answers.items()}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        script = self.answers.get(host)
        if script is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(script.pop(0) if len(script) > 1 else script[0])


@pytest.fixture
def refusals() -> Iterator[list[logging.LogRecord]]:
    """WARNING records of ``evroam.ocpi.client`` (own handler: immune to propagate=False)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("evroam.ocpi.client")
    handler = Keep(logging.WARNING)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _client(policy: DestinationPolicy, resolver: StubResolver | None = None) -> httpx.AsyncClient:
    if resolver is None:
        return httpx.AsyncClient(transport=GuardedTransport(policy), timeout=5)
    return httpx.AsyncClient(transport=GuardedTransport(policy, resolver=resolver), timeout=5)


async def test_name_resolving_to_loopback_is_refused_before_connecting(
    server: RecordingServer, refusals: list[logging.LogRecord]
) -> None:
    resolver = StubResolver(partner_test=[["127.0.0.1"]])
    async with _client(DENY, resolver) as http:
        with pytest.raises(DestinationRefused) as info:
            await http.get(f"http://partner.test:{server.port}/ocpi/versions")
    assert str(info.value) == "destination partner.test (127.0.0.1) refused: loopback"
    assert (info.value.host, info.value.address, info.value.reason) == (
        "partner.test",
        "127.0.0.1",
        "loopback",
    )
    assert isinstance(info.value, PartnerError)
    assert server.accepts == 0
    [record] = refusals
    assert record.levelno == logging.WARNING
    assert "partner.test" in record.getMessage() and "127.0.0.1" in record.getMessage()
    assert "loopback" in record.getMessage()


async def test_same_name_connects_to_the_checked_address_when_allowed(
    server: RecordingServer, refusals: list[logging.LogRecord]
) -> None:
    resolver = StubResolver(partner_test=[["127.0.0.1"]])
    async with _client(ALLOW, resolver) as http:
        resp = await http.get(f"http://partner.test:{server.port}/ocpi/versions")
    assert resp.status_code == 200
    assert server.accepts == 1
    assert server.requests[0][2]["host"] == f"partner.test:{server.port}"
    assert refusals == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "127.1", "2130706433"])
async def test_ip_literals_in_any_spelling_are_refused(
    server: RecordingServer, refusals: list[logging.LogRecord], host: str
) -> None:
    async with _client(DENY) as http:  # the system resolver
        with pytest.raises(DestinationRefused, match="refused: loopback"):
            await http.get(f"http://{host}:{server.port}/ocpi/versions")
    assert server.accepts == 0
    assert len(refusals) == 1


async def test_metadata_address_is_refused_even_when_private_is_allowed(
    refusals: list[logging.LogRecord],
) -> None:
    async with _client(ALLOW) as http:
        with pytest.raises(DestinationRefused) as info:
            await http.get("http://169.254.169.254/latest/meta-data")
    assert str(info.value) == "destination 169.254.169.254 refused: cloud metadata"
    [record] = refusals
    assert "169.254.169.254" in record.getMessage()


async def test_a_name_with_one_bad_address_among_good_ones_is_refused(
    server: RecordingServer,
) -> None:
    resolver = StubResolver(partner_test=[["127.0.0.1", "169.254.169.254"]])
    async with _client(ALLOW, resolver) as http:
        with pytest.raises(DestinationRefused, match="cloud metadata"):
            await http.get(f"http://partner.test:{server.port}/")
    assert server.accepts == 0


async def test_unresolvable_name_is_a_connect_error_not_a_refusal() -> None:
    async with _client(ALLOW, StubResolver()) as http:
        with pytest.raises(httpx.ConnectError, match="cannot resolve nowhere.test"):
            await http.get("http://nowhere.test/")


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the network: records where it is asked to connect, answers 200."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []
        self.server_hostnames: list[str | None] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        backend = self

        class Stream(httpcore.AsyncMockStream):
            async def start_tls(
                self,
                ssl_context: ssl.SSLContext,
                server_hostname: str | None = None,
                timeout: float | None = None,
            ) -> httpcore.AsyncNetworkStream:
                backend.server_hostnames.append(server_hostname)
                return self

        return Stream([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", b"{}"])

    async def sleep(self, seconds: float) -> None:
        pass


async def test_connects_to_the_checked_ip_and_keeps_the_name_for_tls() -> None:
    """A rebinding name (public at the check, loopback a moment later) cannot get past: the
    socket goes to the checked IP literal, the name is resolved once, TLS gets the name."""
    resolver = StubResolver(partner_test=[["93.184.216.34"], ["127.0.0.1"]])
    backend = RecordingBackend()
    transport = GuardedTransport(DENY, resolver=resolver, backend=backend)
    async with httpx.AsyncClient(transport=transport) as http:
        resp = await http.get("https://partner.test/ocpi/versions")
    assert resp.status_code == 200
    assert backend.connects == [("93.184.216.34", 443)]
    assert resolver.lookups == ["partner.test"]
    assert backend.server_hostnames == ["partner.test"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not found: cannot make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1"]
        + ["-subj", "/CN=partner.test", "-addext", "subjectAltName=DNS:partner.test"],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_tls_verifies_the_certificate_for_the_name_not_the_address(
    tls_files: tuple[Path, Path],
) -> None:
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    srv = RecordingServer()

    def record_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        srv.sni.append(name)

    server_ctx.sni_callback = record_sni
    await srv.start(server_ctx)
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        resolver = StubResolver(partner_test=[["127.0.0.1"]])
        transport = GuardedTransport(ALLOW, verify=client_ctx, resolver=resolver)
        async with httpx.AsyncClient(transport=transport, timeout=5) as http:
            resp = await http.get(f"https://partner.test:{srv.port}/ocpi/versions")
        assert resp.status_code == 200
        assert srv.sni == ["partner.test"]
    finally:
        await srv.stop()


# ---------------------------------------------------------------------- through OcpiClient


async def test_redirect_hop_to_a_rebound_address_is_refused(
    server: RecordingServer, refusals: list[logging.LogRecord]
) -> None:
    """Same origin (so OcpiClient follows it), but the name now points at metadata: the
    second hop's new connection is checked and refused, nothing is sent to it."""
    resolver = StubResolver(partner_test=[["127.0.0.1"], ["169.254.169.254"]])
    async with _client(ALLOW, resolver) as http:
        client = OcpiClient(http, DeviationLog())
        with pytest.raises(DestinationRefused, match="169.254.169.254"):
            await client.request("GET", f"http://partner.test:{server.port}/moved", "tok")
    assert [t for _, t, _ in server.requests] == ["/moved"]
    assert server.accepts == 1
    assert len(refusals) == 1


async def test_redirect_followed_to_a_refused_address_is_refused_by_the_transport(
    server: RecordingServer, refusals: list[logging.LogRecord]
) -> None:
    """Even a client that follows a cross-host redirect cannot reach a refused address:
    the check is in the transport, under every client."""
    resolver = StubResolver(partner_test=[["127.0.0.1"]], evil_test=[["169.254.169.254"]])
    async with _client(ALLOW, resolver) as http:
        with pytest.raises(DestinationRefused, match=r"evil.test \(169.254.169.254\)"):
            await http.get(f"http://partner.test:{server.port}/away", follow_redirects=True)
    assert [t for _, t, _ in server.requests] == ["/away"]
    assert len(refusals) == 1


async def test_ocpi_client_call_to_a_loopback_partner_still_works_when_allowed(
    server: RecordingServer,
) -> None:
    async with _client(ALLOW) as http:
        answer = await OcpiClient(http, DeviationLog()).request(
            "GET", f"http://127.0.0.1:{server.port}/moved", "tok"
        )
    assert answer.status_code == 1000
    assert [t for _, t, _ in server.requests] == ["/moved", "/ocpi/versions"]
