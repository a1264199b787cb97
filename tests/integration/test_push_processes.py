"""The push outbox in real processes: a node (``evroam serve``) delivering from its
lifespan worker, the operator API and ``evroam outbox`` commands on its queue, and
``evroam worker`` processes sharing one database.

Changes are enqueued through the ``OutboxPort`` on the node's database from the test,
as the node's writer will; the partner is a row in that database whose Locations
Receiver is a real server on loopback (``Receiver`` of ``test_push_delivery``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evroam.core.push import PushChange
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    Partner,
    Party,
    Role,
)
from evroam.push.outbox import Outbox
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.integration.test_cli import on, run, run_json
from tests.integration.test_push_delivery import Arrived, Receiver, envelope, put, status
from tests.support import NodeProcess

FAST = {"EVROAM_PUSH__POLL_INTERVAL": "0.1"}
NASTY = "[bold red]refused[/] \x1b[2J <b>name</b>"


def setup_db(db_url: str, receiver: Receiver) -> int:
    """Migrate the database and add a registered eMSP partner whose Locations Receiver
    is ``receiver``; its id."""

    async def go() -> int:
        await upgrade_async(db_url)
        engine = create_engine(db_url)
        uow = SqlUnitOfWorkFactory(session_factory(engine))
        now = datetime.now(UTC)
        async with uow() as u:
            p = await u.partners.add(
                Partner(
                    id=0,
                    status=ConnectionStatus.CONNECTED,
                    versions_url="http://127.0.0.1:1/versions",
                    version="2.2.1",
                    endpoints=[
                        Endpoint("locations", InterfaceRole.RECEIVER, f"{receiver.url}/locations")
                    ],
                    roles=[Party("DE", "AAA", Role.EMSP, BusinessDetails("AAA"))],
                    token_out="token-for-aaa",
                    registered_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            await u.commit()
        await engine.dispose()
        return p.id

    return asyncio.run(go())


def enqueue(db_url: str, changes: list[PushChange]) -> None:
    async def go() -> None:
        engine = create_engine(db_url)
        uow = SqlUnitOfWorkFactory(session_factory(engine))
        async with uow() as u:
            await Outbox().enqueue(u, changes)
            await u.commit()
        await engine.dispose()

    asyncio.run(go())


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.mark.parametrize("backend", ["sqlite"])  # node start-up dominates: one backend
def test_operator_sees_a_dead_letter_retries_it_and_drops_another(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """The node's own worker delivers; LOC1's PUT is refused with a message full of
    markup and control characters: the API shows it as written, the CLI as text. LOC1's
    later PATCH waits behind it until the operator retries; then both arrive in order.
    A dropped dead letter lets the entry behind it go; a partner's dead letters can be
    retried all at once."""
    setup_db(db_url, receiver)

    def answer(a: Arrived) -> Any:
        refused = a.path.endswith(("/LOC1", "/LOC2", "/LOC4")) and refusing
        return (200, envelope(2001, NASTY)) if refused else None

    refusing = True
    receiver.answer = answer
    node = NodeProcess(db_url, tmp_path, country_code="NL", party_id="CPO", extra_env=FAST)
    try:
        enqueue(db_url, [put("LOC1"), put("LOC2"), put("LOC3"), put("LOC4")])
        enqueue(db_url, [status("LOC1", "E1", "CHARGING"), status("LOC2", "E1", "BLOCKED")])
        overview = wait_for(
            lambda: (o := node.api("GET", "/outbox", expect=200))["dead"] == 3 and o
        )
        (queue,) = overview["queues"]
        assert (queue["partner"], queue["module"], queue["pending"], queue["dead"]) == (
            "DE-AAA",
            "locations",
            2,
            3,
        )
        assert queue["delivered_last_minute"] == 1  # LOC3
        dead = node.api("GET", "/outbox/entries?state=dead", expect=200)
        assert [(e["path"][-1], e["last_ocpi_status"]) for e in dead] == [
            ("LOC1", 2001),
            ("LOC2", 2001),
            ("LOC4", 2001),
        ]
        assert NASTY in dead[0]["last_error"]

        out = run("outbox", "list", *on(node)).stdout
        assert "DE-AAA" in out and "3 dead" in out
        assert "[bold red]refused[/] \\x1b[2J <b>name</b>" in out
        assert "\x1b" not in out
        shown = run("outbox", "show", str(dead[0]["id"]), *on(node)).stdout
        assert "PUT locations/NL/CPO/LOC1" in shown and '"name": "name of LOC1"' in shown

        refusing = False
        run("outbox", "retry", str(dead[0]["id"]), *on(node))
        run("outbox", "drop", str(dead[1]["id"]), *on(node))
        bulk = run("outbox", "retry", "--partner", "DE-AAA", "--module", "locations", *on(node))
        assert "1 dead letters will be sent again now" in bulk.stdout  # LOC4's
        assert run("outbox", "retry", *on(node), ok=False).returncode == 2
        wait_for(lambda: node.api("GET", "/outbox", expect=200)["pending"] == 0)
        sent = receiver.paths()

        def of(location: str) -> list[tuple[str, str]]:
            return [p for p in sent if p[1].split("/")[3] == location]

        assert of("LOC1") == [
            ("PUT", "locations/NL/CPO/LOC1"),
            ("PUT", "locations/NL/CPO/LOC1"),  # the retry, then the PATCH behind it
            ("PATCH", "locations/NL/CPO/LOC1/E1"),
        ]
        assert of("LOC2") == [
            ("PUT", "locations/NL/CPO/LOC2"),
            ("PATCH", "locations/NL/CPO/LOC2/E1"),  # flows once its dead PUT is dropped
        ]
        assert of("LOC4") == [("PUT", "locations/NL/CPO/LOC4")] * 2
        again = node.api("POST", f"/outbox/entries/{dead[0]['id']}/retry")
        assert "delivered, not dead" in again["detail"]
        assert run_json("outbox", "list", "--state", "delivered", node=node)["entries"]
        missing = run("outbox", "show", "999999", *on(node), ok=False)
        assert missing.returncode == 1 and "no outbox entry 999999" in missing.stderr
    finally:
        node.stop()


def start_worker(
    db_url: str, workdir: Path, name: str, **env_extra: str
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    env.update(FAST | env_extra)
    with open(workdir / f"{name}.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "evroam", "worker", "--db", db_url, "--log-level", "info"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_worker_processes_share_the_queue(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """Two ``evroam worker`` processes on one PostgreSQL database: no entry arrives twice, and
    each object's changes arrive in the order they were made (its PUT first, then its
    statuses in order; some may have been merged while waiting), ending with the last."""
    setup_db(db_url, receiver)
    receiver.delay = 0.01
    workers = [start_worker(db_url, tmp_path, f"w{i}") for i in range(2)]
    try:
        for round_ in range(5):
            changes = [put(f"L{i}") for i in range(40)] if round_ == 0 else []
            changes += [status(f"L{i}", "E1", f"S{round_}", round_) for i in range(40)]
            enqueue(db_url, changes)
            time.sleep(0.3)
        wait_for(
            lambda: sum(1 for a in receiver.arrived if (a.body or {}).get("status") == "S4") == 40,
            timeout=60,
        )
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        for w in workers:
            stop(w)
    arrived = receiver.arrived
    keys = [(a.method, a.path, (a.body or {}).get("status")) for a in arrived]
    assert len(keys) == len(set(keys)), "an entry was delivered twice"
    for i in range(40):
        mine = [k for k in keys if k[1].rsplit("/NL/CPO/", 1)[1].split("/")[0] == f"L{i}"]
        assert mine[0][0] == "PUT"
        statuses = [k[2] for k in mine[1:]]
        assert statuses == sorted(statuses) and statuses[-1] == "S4"
    logs = [(tmp_path / f"w{i}.log").read_text() for i in range(2)]
    assert all("push worker" in log for log in logs)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_worker_killed_mid_delivery_loses_nothing(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """SIGKILL while a batch is on the wire (the receiver holds its answers): another
    worker takes the entries over when their lease ends, sends them again (at least
    once), then everything owed since, in order; each EVSE ends with its last status."""
    setup_db(db_url, receiver)
    receiver.hold = True
    enqueue(db_url, [put(f"L{i}") for i in range(20)])
    first = start_worker(db_url, tmp_path, "w1", EVROAM_PUSH__LEASE="1")
    try:
        wait_for(lambda: len(receiver.arrived) >= 10)
        first.kill()
        first.wait(5)
    finally:
        stop(first)
    receiver.hold = False
    in_flight = {a.path for a in receiver.arrived}
    for n, value in enumerate(["CHARGING", "BLOCKED", "AVAILABLE"]):
        enqueue(db_url, [status(f"L{i}", "E1", value, n) for i in range(20)])
    second = start_worker(db_url, tmp_path, "w2", EVROAM_PUSH__LEASE="1")
    try:
        wait_for(lambda: sum(1 for a in receiver.arrived if a.method == "PATCH") >= 20, timeout=30)
        time.sleep(0.3)
    finally:
        stop(second)
    for i in range(20):
        mine = [(a.method, a.body) for a in receiver.arrived if a.path.split("/")[6] == f"L{i}"]
        puts = [m for m, _ in mine if m == "PUT"]
        assert puts == (
            ["PUT", "PUT"] if f"/ocpi/2.2.1/locations/NL/CPO/L{i}" in in_flight else ["PUT"]
        )
        assert mine[-1] == ("PATCH", mine[-1][1]) and mine[-1][1]["status"] == "AVAILABLE"
        assert all(m == "PATCH" for m, _ in mine[len(puts) :])  # no PATCH before a PUT


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_worker_process_is_woken_by_another_process_commit(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """PostgreSQL: a worker that polls only every 60 s delivers an entry another
    process enqueued within seconds: the commit's NOTIFY wakes it."""
    setup_db(db_url, receiver)
    worker = start_worker(db_url, tmp_path, "w", EVROAM_PUSH__POLL_INTERVAL="60")
    try:
        wait_for(lambda: "woken by NOTIFY" in (tmp_path / "w.log").read_text())
        time.sleep(0.5)  # its partner loop is idle, waiting
        started = time.monotonic()
        enqueue(db_url, [put("L1")])
        wait_for(lambda: receiver.arrived, timeout=20)
        assert time.monotonic() - started < 10
    finally:
        stop(worker)
