"""The push worker's aiohttp wire (``ocpi/common/aiowire.py``) keeps the destination
policy of the node's httpx transport: the same refusals, checked before any connection,
against the same loopback server that counts connections (``test_destination.py``);
and it reports what a partner did to a call as a wire error or timeout, never follows a
redirect itself, and stops reading an answer that is too large."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from evroam.ocpi.common import wire as wire_module
from evroam.ocpi.common.aiowire import AioWire
from evroam.ocpi.common.client import DestinationRefused, OcpiClient, PartnerError
from evroam.ocpi.common.destination import DestinationPolicy
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.common.wire import WireError, WireTimeout
from tests.unit.test_destination import ALLOW, DENY, RecordingServer, StubResolver


@pytest.fixture
async def server() -> AsyncIterator[RecordingServer]:
    srv = await RecordingServer().start()
    yield srv
    await srv.stop()


@pytest.fixture
def refusals() -> Iterator[list[logging.LogRecord]]:
    """WARNING records of the destination check (``evroam.ocpi.client``)."""
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


@contextlib.asynccontextmanager
async def aio(
    policy: DestinationPolicy, resolver: StubResolver | None = None, read: float = 5.0
) -> AsyncIterator[AioWire]:
    kwargs = {} if resolver is None else {"resolver": resolver}
    w = AioWire(policy, connect_timeout=5.0, read_timeout=read, per_host=4, **kwargs)
    try:
        yield w
    finally:
        await w.aclose()


async def get(w: AioWire, url: str) -> wire_module.WireResponse:
    return await w.send("GET", url, {"Accept": "application/json"}, None, None)


async def test_name_resolving_to_loopback_is_refused_before_connecting(
    server: RecordingServer, refusals: list[logging.LogRecord]
) -> None:
    resolver = StubResolver(partner_test=[["127.0.0.1"]])
    async with aio(DENY, resolver) as w:
        with pytest.raises(DestinationRefused) as info:
            await get(w, f"http://partner.test:{server.port}/ocpi/versions")
    assert str(info.value) == "destination partner.test (127.0.0.1) refused: loopback"
    assert server.accepts == 0
    [record] = refusals
    assert "partner.test" in record.getMessage() and "loopback" in record.getMessage()


async def test_same_name_connects_to_the_checked_address_when_allowed(
    server: RecordingServer,
) -> None:
    resolver = StubResolver(partner_test=[["127.0.0.1"]])
    async with aio(ALLOW, resolver) as w:
        resp = await get(w, f"http://partner.test:{server.port}/ocpi/versions")
        again = await get(w, f"http://partner.test:{server.port}/ocpi/versions")
    assert resp.status_code == again.status_code == 200
    assert resp.json()["status_code"] == 1000
    assert server.accepts == 1  # kept alive between calls
    assert server.requests[0][2]["host"] == f"partner.test:{server.port}"


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "127.1", "2130706433"])
async def test_ip_literals_in_any_spelling_never_connect(
    server: RecordingServer, host: str
) -> None:
    async with aio(DENY) as w:
        with pytest.raises((DestinationRefused, WireError)):
            await get(w, f"http://{host}:{server.port}/ocpi/versions")
    assert server.accepts == 0


async def test_metadata_address_is_refused_even_when_private_is_allowed() -> None:
    async with aio(ALLOW) as w:
        with pytest.raises(DestinationRefused, match="cloud metadata"):
            await get(w, "http://169.254.169.254/latest/meta-data")


async def test_a_name_with_one_bad_address_among_good_ones_is_refused(
    server: RecordingServer,
) -> None:
    resolver = StubResolver(partner_test=[["127.0.0.1", "169.254.169.254"]])
    async with aio(ALLOW, resolver) as w:
        with pytest.raises(DestinationRefused, match="cloud metadata"):
            await get(w, f"http://partner.test:{server.port}/")
    assert server.accepts == 0


async def test_a_redirect_is_handed_back_not_followed(server: RecordingServer) -> None:
    async with aio(ALLOW) as w:
        resp = await get(w, f"http://127.0.0.1:{server.port}/away")
    assert resp.status_code == 307
    assert resp.headers["location"] == "http://evil.test/"
    assert [r[1] for r in server.requests] == ["/away"]


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[int]:
    """A loopback server running ``handler`` per connection; every connection is closed
    when the block ends (a handler may still be waiting)."""
    writers: list[asyncio.StreamWriter] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await handler(reader, writer)

    srv = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield int(srv.sockets[0].getsockname()[1])
    finally:
        srv.close()
        for writer in writers:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        await srv.wait_closed()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    await asyncio.sleep(10)


async def _huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
    for _ in range(64):
        writer.write(b" " * 65536)
        await writer.drain()


async def test_no_answer_in_time_is_a_wire_timeout() -> None:
    async with raw_server(_silent) as port, aio(ALLOW, read=0.3) as w:
        with pytest.raises(WireTimeout):
            await get(w, f"http://127.0.0.1:{port}/")


async def test_an_answer_past_the_limit_is_a_wire_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("evroam.ocpi.common.aiowire.MAX_ANSWER_BYTES", 1024 * 1024)
    async with raw_server(_huge) as port, aio(ALLOW) as w:
        with pytest.raises(WireError, match="too large"):
            await get(w, f"http://127.0.0.1:{port}/")


async def test_ocpi_client_on_the_aio_wire_parses_the_envelope(server: RecordingServer) -> None:
    """The client logic is the same on either wire: a 1000 envelope is an answer, a
    refused destination is a PartnerError the push worker turns into a dead letter."""
    async with aio(ALLOW) as w:
        client = OcpiClient(None, DeviationLog(), wire=w)  # type: ignore[arg-type]
        answer = await client.request(
            "PUT", f"http://127.0.0.1:{server.port}/x", "tok", content=b'{"a": 1}'
        )
        assert answer.status_code == 1000
        with pytest.raises(PartnerError):
            await client.request("GET", "http://169.254.169.254/", "tok")
    method, _, headers = server.requests[0]
    assert method == "PUT" and headers["content-type"] == "application/json"
