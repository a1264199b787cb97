"""Delivery of the push outbox against real HTTP receivers on loopback, on a real
database (SQLite and PostgreSQL): changes enqueued through the ``OutboxPort`` exactly as
the writer does, the worker driven round by round with a driven clock (no sleeping for
backoff), the receiver a real uvicorn server that records what arrives and answers as
each test scripts it.

What the receiver checks on its own, independently of the code under test: the
``Authorization: Token <base64>`` header decodes to the partner's token, and routing
headers are present.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from evroam.config import PushSettings
from evroam.core.objects import ObjectKey
from evroam.core.push import OutboxEntry, OutboxState, PushChange, PushMethod
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
from evroam.ocpi.common.aiowire import AioWire
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.destination import DestinationPolicy
from evroam.ocpi.common.deviations import DeviationLog
from evroam.push.outbox import Outbox
from evroam.push.worker import PushWorker
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.support import free_port

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "their-token-for-pushes"

# What the receiver answers: (HTTP status, body text); None: an OCPI 1000 envelope.
Answer = tuple[int, str] | None


def envelope(code: int, message: str | None = None) -> str:
    body: dict[str, Any] = {"status_code": code, "timestamp": "2026-03-01T12:00:00Z"}
    if message:
        body["status_message"] = message
    return json.dumps(body)


@dataclass
class Arrived:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """An OCPI Receiver on a loopback port; ``answer`` scripts its replies per request."""

    port: int = field(default_factory=free_port)
    answer: Callable[[Arrived], Answer] = lambda _: None
    delay: float = 0.0
    hold: bool = False  # requests wait (unanswered) while this is set
    arrived: list[Arrived] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi/2.2.1"

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        got = Arrived(
            request.method,
            request.url.path,
            request.url.query,
            {k.lower(): v for k, v in request.headers.items()},
            json.loads(raw) if raw else None,
        )
        self.arrived.append(got)
        if self.delay:
            await asyncio.sleep(self.delay)
        while self.hold:
            await asyncio.sleep(0.05)
        scripted = self.answer(got)
        status, text = scripted if scripted is not None else (200, envelope(1000))
        return Response(text, status_code=status, media_type="application/json")

    def start(self) -> Receiver:
        app = Starlette(
            routes=[Route("/{p:path}", self._handle, methods=["PUT", "PATCH", "POST", "DELETE"])]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def paths(self) -> list[tuple[str, str]]:
        return [(a.method, a.path.removeprefix("/ocpi/2.2.1/")) for a in self.arrived]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Rig:
    uow: SqlUnitOfWorkFactory
    outbox: Outbox
    worker: PushWorker
    clock: Clock
    receiver: Receiver
    partner_id: int

    async def enqueue(self, changes: list[PushChange]) -> None:
        async with self.uow() as u:
            await self.outbox.enqueue(u, changes)
            await u.commit()

    async def entries(self) -> list[OutboxEntry]:
        async with self.uow(read_only=True) as u:
            return await u.outbox.entries(limit=10_000)

    async def partner(self) -> Partner:
        async with self.uow(read_only=True) as u:
            p = await u.partners.get(self.partner_id)
        assert p is not None
        return p

    async def drain(self, rounds: int = 20) -> None:
        """Rounds until nothing is due now (the clock does not move)."""
        for _ in range(rounds):
            if not await self.worker.run_once():
                return
        raise AssertionError("the queue did not drain")


def put(location: str) -> PushChange:
    return PushChange(
        ModuleId.LOCATIONS,
        ObjectKey("NL", "CPO", location),
        PushMethod.PUT,
        ("NL", "CPO", location),
        {"id": location, "name": f"name of {location}"},
    )


def status(location: str, evse: str, value: str, n: int = 0) -> PushChange:
    return PushChange(
        ModuleId.LOCATIONS,
        ObjectKey("NL", "CPO", location),
        PushMethod.PATCH,
        ("NL", "CPO", location, evse),
        {"status": value, "last_updated": f"2026-03-01T12:{n // 60 % 60:02d}:{n % 60:02d}Z"},
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
async def rig(db_url: str, receiver: Receiver) -> AsyncIterator[Rig]:
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    async with uow() as u:
        p = await u.partners.add(
            Partner(
                id=0,
                status=ConnectionStatus.CONNECTED,
                versions_url="http://127.0.0.1:1/versions",
                version="2.2.1",
                endpoints=[
                    Endpoint("credentials", InterfaceRole.SENDER, "http://127.0.0.1:1/cred"),
                    Endpoint("locations", InterfaceRole.RECEIVER, f"{receiver.url}/locations"),
                ],
                roles=[Party("DE", "AAA", Role.EMSP, BusinessDetails("AAA"))],
                token_out=TOKEN,
                registered_at=T0,
                created_at=T0,
                updated_at=T0,
            )
        )
        await u.commit()
    clock = Clock()
    http = httpx.AsyncClient(timeout=httpx.Timeout(0.5))
    # The wire the node's worker uses (push/runner.py push_client), loopback allowed.
    wire = AioWire(
        DestinationPolicy(allow_private=True), connect_timeout=0.5, read_timeout=0.5, per_host=16
    )
    worker = PushWorker(
        uow,
        OcpiClient(http, DeviationLog(), wire=wire),
        PushSettings(backoff_base=1.0, backoff_max=60.0, offline_after=3),
        clock=clock,
        rand=lambda: 0.0,  # delays are exactly half the step: 0.5 s, 1 s, 2 s...
    )
    yield Rig(uow, Outbox(clock=clock), worker, clock, receiver, p.id)
    await wire.aclose()
    await http.aclose()
    await engine.dispose()


async def test_1xxx_delivers_in_order_with_token_and_routing_headers(rig: Rig) -> None:
    rig.receiver.start()
    await rig.enqueue([put("LOC1"), status("LOC1", "E1", "CHARGING")])
    await rig.drain()
    assert rig.receiver.paths() == [
        ("PUT", "locations/NL/CPO/LOC1"),
        ("PATCH", "locations/NL/CPO/LOC1/E1"),
    ]
    first, second = rig.receiver.arrived
    assert first.body == {"id": "LOC1", "name": "name of LOC1"}
    assert second.body["status"] == "CHARGING"
    h = first.headers
    assert base64.b64decode(h["authorization"].removeprefix("Token ")).decode() == TOKEN
    assert (h["ocpi-from-country-code"], h["ocpi-from-party-id"]) == ("NL", "CPO")
    assert (h["ocpi-to-country-code"], h["ocpi-to-party-id"]) == ("DE", "AAA")
    assert h["x-request-id"] and h["content-type"] == "application/json"
    assert [e.state for e in await rig.entries()] == [OutboxState.DELIVERED] * 2
    partner = await rig.partner()
    assert partner.status == ConnectionStatus.CONNECTED and partner.last_connection == T0


async def test_http_500_is_retried_after_backoff_then_delivered(rig: Rig) -> None:
    rig.receiver.answer = lambda _: (500, envelope(3000, "database away"))
    rig.receiver.start()
    await rig.enqueue([put("LOC1")])
    await rig.worker.run_once()
    (e,) = await rig.entries()
    assert (e.state, e.attempts, e.last_http_status) == (OutboxState.PENDING, 1, 500)
    assert e.next_attempt_at == T0 + timedelta(seconds=0.5)
    assert "database away" in (e.last_error or "")
    assert await rig.worker.run_once() == 0  # not due yet: nothing sent
    assert len(rig.receiver.arrived) == 1
    rig.receiver.answer = lambda _: None
    rig.clock.advance(0.5)
    await rig.drain()
    (e,) = await rig.entries()
    assert (e.state, e.attempts, len(rig.receiver.arrived)) == (OutboxState.DELIVERED, 2, 2)


async def test_ocpi_3xxx_backs_off_exponentially(rig: Rig) -> None:
    rig.receiver.answer = lambda _: (200, envelope(3001))
    rig.receiver.start()
    await rig.enqueue([put("LOC1")])
    delays = []
    for _ in range(4):
        assert await rig.worker.run_once() == 1
        (e,) = await rig.entries()
        delays.append((e.next_attempt_at - rig.clock.now).total_seconds())
        rig.clock.now = e.next_attempt_at
    assert delays == [0.5, 1.0, 2.0, 4.0]
    assert e.state == OutboxState.PENDING and e.last_ocpi_status == 3001


async def test_timeout_is_retried(rig: Rig) -> None:
    rig.receiver.delay = 2.0  # the worker's client waits 0.5 s
    rig.receiver.start()
    await rig.enqueue([put("LOC1")])
    await rig.worker.run_once()
    (e,) = await rig.entries()
    assert (e.state, e.last_http_status) == (OutboxState.PENDING, None)
    assert "timed out" in (e.last_error or "")


async def test_garbage_answer_is_retried(rig: Rig) -> None:
    rig.receiver.answer = lambda _: (200, "<html>not OCPI</html>")
    rig.receiver.start()
    await rig.enqueue([put("LOC1")])
    await rig.worker.run_once()
    (e,) = await rig.entries()
    assert (e.state, e.last_http_status, e.last_ocpi_status) == (OutboxState.PENDING, 200, None)
    assert "not JSON" in (e.last_error or "")


async def test_2001_is_a_dead_letter_holding_only_its_object(rig: Rig) -> None:
    """LOC1's PUT is refused: its later PATCH waits; LOC2 flows. After the operator's
    retry, LOC1's PUT and then its PATCH arrive, in that order."""

    def refuse_loc1(a: Arrived) -> Answer:
        return (200, envelope(2001, "bad <b>name</b>")) if a.path.endswith("/LOC1") else None

    rig.receiver.answer = refuse_loc1
    rig.receiver.start()
    await rig.enqueue([put("LOC1"), put("LOC2")])
    await rig.drain()
    await rig.enqueue([status("LOC1", "E1", "CHARGING"), status("LOC2", "E1", "CHARGING")])
    await rig.drain()
    arrived = rig.receiver.paths()
    # The two PUTs are of two objects, sent in parallel: order is promised per object only.
    assert sorted(arrived[:2]) == [
        ("PUT", "locations/NL/CPO/LOC1"),
        ("PUT", "locations/NL/CPO/LOC2"),
    ]
    assert arrived[2:] == [("PATCH", "locations/NL/CPO/LOC2/E1")]
    by_path = {e.path: e for e in await rig.entries()}
    dead = by_path[("NL", "CPO", "LOC1")]
    assert (dead.state, dead.last_ocpi_status) == (OutboxState.DEAD, 2001)
    assert "bad <b>name</b>" in (dead.last_error or "")
    assert by_path[("NL", "CPO", "LOC1", "E1")].state == OutboxState.PENDING
    rig.receiver.answer = lambda _: None
    async with rig.uow() as u:
        assert await u.outbox.retry(dead.id, rig.clock.now)
        await u.commit()
    await rig.drain()
    assert rig.receiver.paths()[3:] == [
        ("PUT", "locations/NL/CPO/LOC1"),
        ("PATCH", "locations/NL/CPO/LOC1/E1"),
    ]


