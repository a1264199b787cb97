"""``OcpiPartnerApi.pull`` (the port ``evroam sync`` reads a Sender list through) against
a scripted Sender on ``httpx.MockTransport``: Link to the end, each item validated on its
own, the routing headers and ``date_from``, and the Links it refuses to follow (another
host: our token would go there; a loop: it would never end)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from evroam.core.errors import MissingEndpoints, PartnerUnreachable
from evroam.core.ports import PulledPage
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    ModuleId,
    Partner,
    Party,
    Role,
)
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.partner_api import OcpiPartnerApi
from tests.integration.test_locations import location

BASE = "https://cpo.example.com/ocpi/2.2.1/sender"
Handler = Callable[[httpx.Request], httpx.Response]


def partner() -> Partner:
    return Partner(
        id=7,
        status=ConnectionStatus.CONNECTED,
        version="2.2.1",
        endpoints=[
            Endpoint("locations", InterfaceRole.SENDER, f"{BASE}/locations"),
            Endpoint("sessions", InterfaceRole.SENDER, f"{BASE}/sessions"),
        ],
        roles=[Party("NL", "CPO", Role.CPO, BusinessDetails("cpo"))],
        token_out="their-token",
        registered_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def answer(data: Any, link: str | None = None, total: int | None = None) -> httpx.Response:
    headers = {"X-Request-ID": "r"}
    if link:
        headers["Link"] = f'<{link}>; rel="next"'
    if total is not None:
        headers["X-Total-Count"] = str(total)
    body = {"data": data, "status_code": 1000, "timestamp": "2026-11-25T00:00:00Z"}
    return httpx.Response(200, content=json.dumps(body), headers=headers)


async def pull_all(
    handler: Handler, module: ModuleId = ModuleId.LOCATIONS, since: datetime | None = None
) -> tuple[list[PulledPage], BaseException | None]:
    pages: list[PulledPage] = []
    error: BaseException | None = None
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        api = OcpiPartnerApi(OcpiClient(http, DeviationLog()), "NL-CPO")
        try:
            async for page in api.pull(partner(), module, ("DE", "MSP"), since):
                pages.append(page)
        except PartnerUnreachable as exc:
            error = exc
    return pages, error


def nl(lid: str) -> dict[str, Any]:
    return location(lid)


async def test_pull_follows_link_and_reports_each_invalid_item_by_position() -> None:
    seen: list[httpx.Request] = []
    bad = nl("BAD")
    del bad["address"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "offset" not in request.url.params:
            return answer([nl("A"), bad], f"{BASE}/locations?offset=2", total=4)
        return answer(["not an object", nl("B")], total=4)

    since = datetime(2026, 11, 10, tzinfo=UTC)
    pages, error = await pull_all(handler, since=since)

    assert error is None
    assert [[o.key.id for o in p.objects] for p in pages] == [["A"], ["B"]]
    assert pages[0].invalid == [
        "item 1 (id 'BAD'): invalid field address: required field is missing"
    ]
    assert [r.split(":")[0] for r in pages[1].invalid] == ["item 2"]
    assert [p.total for p in pages] == [4, 4]
    assert pages[0].objects[0].document == nl("A") | {"last_updated": "2026-11-20T10:00:00Z"}
    first, second = seen
    assert parse_qs(urlsplit(str(first.url)).query) == {"date_from": ["2026-11-10T00:00:00Z"]}
    assert "date_from" not in second.url.params, "the Link repeats the filters, not us"
    for request in seen:
        assert request.headers["ocpi-from-country-code"] == "DE"
        assert request.headers["ocpi-from-party-id"] == "MSP"
        assert request.headers["ocpi-to-country-code"] == "NL"
        assert request.headers["ocpi-to-party-id"] == "CPO"


async def test_a_link_to_another_host_is_not_followed() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return answer([nl("A")], "https://evil.example.net/steal?offset=1")

    pages, error = await pull_all(handler)
    assert len(pages) == 1 and hosts == ["cpo.example.com"], "our token stays home"
    assert error is not None and "another host" in str(error)


async def test_a_link_that_loops_ends_the_pull() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return answer([nl("A")], f"{BASE}/locations?offset=1")

    pages, error = await pull_all(handler)
    assert len(pages) == 2
    assert error is not None and "do not come to an end" in str(error)


async def test_a_sessions_pull_always_sends_date_from() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        queries.append(request.url.query.decode())
        return answer([])

    pages, error = await pull_all(handler, ModuleId.SESSIONS)
    assert error is None and len(pages) == 1 and pages[0].objects == []
    assert queries == ["date_from=1970-01-01T00%3A00%3A00Z"], "required by mod_sessions"


async def test_an_error_answer_or_a_module_without_sender_is_clear() -> None:
    def refusing(request: httpx.Request) -> httpx.Response:
        body = {"status_code": 3000, "status_message": "maintenance", "timestamp": "x"}
        return httpx.Response(500, content=json.dumps(body))

    pages, error = await pull_all(refusing)
    assert pages == [] and error is not None and "maintenance" in str(error)
    with pytest.raises(MissingEndpoints, match="offers no tariffs Sender"):
        await pull_all(refusing, ModuleId.TARIFFS)
