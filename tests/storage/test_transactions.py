"""What a unit of work isolates, on each backend.

The concurrency tests run two units of work as two asyncio tasks of one event loop, each
on its own pooled connection. A task that has read signals it and then waits (briefly)
for the other to have read too: when the database lets both read before either writes,
they interleave read-read-write-write and one increment is lost; when it makes the second
wait, the first times out waiting, writes and commits, and the second reads the result.
The controls show that this harness does see the lost update when nothing prevents it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from evroam.core.errors import PartyConflict
from evroam.core.types import ConnectionStatus, Partner
from evroam.storage.db import create_engine, session_factory
from evroam.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.storage.factories import NOW, make_partner, party

# How long a task that has read waits for the other one to read as well.
HANDOFF = 0.3

Read = Callable[[SqlUnitOfWork, int], Awaitable[Partner | None]]


async def _plain(u: SqlUnitOfWork, partner_id: int) -> Partner | None:
    return await u.partners.get(partner_id)


async def _locking(u: SqlUnitOfWork, partner_id: int) -> Partner | None:
    return await u.partners.get_for_update(partner_id)


async def _counter_partner(uow: SqlUnitOfWorkFactory) -> int:
    async with uow() as u:
        p = await u.partners.add(make_partner(note="0"))
        await u.commit()
    return p.id


async def _count(uow: SqlUnitOfWorkFactory, partner_id: int) -> int:
    async with uow(read_only=True) as u:
        p = await u.partners.get(partner_id)
    assert p is not None and p.note is not None
    return int(p.note)


async def _increment_twice(uow: SqlUnitOfWorkFactory, partner_id: int, read: Read) -> None:
    events = [asyncio.Event(), asyncio.Event()]

    async def increment(me: int) -> None:
        async with uow() as u:
            p = await read(u, partner_id)
            assert p is not None and p.note is not None
            events[me].set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(events[1 - me].wait(), HANDOFF)
            p.note = str(int(p.note) + 1)
            await u.partners.save(p)
            await u.commit()

    await asyncio.gather(increment(0), increment(1))


def _sqlite_path(db_url: str) -> str:
    path = make_url(db_url).database
    assert path
    return path


async def test_concurrent_writing_units_of_work_do_not_lose_an_increment(
    uow: SqlUnitOfWorkFactory, backend: str, db_url: str
) -> None:
    """SQLite: a plain read is enough, BEGIN IMMEDIATE serialises the two units of work
    (the in-process writer queue is switched off, so the database's lock is what is
    tested). PostgreSQL: the row lock of get_for_update does."""
    partner_id = await _counter_partner(uow)
    if backend == "sqlite":
        # Two writers of one thread cannot wait for each other in SQLite on the loop's
        # own thread (sqlite_inline.py): this test needs the driver's thread per
        # connection, so that the second really waits in SQLite's busy handler.
        engine = create_engine(db_url, sqlite_threads=True)
        db_only = SqlUnitOfWorkFactory(session_factory(engine), serialize_writers=False)
    else:
        engine = None
        db_only = SqlUnitOfWorkFactory(uow.session_factory, serialize_writers=False)
    try:
        await _increment_twice(db_only, partner_id, _locking if backend == "postgres" else _plain)
    finally:
        if engine is not None:
            await engine.dispose()
    assert await _count(uow, partner_id) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_writers_of_one_process_queue_without_losing_an_increment(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """The default factory queues SQLite writers in the process (asyncio lock), so they
    never wait in SQLite's busy handler; the increments still both land."""
    partner_id = await _counter_partner(uow)
    await _increment_twice(uow, partner_id, _plain)
    assert await _count(uow, partner_id) == 2


async def test_control_without_isolation_an_increment_is_lost(
    uow: SqlUnitOfWorkFactory, backend: str, db_url: str
) -> None:
    """The same two increments, with what the previous test relies on taken away:
    SQLite with the driver's own transaction handling (BEGIN only before a write), and
    PostgreSQL without the row lock."""
    partner_id = await _counter_partner(uow)
    if backend == "postgres":
        await _increment_twice(uow, partner_id, _plain)
    else:
        legacy: AsyncEngine = create_async_engine(db_url)
        try:
            await _increment_twice(
                SqlUnitOfWorkFactory(session_factory(legacy), serialize_writers=False),
                partner_id,
                _plain,
            )
        finally:
            await legacy.dispose()
    assert await _count(uow, partner_id) == 1


