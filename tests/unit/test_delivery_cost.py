"""What the push delivery path keeps instead of recomputing per call, and that keeping it
changes nothing a partner or the destination policy sees: a refused IP literal stays
refused however often and after the kept verdicts start over, request IDs stay unique
and UUID-shaped, the token header is the same Base64 form, path parts are quoted as
``quote(part, safe="")`` quotes them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from evroam.core.credentials_tokens import encode_token
from evroam.ocpi.common import aiowire
from evroam.ocpi.common.aiowire import AioWire
from evroam.ocpi.common.client import DestinationRefused, OcpiClient
from evroam.ocpi.common.deviations import DeviationLog
from evroam.push.worker import _url
from tests.unit.test_destination import ALLOW, DENY, RecordingServer, StubResolver

UUID_SHAPED = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
async def server() -> AsyncIterator[RecordingServer]:
    srv = await RecordingServer().start()
    yield srv
    await srv.stop()


def wire(**kw: object) -> AioWire:
    return AioWire(kw.pop("policy", DENY), connect_timeout=5.0, read_timeout=5.0, per_host=4, **kw)  # type: ignore[arg-type]


async def test_a_refused_literal_is_refused_on_every_call_and_after_the_verdicts_start_over(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aiowire, "LITERAL_VERDICTS", 2)
    w = wire()
    try:
        for host in ["127.0.0.1", "[::1]", "10.1.2.3", "127.0.0.1", "[::ffff:127.0.0.1]"] * 3:
            with pytest.raises(DestinationRefused):
                await w.send("GET", f"http://{host}:{server.port}/", {}, None, None)
        assert len(w._literals) <= 2
    finally:
        await w.aclose()
    assert server.accepts == 0


async def test_an_allowed_literal_does_not_open_the_way_for_a_forbidden_one(
    server: RecordingServer,
) -> None:
    w = wire(policy=ALLOW)
    try:
        for _ in range(3):
            ok = await w.send("GET", f"http://127.0.0.1:{server.port}/", {}, None, None)
            assert ok.status_code == 200
            with pytest.raises(DestinationRefused, match="cloud metadata"):
                await w.send("GET", "http://169.254.169.254/", {}, None, None)
            with pytest.raises(DestinationRefused, match="cloud metadata"):
                await w.send("GET", "http://[::ffff:169.254.169.254]/", {}, None, None)
    finally:
        await w.aclose()


async def test_a_name_is_still_checked_by_the_resolver_not_by_a_kept_verdict(
    server: RecordingServer,
) -> None:
    resolver = StubResolver(partner_test=[["127.0.0.1"]])
    w = wire(resolver=resolver)
    try:
        for _ in range(2):
            with pytest.raises(DestinationRefused, match="loopback"):
                await w.send("GET", f"http://partner.test:{server.port}/", {}, None, None)
    finally:
        await w.aclose()
    assert resolver.lookups == ["partner.test", "partner.test"]
    assert server.accepts == 0


async def test_request_ids_are_unique_uuid_shaped_and_the_correlation_id_is_per_call(
    server: RecordingServer,
) -> None:
    w = wire(policy=ALLOW)
    try:
        one = OcpiClient(None, DeviationLog(), wire=w)  # type: ignore[arg-type]
        two = OcpiClient(None, DeviationLog(), wire=w)  # type: ignore[arg-type]
        url = f"http://127.0.0.1:{server.port}/x"
        for client in (one, two, one, two):
            await client.request("PUT", url, "tok", content=b"{}")
        await one.request("GET", url, "tok", correlation_id="corr-given")
    finally:
        await w.aclose()
    headers = [h for _, _, h in server.requests]
    request_ids = [h["x-request-id"] for h in headers]
    correlation_ids = [h["x-correlation-id"] for h in headers[:4]]
    assert len(set(request_ids)) == len(request_ids) == 5
    assert len(set(correlation_ids)) == 4
    assert all(UUID_SHAPED.match(i) for i in request_ids + correlation_ids)
    assert headers[4]["x-correlation-id"] == "corr-given"


async def test_the_token_header_is_base64_or_raw_as_asked(server: RecordingServer) -> None:
    w = wire(policy=ALLOW)
    try:
        client = OcpiClient(None, DeviationLog(), wire=w)  # type: ignore[arg-type]
        url = f"http://127.0.0.1:{server.port}/x"
        for token in ("tok-1", "tok-2", "tok-1"):
            await client.request("GET", url, token)
        await client.request("GET", url, "tok-1", encode=False)
    finally:
        await w.aclose()
    assert [h["authorization"] for _, _, h in server.requests] == [
        f"Token {encode_token('tok-1')}",
        f"Token {encode_token('tok-2')}",
        f"Token {encode_token('tok-1')}",
        "Token tok-1",
    ]


@pytest.mark.parametrize(
    "part", ["LOC1", "a/b", "E 1", "", "ä€", "x%41", "a.b_c~d-e", "?#&=+", "\u0000", "Ab9"]
)
def test_path_parts_are_quoted_as_quote_quotes_them(part: str) -> None:
    assert _url("http://p/locations/", ["NL", part]) == (
        f"http://p/locations/NL/{quote(part, safe='')}"
    )
