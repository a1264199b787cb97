"""The push outbox under faults, between real node processes (issue 8): a receiving eMSP
node that is down and comes back, 1,000 status changes coalesced while it is down, the
sending CPO killed with SIGKILL with changes queued, and (PostgreSQL) two CPO processes
on one database delivering the same queue to a receiver that records every request.

Every change is made through the CPO's operator API, so the node's writer enqueues it as
in production; nothing is enqueued behind the node's back. The pair of nodes is shared by
the tests of this module (node start-up dominates the suite's time): each test leaves
both nodes running and connected, with an empty queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from evroam.core.push import DeliveryResult, OutboxState
from evroam.storage.db import create_engine, session_factory
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.integration.fake_partner import VERSION, FakePartner, Recorded, read_token
from tests.integration.test_locations import evse, location
from tests.integration.test_push_delivery import Rig, receiver, rig, status  # noqa: F401 - fixtures
from tests.integration.test_push_e2e import eventually, received
from tests.integration.test_push_processes import enqueue, setup_db
from tests.support import NodeProcess, PgDatabases, pg_unavailable_reason

Pair = tuple[NodeProcess, NodeProcess]

# Short poll and backoff so that faults heal in well under a second; OFFLINE after two
# failed deliveries. The liveness loop stays at its default: delivery alone must move
# the partner's status.
PUSH_ENV = {
    "EVROAM_PUSH__POLL_INTERVAL": "0.1",
    "EVROAM_PUSH__BACKOFF_BASE": "0.1",
    "EVROAM_PUSH__BACKOFF_MAX": "0.3",
    "EVROAM_PUSH__OFFLINE_AFTER": "2",
}
RECEIVING = ("locations", "tariffs", "sessions", "cdrs")


class RecordingEmsp(FakePartner):
    """A fake eMSP offering Receivers of every module a CPO pushes: it answers each push
    with OCPI 1000 (after ``delay`` seconds) and records it in ``pushes``, the witness of
    what the sender sent, every request counted, duplicates included."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(role="EMSP", **kwargs)
        self.pushes: list[Recorded] = []
        self.delay = 0.0
        self.who: Callable[[int], int | None] | None = None  # client port -> sender's pid
        self.senders: list[int | None] = []

    def version_details(self) -> dict[str, Any]:
        details = super().version_details()
        details["endpoints"] = [e for e in details["endpoints"] if e["role"] == "SENDER"] + [
            {"identifier": m, "role": "RECEIVER", "url": self._url(f"/ocpi/{VERSION}/{m}")}
            for m in RECEIVING
        ]
        return details

    async def _handle(self, request: Request) -> Response:
        module = request.url.path.removeprefix(f"/ocpi/{VERSION}/").split("/", 1)[0]
        token = read_token(request.headers.get("authorization"))
        if module not in RECEIVING or token not in self.accepted:
            return await super()._handle(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.who is not None and request.client is not None:
            self.senders.append(self.who(request.client.port))
        rec = Recorded(
            request.method, request.url.path, request.url.query, {}, await request.body()
        )
        with self._lock:
            self.pushes.append(rec)
        answer = self._envelope(request)
        if request.method == "POST":
            answer.headers["Location"] = f"{self.base_url}{request.url.path}/NL/CPO/x"
        return answer

    def pushed(self, module: str) -> list[Recorded]:
        with self._lock:
            return [p for p in self.pushes if p.path.startswith(f"/ocpi/{VERSION}/{module}")]


def socket_owner(pids: list[int]) -> Callable[[int], int | None]:
    """Which of ``pids`` holds the loopback TCP socket of local port ``port`` (Linux
    /proc): tells the processes apart that send to a fake partner."""

    def who(port: int) -> int | None:
        inodes = set()
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
        for pid in pids:
            fd_dir = Path(f"/proc/{pid}/fd")
            for fd in fd_dir.iterdir():
                try:
                    if os.readlink(fd) in inodes:
                        return pid
                except OSError:
                    continue
        return None

    return who


def register_fake(cpo: NodeProcess, fake: FakePartner) -> None:
    """The fake registers with the CPO as a new partner (the CPO invites it)."""
    invite = cpo.api("POST", "/partners/invite", {}, expect=201)
    r = fake.register_with(invite["versions_url"], invite["token"])
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text


def msp_status(cpo: NodeProcess) -> str:
    (msp,) = [p for p in cpo.api("GET", "/partners", expect=200) if p["party_id"] == "MSP"]
    return str(msp["status"])


def queued(cpo: NodeProcess) -> int:
    return int(cpo.api("GET", "/outbox", expect=200)["pending"])


def ts(n: int) -> str:
    """The n-th second after a fixed start, as last_updated: later changes are newer."""
    return f"2026-11-21T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"


def set_status(cpo: NodeProcess, lid: str, uid: str, status: str, n: int) -> None:
    cpo.api(
        "PATCH",
        f"/locations/NL/CPO/{lid}/{uid}",
        {"status": status, "last_updated": ts(n)},
        expect=200,
    )


def statuses(node: NodeProcess, lid: str) -> dict[str, tuple[str, str]] | None:
    """Each EVSE's (status, last_updated) as ``node`` holds the Location; None if absent."""
    loc = received(node, f"/locations/NL/CPO/{lid}")
    return (
        None if loc is None else {e["uid"]: (e["status"], e["last_updated"]) for e in loc["evses"]}
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def pair(
    request: pytest.FixtureRequest,
    pg_databases: PgDatabases | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    """A CPO (NL-CPO, short push settings) and an eMSP (DE-MSP) registered with it; the
    tests stop, kill and restart them, and leave both running and connected."""
    workdir = tmp_path_factory.mktemp("pushpair")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        urls = [pg_databases.create(), pg_databases.create()]
    else:
        urls = [f"sqlite+aiosqlite:///{workdir / name}" for name in ("cpo.db", "emsp.db")]
    cpo = NodeProcess(urls[0], workdir, country_code="NL", party_id="CPO", extra_env=PUSH_ENV)
    emsp = NodeProcess(urls[1], workdir, country_code="DE", party_id="MSP", roles=("EMSP",))
    try:
        emsp.register_with(cpo)
        yield cpo, emsp
    finally:
        cpo.stop()
        emsp.stop()


def test_a_receiver_down_then_back_gets_everything_and_the_partner_comes_back(
    pair: Pair,
) -> None:
    """The eMSP is stopped while EVSE statuses change: the CPO marks it OFFLINE after
    failed deliveries, and once it is back everything arrives with nobody acting, each
    EVSE ending with its last status, and the CPO marks it CONNECTED again."""
    cpo, emsp = pair
    uids = ["D1", "D2", "D3"]
    cpo.api(
        "PUT", "/locations/NL/CPO/LOC-DOWN", location("LOC-DOWN", evses=[evse(u) for u in uids])
    )
    eventually(lambda: statuses(emsp, "LOC-DOWN"), lambda s: s is not None)
    emsp.stop()
    try:
        sequence = ["CHARGING", "BLOCKED", "AVAILABLE", "OUTOFORDER"]
        for n in range(len(sequence)):
            for i, uid in enumerate(uids):
                set_status(cpo, "LOC-DOWN", uid, sequence[(n + i) % 4], 10 * n + i)
        eventually(lambda: msp_status(cpo), lambda s: s == "OFFLINE")
        assert queued(cpo) >= len(uids)
    finally:
        emsp.restart()
    final = {uid: (sequence[(3 + i) % 4], ts(30 + i)) for i, uid in enumerate(uids)}
    eventually(lambda: statuses(emsp, "LOC-DOWN"), lambda s: s == final)
    eventually(lambda: msp_status(cpo), lambda s: s == "CONNECTED")
    eventually(lambda: queued(cpo), lambda q: q == 0)
    assert cpo.api("GET", "/outbox", expect=200)["dead"] == 0


def test_a_thousand_changes_while_down_leave_one_entry_per_evse(pair: Pair) -> None:
    """1,000 status changes of 10 EVSEs (100 each, in order per EVSE) while the eMSP is
    down: the CPO owes it at most one entry per EVSE, and the eMSP ends with each EVSE's
    final status once it is back."""
    cpo, emsp = pair
    uids = [f"C{i}" for i in range(10)]
    cpo.api(
        "PUT", "/locations/NL/CPO/LOC-COAL", location("LOC-COAL", evses=[evse(u) for u in uids])
    )
    eventually(lambda: statuses(emsp, "LOC-COAL"), lambda s: s is not None)
    cycle = ["CHARGING", "BLOCKED", "AVAILABLE", "RESERVED"]
    emsp.stop()
    try:

        def change(i: int) -> None:
            for n in range(100):
                set_status(cpo, "LOC-COAL", uids[i], cycle[(n + i) % 4], 100 + 10 * n + i)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(change, range(10)))
        # At most one per EVSE (pending or on the wire). A change made while its EVSE's
        # entry is on the wire queues behind it; the settling of the failed attempt
        # merges the two (outbox.compact), hence the short wait.
        eventually(lambda: queued(cpo), lambda q: q <= len(uids), within=5)
    finally:
        emsp.restart()
    final = {uid: (cycle[(99 + i) % 4], ts(100 + 990 + i)) for i, uid in enumerate(uids)}
    eventually(lambda: statuses(emsp, "LOC-COAL"), lambda s: s == final, within=30)
    eventually(lambda: queued(cpo), lambda q: q == 0)
    assert cpo.api("GET", "/outbox", expect=200)["dead"] == 0


class BlackHole:
    """Listens on a stopped node's port, accepts and reads, never answers: a push sent
    there stays on the wire, its entry leased, until the sender gives up or dies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.conns: list[socket.socket] = []
        self.received = threading.Event()
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closing.is_set():
            with contextlib.suppress(TimeoutError):
                conn, _ = self.sock.accept()
                conn.settimeout(0.05)
                self.conns.append(conn)
            for conn in self.conns:
                with contextlib.suppress(TimeoutError, OSError):
                    if conn.recv(65536):
                        self.received.set()

    def close(self) -> None:
        self.closing.set()
        self.thread.join(5)
        for conn in self.conns:
            conn.close()
        self.sock.close()


def test_the_sender_killed_with_changes_queued_sends_them_after_restart(pair: Pair) -> None:
    """A new Location and its EVSE statuses are queued for the eMSP, whose port answers
    nothing: the CPO is killed with SIGKILL while a push is on the wire (its entry leased
    for two minutes), the eMSP comes back, the CPO restarts on its database: every change
    arrives with nobody acting and well before the dead process's lease would end (the
    restarted node takes back its predecessor's leases), in order (a PATCH before its
    Location's PUT would be refused by the eMSP and end as a dead letter), the last
    status winning."""
    cpo, emsp = pair
    uids = ["K1", "K2"]
    emsp.stop()
    hole = BlackHole(emsp.port)
    try:
        cpo.api(
            "PUT", "/locations/NL/CPO/LOC-KILL", location("LOC-KILL", evses=[evse(u) for u in uids])
        )
        for n, status in enumerate(["CHARGING", "BLOCKED", "AVAILABLE"]):
            for i, uid in enumerate(uids):
                set_status(cpo, "LOC-KILL", uid, status, 2000 + 10 * n + i)
        assert hole.received.wait(15), "the CPO sent nothing"
        queues = cpo.api("GET", "/outbox", expect=200)["queues"]
        assert sum(q["sending"] for q in queues) >= 1
        cpo.kill()
    finally:
        hole.close()
        emsp.restart()
    cpo.restart()
    final = {uid: ("AVAILABLE", ts(2020 + i)) for i, uid in enumerate(uids)}
    eventually(lambda: statuses(emsp, "LOC-KILL"), lambda s: s == final, within=30)
    eventually(lambda: queued(cpo), lambda q: q == 0)
    assert cpo.api("GET", "/outbox", expect=200)["dead"] == 0
    eventually(lambda: msp_status(cpo), lambda s: s == "CONNECTED")
    assert "leased by a worker that died are pending again" in cpo.log()


@pytest.mark.postgres
def test_two_cpo_nodes_on_one_postgres_database_send_nothing_twice(
    pg_databases: PgDatabases | None, tmp_path: Path
) -> None:
    """Two ``evroam serve`` processes of the CPO on one PostgreSQL database, both
    delivering, changes made through both operator APIs: the receiving fake records every
    request; none arrives twice and each EVSE's statuses arrive in the order they were
    made (its Location's PUT first), ending with the last."""
    if pg_databases is None:
        pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
    db = pg_databases.create()
    fake = RecordingEmsp(country_code="DE", party_id="REC").start()
    fake.delay = 0.005  # both processes find work while the other is sending
    nodes: list[NodeProcess] = []
    try:
        nodes.append(
            NodeProcess(db, tmp_path, country_code="NL", party_id="CPO", extra_env=PUSH_ENV)
        )
        nodes.append(
            NodeProcess(db, tmp_path, country_code="NL", party_id="CPO", extra_env=PUSH_ENV)
        )
        register_fake(nodes[0], fake)
        fake.who = socket_owner([node.proc.pid for node in nodes])
        lids = [f"LOC-TWO-{i}" for i in range(20)]
        for lid in lids:
            nodes[0].api("PUT", f"/locations/NL/CPO/{lid}", location(lid, evses=[evse("E1")]))
        rounds = ["CHARGING", "BLOCKED", "AVAILABLE", "RESERVED", "OUTOFORDER"]

        def change(i: int) -> None:
            for n, status in enumerate(rounds):
                set_status(nodes[(i + n) % 2], lids[i], "E1", status, 10 * n)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(change, range(len(lids))))
        last = rounds[-1]

        def finished() -> int:
            return sum(1 for p in fake.pushed("locations") if (p.json or {}).get("status") == last)

        eventually(finished, lambda n: n == len(lids), within=30)
        eventually(lambda: queued(nodes[0]), lambda q: q == 0)
        pushes = fake.pushed("locations")
    finally:
        for node in nodes:
            node.stop()
        fake.stop()
    # Both processes delivered (the witness is meaningful), and nothing came from elsewhere.
    assert set(fake.senders) == {node.proc.pid for node in nodes}, Counter(fake.senders)
    keys = [(p.method, p.path, p.body) for p in pushes]
    assert len(keys) == len(set(keys)), "an entry was delivered twice"
    for lid in lids:
        mine = [p for p in pushes if p.path.split("/")[6] == lid]
        assert mine[0].method == "PUT" and all(p.method == "PATCH" for p in mine[1:])
        sent = [json.loads(p.body)["status"] for p in mine[1:]]
        # Some may have merged while waiting; what was sent keeps the order of the changes.
        assert sent == sorted(sent, key=rounds.index) and sent[-1] == last, (lid, sent)


def test_a_serving_node_is_woken_by_another_process_commit(
    pg_databases: PgDatabases | None, tmp_path: Path
) -> None:
    """Two ``evroam serve`` processes on one PostgreSQL database, only the second one
    delivering, with a 60 s poll: a change made through the first one's operator API
    reaches the partner at once, because the second LISTENs for the first's NOTIFY (its
    own in-process wake never hears of another process's commit)."""
    if pg_databases is None:
        pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
    db = pg_databases.create()
    fake = RecordingEmsp(country_code="DE", party_id="LIS").start()
    slow = {"EVROAM_PUSH__POLL_INTERVAL": "60"}
    nodes: list[NodeProcess] = []
    try:
        nodes.append(
            NodeProcess(
                db,
                tmp_path,
                country_code="NL",
                party_id="CPO",
                extra_env={**slow, "EVROAM_PUSH__WORKER": "false"},
            )
        )
        nodes.append(NodeProcess(db, tmp_path, country_code="NL", party_id="CPO", extra_env=slow))
        register_fake(nodes[0], fake)
        nodes[0].api("PUT", "/locations/NL/CPO/LOC-LIS", location("LOC-LIS", evses=[evse("E1")]))
        eventually(lambda: len(fake.pushed("locations")), lambda n: n == 1, within=10)
    finally:
        for node in nodes:
            node.stop()
        fake.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_change_made_while_an_attempt_was_in_flight_merges_once_it_failed(
    db_url: str,
) -> None:
    """The cause of a second entry per object found by the test above, step by step on
    the outbox: an EVSE's entry is in flight when its next change comes (a new entry),
    the attempt fails (both pending): the change after that leaves one entry, holding the
    newest status. Without it a partner that stays down owes two entries for the EVSE."""
    partner_id = setup_db(db_url, SimpleNamespace(url="http://127.0.0.1:1"))  # type: ignore[arg-type]

    async def on_outbox(action: Callable[[Any, datetime], Awaitable[Any]]) -> Any:
        engine = create_engine(db_url)
        try:
            async with SqlUnitOfWorkFactory(session_factory(engine))() as u:
                result = await action(u.outbox, datetime.now(UTC))
                await u.commit()
                return result
        finally:
            await engine.dispose()

    def claim(outbox: Any, now: datetime) -> Awaitable[Any]:
        return outbox.claim(partner_id, now, 10, "w", timedelta(seconds=60))

    def fail(entry_id: int) -> Callable[[Any, datetime], Awaitable[Any]]:
        def settle(outbox: Any, now: datetime) -> Awaitable[Any]:
            failed = DeliveryResult(entry_id, OutboxState.PENDING, 1, now, "connection refused")
            return outbox.settle([failed], "w", now)

        return settle

    def pending(outbox: Any, now: datetime) -> Awaitable[Any]:
        return outbox.entries(partner_id=partner_id, states=[OutboxState.PENDING])

    enqueue(db_url, [status("L1", "E1", "CHARGING", 0)])
    (entry,) = asyncio.run(on_outbox(claim))
    enqueue(db_url, [status("L1", "E1", "BLOCKED", 1)])  # while in flight: a new entry
    asyncio.run(on_outbox(fail(entry.id)))
    assert len(asyncio.run(on_outbox(pending))) == 2
    enqueue(db_url, [status("L1", "E1", "AVAILABLE", 2)])
    (left,) = asyncio.run(on_outbox(pending))
    assert left.id == entry.id and left.attempts == 1  # keeps its place and its backoff
    assert json.loads(left.body or "null")["status"] == "AVAILABLE"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_change_queued_behind_a_failed_attempt_is_merged_when_it_fails(
    rig: Rig,  # noqa: F811 - the fixture of test_push_delivery
) -> None:
    """The same in the worker, with no later change to trigger the merge: the receiver
    holds an EVSE's PATCH on the wire while the next change is enqueued (a new entry),
    then answers HTTP 500: the settling transaction merges the two, one entry is left,
    holding the newer status, and it is what is sent next."""
    rig.receiver.start()
    rig.receiver.hold = True
    rig.receiver.answer = lambda a: (500, "busy") if len(rig.receiver.arrived) == 1 else None
    await rig.enqueue([status("L1", "E1", "CHARGING", 0)])
    sending = asyncio.ensure_future(rig.worker.deliver(await rig.partner()))
    while not rig.receiver.arrived:
        await asyncio.sleep(0.01)
    await rig.enqueue([status("L1", "E1", "BLOCKED", 1)])  # while the first is on the wire
    assert len(await rig.entries()) == 2
    rig.receiver.hold = False
    assert await sending == 1
    (left,) = [e for e in await rig.entries() if e.state == OutboxState.PENDING]
    assert left.attempts == 1 and json.loads(left.body or "null")["status"] == "BLOCKED"
    rig.clock.advance(60)
    assert await rig.worker.deliver(await rig.partner()) == 1
    assert [a.body["status"] for a in rig.receiver.arrived] == ["CHARGING", "BLOCKED"]