async def test_concurrent_claims_of_one_party_let_exactly_one_commit(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """Both claim NL-ABC plus a party of their own, at the same moment. On PostgreSQL the
    second INSERT waits for the first transaction and is then refused by the key; on
    SQLite the second unit of work waits at BEGIN IMMEDIATE. The loser carries on and
    commits after the refusal: still nothing of its claim may be stored."""
    async with uow() as u:
        a = await u.partners.add(make_partner(roles=[party("NL", "ABC"), party("BE", "AAA")]))
        b = await u.partners.add(make_partner(roles=[party("NL", "ABC"), party("DE", "BBB")]))
        await u.commit()
    own = {a.id: ("BE", "AAA"), b.id: ("DE", "BBB")}
    events = {a.id: asyncio.Event(), b.id: asyncio.Event()}

    async def claim(partner_id: int, other: int) -> PartyConflict | None:
        async with uow() as u:
            try:
                await u.party_claims.claim(partner_id, [own[partner_id], ("nl", "abc")])
            except PartyConflict as exc:
                await u.partners.touch(partner_id, NOW, ConnectionStatus.OFFLINE)
                await u.commit()
                return exc
            events[partner_id].set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(events[other].wait(), HANDOFF)
            await u.commit()
            return None

    results = await asyncio.gather(claim(a.id, b.id), claim(b.id, a.id))
    refused = [r for r in results if r is not None]
    assert len(refused) == 1
    assert "NL-ABC" in str(refused[0])
    winner, loser = (a.id, b.id) if results[1] is not None else (b.id, a.id)
    async with uow(read_only=True) as u:
        assert await u.party_claims.holder("NL", "ABC") == winner
        assert await u.party_claims.holder(*own[winner]) == winner
        assert await u.party_claims.holder(*own[loser]) is None
        loser_row = await u.partners.get(loser)
    assert loser_row is not None and loser_row.status == ConnectionStatus.OFFLINE


async def test_read_only_unit_of_work_refuses_writes(uow: SqlUnitOfWorkFactory) -> None:
    """SQLite: PRAGMA query_only; PostgreSQL: a READ ONLY transaction. A writing unit of
    work on the same pooled connection afterwards writes normally."""
    partner_id = await _counter_partner(uow)
    async with uow(read_only=True) as u:
        assert await u.partners.get(partner_id) is not None
        with pytest.raises(DBAPIError, match="(?i)read.?only"):
            await u.partners.touch(partner_id, NOW, ConnectionStatus.OFFLINE)
    async with uow() as u:
        await u.partners.touch(partner_id, NOW, ConnectionStatus.OFFLINE)
        await u.commit()
    async with uow(read_only=True) as u:
        p = await u.partners.get(partner_id)
    assert p is not None and p.status == ConnectionStatus.OFFLINE


# --- SQLite: which lock each kind of unit of work takes -------------------------------


def _try_begin_immediate(path: str) -> bool:
    """Whether another connection could take the write lock right now (no waiting)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        conn.close()


@pytest.fixture
def sqlite_path(db_url: str) -> str:
    return _sqlite_path(db_url)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_writing_unit_of_work_takes_the_write_lock_when_it_starts(
    uow: SqlUnitOfWorkFactory, sqlite_path: str
) -> None:
    assert _try_begin_immediate(sqlite_path)
    async with uow() as u:
        # Nothing read or written yet: the lock is already held, through aiosqlite.
        assert not _try_begin_immediate(sqlite_path)
        await u.partners.list()
        assert not _try_begin_immediate(sqlite_path)
        await u.commit()
        assert _try_begin_immediate(sqlite_path)
        # Used again after commit, the session begins its next transaction the same way.
        await u.partners.list()
        assert not _try_begin_immediate(sqlite_path)
    assert _try_begin_immediate(sqlite_path)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_read_only_unit_of_work_reads_beside_a_writer(
    uow: SqlUnitOfWorkFactory, sqlite_path: str
) -> None:
    partner_id = await _counter_partner(uow)
    writer = sqlite3.connect(sqlite_path, timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE partner SET note = '5' WHERE id = ?", (partner_id,))

        async def read() -> int:
            async with uow(read_only=True) as u:
                count = await u.session.scalar(
                    text("SELECT note FROM partner WHERE id = :id"), {"id": partner_id}
                )
                # Holding a read snapshot does not keep the writer's lock from others.
                writer.execute("ROLLBACK")
                assert _try_begin_immediate(sqlite_path)
                return int(count)

        # busy_timeout is 30 s: a reader that queued behind the writer would time out here.
        assert await asyncio.wait_for(read(), 5) == 0
    finally:
        writer.close()