async def test_http_404_is_a_dead_letter(rig: Rig) -> None:
    rig.receiver.answer = lambda _: (404, envelope(2003, "unknown location"))
    rig.receiver.start()
    await rig.enqueue([put("LOC1")])
    await rig.worker.run_once()
    (e,) = await rig.entries()
    assert (e.state, e.last_http_status) == (OutboxState.DEAD, 404)


async def test_offline_after_failures_then_connected_and_coalesced(rig: Rig) -> None:
    """The receiver is down: after three failed attempts the partner is OFFLINE. 1,000
    status changes of 10 EVSEs meanwhile leave at most 10 (+1 in the retry) entries; when
    it is back, the first success makes it CONNECTED and it ends with the final statuses."""
    await rig.enqueue([put("LOC1")])
    for _ in range(3):
        await rig.worker.run_once()
        (e,) = await rig.entries()
        rig.clock.now = e.next_attempt_at
    partner = await rig.partner()
    assert partner.status == ConnectionStatus.OFFLINE
    values = ["AVAILABLE", "CHARGING", "BLOCKED", "OUTOFORDER"]
    changes = [
        status("LOC1", f"E{i % 10}", values[i % 4 if i < 990 else 1], i) for i in range(1000)
    ]
    for start in range(0, 1000, 100):
        await rig.enqueue(changes[start : start + 100])
    unfinished = [e for e in await rig.entries() if e.state != OutboxState.DELIVERED]
    assert len(unfinished) == 11  # the PUT being retried, one PATCH per EVSE
    rig.receiver.start()
    await rig.drain()
    partner = await rig.partner()
    assert partner.status == ConnectionStatus.CONNECTED
    assert partner.last_connection == rig.clock.now
    patches = {
        a.path.rsplit("/", 1)[1]: a.body for a in rig.receiver.arrived if a.method == "PATCH"
    }
    assert len(patches) == 10
    assert {v["status"] for v in patches.values()} == {"CHARGING"}
    assert patches["E9"]["last_updated"] == "2026-03-01T12:16:39Z"  # the 1,000th change


