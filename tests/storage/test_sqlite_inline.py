"""SQLite on the event loop's thread (``storage/sqlite_inline.py``): no thread per
connection, SQLAlchemy's behaviour unchanged, and the one configuration that would hang
(two writers of one thread waiting for each other) refused."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from evroam.core.objects import ObjectKey
from evroam.core.types import ModuleId
from evroam.storage.db import create_engine, runs_inline, session_factory
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import make_partner

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def test_units_of_work_start_no_thread(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    """aiosqlite would start one thread per pooled connection; inline starts none."""
    assert runs_inline(engine)
    before = {t.ident for t in threading.enumerate()}
    async with uow() as u:
        await u.partners.add(make_partner())
        await u.commit()
    async with uow(read_only=True) as u:
        assert len(await u.partners.list()) == 1
        assert await u.objects.get(ModuleId.TOKENS, ObjectKey("DE", "MSP", "X", "RFID")) is None
    assert {t.ident for t in threading.enumerate()} <= before


async def test_threaded_engine_still_uses_aiosqlite(db_url: str) -> None:
    """The control: the same work on ``sqlite_threads=True`` starts a driver thread."""
    engine = create_engine(db_url, sqlite_threads=True)
    try:
        assert not runs_inline(engine)
        before = {t.ident for t in threading.enumerate()}
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            assert {t.ident for t in threading.enumerate()} - before
    finally:
        await engine.dispose()


async def test_errors_many_rows_and_streaming_behave_as_sqlalchemy_says(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
        await conn.execute(
            text("INSERT INTO t (k, v) VALUES (:k, :v)"),
            [{"k": i, "v": f"v{i}"} for i in range(50)],
        )
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (k, v) VALUES (1, 'again')"))
        await conn.rollback()
        stream = await conn.stream(text("SELECT v FROM t ORDER BY k"))
        seen = [row.v async for row in stream]
        assert seen == [f"v{i}" for i in range(50)]
        rows = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert rows == 50


async def test_an_inline_engine_refuses_writers_left_to_sqlite(engine: AsyncEngine) -> None:
    """Two writers of the loop's thread waiting in SQLite's busy handler would hold the
    loop for the whole busy timeout: the factory refuses to build that."""
    with pytest.raises(ValueError, match="serialize_writers"):
        SqlUnitOfWorkFactory(session_factory(engine), serialize_writers=False)


async def test_a_writer_waits_for_another_process_without_holding_the_loop(
    uow: SqlUnitOfWorkFactory, db_url: str
) -> None:
    """Another connection (as another process would: a CLI migration) holds the write
    lock for 0.5 s. A writing unit of work waits for it in asyncio sleeps, so other tasks
    keep running meanwhile, and then commits. Waiting in SQLite's busy handler instead
    would hold the loop's thread: the ticker would stand still, and the holder, released
    by the loop below, would never let go (the unit of work fails after 30 s)."""
    path = make_url(db_url).database
    assert path
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    asyncio.get_running_loop().call_later(0.5, holder.execute, "ROLLBACK")
    try:
        start = time.monotonic()
        async with asyncio.timeout(10):
            async with uow() as u:
                await u.partners.add(make_partner())
                await u.commit()
        waited = time.monotonic() - start
    finally:
        tick_task.cancel()
        holder.close()
    assert waited >= 0.45
    assert ticks >= 20  # about 50 ticks of 10 ms while the writer waited
    async with uow(read_only=True) as u:
        assert len(await u.partners.list()) == 1
