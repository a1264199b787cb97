"""The call machinery's rules on a driven clock: HTTP 429 backoff (bounded, jittered,
Retry-After honoured), pushes of one operation never overlapping, and paging to the
last page."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from evroam.oicp.v2_3.models.common import ActionType
from evroam.oicp.v2_3.partner.client import RateLimited, RetryPolicy
from evroam.oicp.v2_3.partner.cpo import CpoClient
from evroam.oicp.v2_3.partner.emp import EmpClient
from tests.unit.oicp_partner.stub import Sleeps, StubHub

URL = "https://hub.example"
OP = "DE*EVR"
EMP = "DE-8EO"
EVSE = "DE*EVR*E1"
FROM, TO = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"
TOO_MANY = {"message": "Too Many Requests"}


def cpo(stub: StubHub, sleeps: Sleeps, **kw: Any) -> CpoClient:
    return CpoClient(URL, OP, transport=stub.transport(), sleep=sleeps, **kw)


async def test_429_is_retried_with_exponential_backoff_and_jitter() -> None:
    stub, sleeps = StubHub(), Sleeps()
    for _ in range(3):
        stub.answer(TOO_MANY, status=429)
    draws = iter([0.0, 1.0, 0.5])
    policy = RetryPolicy(attempts=5, base=1.0, cap=60.0)
    async with cpo(stub, sleeps, retries=policy, draw=lambda: next(draws)) as client:
        ack = await client.push_evse_status({EVSE: "Available"})
    assert ack.Result is True
    assert len(stub.seen) == 4
    # ceilings 1, 2, 4; half fixed, half drawn
    assert sleeps.delays == [0.5, 2.0, 3.0]


async def test_429_gives_up_after_the_bounded_number_of_retries() -> None:
    stub, sleeps = StubHub(), Sleeps()
    for _ in range(10):
        stub.answer(TOO_MANY, status=429)
    async with cpo(stub, sleeps, retries=RetryPolicy(attempts=3), draw=lambda: 1.0) as client:
        with pytest.raises(RateLimited) as caught:
            await client.push_evse_status({EVSE: "Available"})
    assert caught.value.http_status == 429
    assert len(stub.seen) == 4 and len(sleeps.delays) == 3


async def test_backoff_is_capped_and_retry_after_is_honoured() -> None:
    stub, sleeps = StubHub(), Sleeps()
    stub.answer(TOO_MANY, status=429, **{"Retry-After": "7"})
    stub.answer(TOO_MANY, status=429, **{"Retry-After": "3600"})
    for _ in range(2):
        stub.answer(TOO_MANY, status=429)
    policy = RetryPolicy(attempts=5, base=10.0, cap=15.0)
    async with cpo(stub, sleeps, retries=policy, draw=lambda: 1.0) as client:
        await client.push_evse_status({EVSE: "Available"})
    assert sleeps.delays == [7.0, 15.0, 15.0, 15.0]


async def test_pushes_of_one_operation_never_overlap() -> None:
    stub, sleeps = StubHub(delay=0.05), Sleeps()
    async with cpo(stub, sleeps) as client:
        await asyncio.gather(
            client.push_evse_status({EVSE: "Available"}, ActionType.FULL_LOAD),
            client.push_evse_status({EVSE: "Occupied"}),
            client.push_evse_status({EVSE: "Reserved"}),
        )
    spans = sorted((s.started, s.ended) for s in stub.seen)
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end, spans
    # ... and in the order they were made
    sent = [s.body["OperatorEvseStatus"]["EvseStatusRecord"][0]["EvseStatus"] for s in stub.seen]
    assert sent == [
        "Available",
        "Occupied",
        "Reserved",
    ]


async def test_calls_that_need_no_order_do_overlap() -> None:
    """The proof above is not an accident of the stub: two pulls run side by side."""
    stub = StubHub(delay=0.05)
    answer = {"EvseStatuses": {"OperatorEvseStatus": []}}
    stub.answer(answer)
    stub.answer(answer)
    async with EmpClient(URL, EMP, transport=stub.transport()) as client:
        await asyncio.gather(
            client.pull_evse_status_by_operator([OP]), client.pull_evse_status_by_operator([OP])
        )
    first, second = sorted((s.started, s.ended) for s in stub.seen)
    assert second[0] < first[1]


async def test_different_push_operations_do_not_wait_for_each_other() -> None:
    stub, sleeps = StubHub(delay=0.05), Sleeps()
    async with cpo(stub, sleeps) as client:
        await asyncio.gather(
            client.push_evse_status({EVSE: "Available"}),
            client.push_evse_data([]),
        )
    first, second = sorted((s.started, s.ended) for s in stub.seen)
    assert second[0] < first[1]


def _page(number: int, total_pages: int, items: list[Any], size: int) -> dict[str, Any]:
    return {
        "content": items,
        "number": number,
        "size": size,
        "totalElements": 5,
        "totalPages": total_pages,
        "numberOfElements": len(items),
        "first": number == 0,
        "last": number == total_pages - 1,
        "StatusCode": {"Code": "000"},
    }


def _cdr(n: int) -> dict[str, Any]:
    return {
        "SessionID": f"b2688855-7f00-0002-6d8e-48d883f6ab{n:02d}",
        "EvseID": EVSE,
        "Identification": {"RemoteIdentification": {"EvcoID": "DE-8EO-CAet5e4XY-3"}},
        "ChargingStart": "2026-11-20T10:00:00+01:00",
        "ChargingEnd": "2026-11-20T11:00:00+01:00",
        "SessionStart": "2026-11-20T10:00:00+01:00",
        "SessionEnd": "2026-11-20T11:00:00+01:00",
        "ConsumedEnergy": n,
    }


async def test_paging_asks_page_after_page_until_last() -> None:
    stub = StubHub()
    stub.answer(_page(0, 3, [_cdr(1), _cdr(2)], 2))
    stub.answer(_page(1, 3, [_cdr(3), _cdr(4)], 2))
    stub.answer(_page(2, 3, [_cdr(5)], 2))
    stub.answer(_page(3, 3, [_cdr(6)], 2))  # never asked for
    async with EmpClient(URL, EMP, transport=stub.transport()) as client:
        pages = [p async for p in client.cdr_pages(FROM, TO, size=2)]
    assert [s.query for s in stub.seen] == [
        {"page": "0", "size": "2"},
        {"page": "1", "size": "2"},
        {"page": "2", "size": "2"},
    ]
    assert [int(c.ConsumedEnergy) for p in pages for c in p.content] == [1, 2, 3, 4, 5]


async def test_paging_stops_on_an_empty_page_whatever_the_counters_say() -> None:
    stub = StubHub()
    stub.answer({**_page(0, 1000, [_cdr(1)], 1), "last": False})
    stub.answer({**_page(1, 1000, [], 1), "last": False})
    async with EmpClient(URL, EMP, transport=stub.transport()) as client:
        pages = [p async for p in client.cdr_pages(FROM, TO, size=1)]
    assert len(pages) == 2 and len(stub.seen) == 2


@pytest.mark.parametrize("size", [0, 2001])
async def test_page_size_is_bounded(size: int) -> None:
    async with EmpClient(URL, EMP, transport=StubHub().transport()) as client:
        with pytest.raises(ValueError, match="size"):
            [p async for p in client.evse_data_pages(size=size)]


async def test_a_status_pull_by_id_asks_in_chunks_of_100() -> None:
    stub = StubHub()
    for _ in range(3):
        record = {"EvseID": EVSE, "EvseStatus": "Available"}
        stub.answer({"EVSEStatusRecords": {"EvseStatusRecord": [record]}})
    evses = [f"DE*EVR*E{n}" for n in range(250)]
    async with EmpClient(URL, EMP, transport=stub.transport()) as client:
        answer = await client.pull_evse_status_by_id(evses)
    assert [len(s.body["EvseID"]) for s in stub.seen] == [100, 100, 50]
    assert len(answer.EVSEStatusRecords.EvseStatusRecord) == 3