async def test_suspended_partner_gets_nothing_and_its_entries_say_why(rig: Rig) -> None:
    rig.receiver.start()
    await rig.enqueue([put("LOC1")])
    async with rig.uow() as u:
        p = await u.partners.get_for_update(rig.partner_id)
        assert p is not None
        p.status = ConnectionStatus.SUSPENDED
        await u.partners.save(p)
        await u.commit()
    await rig.worker.run_once()
    (e,) = await rig.entries()
    assert (e.state, e.held_reason) == (OutboxState.HELD, "partner is SUSPENDED (unregistered)")
    assert rig.receiver.arrived == []
    async with rig.uow() as u:
        p = await u.partners.get_for_update(rig.partner_id)
        assert p is not None
        p.status = ConnectionStatus.CONNECTED
        await u.partners.save(p)
        await u.commit()
    await rig.drain()
    (e,) = await rig.entries()
    assert e.state == OutboxState.DELIVERED and len(rig.receiver.arrived) == 1


async def set_status(rig: Rig, status: ConnectionStatus) -> None:
    async with rig.uow() as u:
        partner = await u.partners.get_for_update(rig.partner_id)
        assert partner is not None
        partner.status = status
        await u.partners.save(partner)
        await u.commit()


async def woken_delivery(rig: Rig, before_enqueue: Callable[[], Awaitable[None]]) -> None:
    """The background loop with a 60 s poll, idle: ``before_enqueue`` runs, then an
    enqueue followed by ``wake`` must arrive at once (within 3 s), not at the poll."""
    rig.receiver.start()
    rig.worker.settings = PushSettings(poll_interval=60.0)
    rig.outbox.on_wake(rig.worker.wake)
    task = asyncio.create_task(rig.worker.run())
    try:
        await asyncio.sleep(0.3)  # the loops are idle, waiting
        await before_enqueue()
        await rig.enqueue([put("LOC1")])
        rig.outbox.wake()
        for _ in range(150):
            if rig.receiver.arrived:
                break
            await asyncio.sleep(0.02)
        assert rig.receiver.paths() == [("PUT", "locations/NL/CPO/LOC1")]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_wake_delivers_without_waiting_for_the_poll(rig: Rig) -> None:
    async def nothing() -> None:
        return None

    await woken_delivery(rig, nothing)


async def test_wake_reaches_a_partner_registered_after_the_worker_started(rig: Rig) -> None:
    """A partner the worker has no loop for yet (registered a moment ago): its first
    entries must not wait for the supervisor's next poll (60 s here; 0.7-0.9 s with the
    default 1 s poll, seen in ``evroam demo``)."""
    await set_status(rig, ConnectionStatus.SUSPENDED)  # unknown to the worker at start

    async def registered() -> None:
        await set_status(rig, ConnectionStatus.CONNECTED)

    await woken_delivery(rig, registered)


async def test_entries_a_slow_batch_cannot_send_within_its_lease_go_back_unsent(rig: Rig) -> None:
    """One call at a time, each taking 30 s of the (driven) clock, a 60 s lease and
    calls of up to 1 s: the third call would start after 59 s, so its entry goes back
    to pending untried (another worker might take it over meanwhile) and goes next."""
    rig.worker = PushWorker(
        rig.uow,
        rig.worker._client,
        PushSettings(lease=60.0, concurrency=1),
        clock=rig.clock,
        rand=lambda: 0.0,
    )

    def slow(_: Arrived) -> Answer:
        rig.clock.advance(30)
        return None

    rig.receiver.answer = slow
    rig.receiver.start()
    await rig.enqueue([put("L1"), put("L2"), put("L3")])
    assert await rig.worker.run_once() == 3
    assert len(rig.receiver.arrived) == 2
    by_id = {e.path[-1]: e for e in await rig.entries()}
    assert (by_id["L3"].state, by_id["L3"].attempts) == (OutboxState.PENDING, 0)
    await rig.drain()
    by_id = {e.path[-1]: e for e in await rig.entries()}
    assert (by_id["L3"].state, by_id["L3"].attempts) == (OutboxState.DELIVERED, 1)
    assert len(rig.receiver.arrived) == 3


async def test_delivered_entries_are_purged_after_the_retention(rig: Rig) -> None:
    rig.receiver.start()
    rig.worker.settings = PushSettings(retention_hours=1.0, purge_batch=2)
    await rig.enqueue([put("L1"), put("L2"), put("L3")])
    await rig.drain()
    assert await rig.worker.purge_if_due() == 0  # delivered just now
    await rig.enqueue([put("L4")])  # pending: never purged
    rig.clock.advance(3601)
    assert await rig.worker.purge_if_due() == 3  # in batches of two
    assert [e.path[-1] for e in await rig.entries()] == ["L4"]


async def test_a_stopped_worker_gives_its_unanswered_entries_back(rig: Rig) -> None:
    """Shutdown mid-batch (the receiver holds its answers): the claimed entries are
    pending again at once, not left to their lease, so a restart sends them at once."""
    rig.receiver.hold = True
    rig.receiver.start()
    rig.worker.settings = PushSettings(poll_interval=0.05)
    await rig.enqueue([put("L1"), put("L2")])
    task = asyncio.create_task(rig.worker.run())
    try:
        for _ in range(200):
            if len(rig.receiver.arrived) == 2:
                break
            await asyncio.sleep(0.02)
        assert {e.state for e in await rig.entries()} == {OutboxState.SENDING}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        rig.receiver.hold = False
    got = await rig.entries()
    assert [(e.state, e.attempts, e.next_attempt_at) for e in got] == [
        (OutboxState.PENDING, 0, T0)
    ] * 2


async def test_last_connection_is_written_at_most_every_ten_seconds_while_delivering(
    rig: Rig,
) -> None:
    """A partner taking deliveries has its ``last_connection`` written with the first
    success, then not in every settling transaction (a row lock and two statements per
    batch cost a busy worker ~9% of its CPU) but once ``TOUCH_EVERY`` has passed."""
    rig.receiver.start()
    await rig.enqueue([put("LOC1")])
    await rig.drain()
    assert (await rig.partner()).last_connection == T0
    rig.clock.advance(5)
    await rig.enqueue([status("LOC1", "E1", "CHARGING", 1)])
    await rig.drain()
    assert (await rig.partner()).last_connection == T0
    rig.clock.advance(6)
    await rig.enqueue([status("LOC1", "E1", "AVAILABLE", 2)])
    await rig.drain()
    partner = await rig.partner()
    assert partner.last_connection == T0 + timedelta(seconds=11)
    assert partner.status == ConnectionStatus.CONNECTED
