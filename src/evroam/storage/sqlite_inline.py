"""SQLite for SQLAlchemy's asyncio engine without a thread per connection.

Why: aiosqlite runs every call on a thread of its own and hands the result back through
the event loop. Each hand-over costs 50-80 µs here, and SQLAlchemy makes three or four of
them per statement (cursor, execute, fetch, close), so a unit of work of five statements
spent 1.3-1.4 ms waiting for threads, while SQLite itself answers an indexed point query
in about a microsecond (measured 2026-11-25, ``bench/functional.py`` and a loop of
``select 1``: 53-80 µs through aiosqlite against 0.9 µs on the connection itself). Every
request that touched the database was bound by that latency.

So the node talks to SQLite on the event loop's own thread: this module is a small
stand-in for the part of ``aiosqlite.Connection`` that SQLAlchemy's aiosqlite dialect
uses (``sqlalchemy.dialects.sqlite.aiosqlite``), handed to ``create_async_engine`` as its
public ``async_creator``; every method does its work at once and returns an awaitable
that is already done. The dialect, its SQL and its type handling stay SQLAlchemy's own.

What that asks of the rest of the node, and why it holds:

* A call blocks the loop for as long as SQLite works. In WAL mode a reader never waits
  for a writer, and the node's writers queue on an asyncio lock before ``BEGIN
  IMMEDIATE`` (``uow.py``), so a statement waits for SQLite's lock only while another
  *process* writes (a CLI command, a migration). SQLite's busy handler sleeps on the
  thread that waits, so inline connections give up after 10 ms
  (``db.SQLITE_INLINE_BUSY_TIMEOUT``) and a writing unit of work tries again after
  asyncio sleeps, up to the usual 30 s: the node goes on serving meanwhile.
  Two writers of this process must never be left to wait for each other in SQLite: the
  first would hold the lock while the second held the thread. That is why
  ``SqlUnitOfWorkFactory`` refuses an inline engine without its writer queue, and tests
  of SQLite's own locking use the threaded driver (``create_engine(...,
  sqlite_threads=True)``).
* Large reads (a page of 1,000 locations) hold the loop for the milliseconds they take;
  they held the interpreter lock for the same time on the worker thread before.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any


class _Done:
    """An awaitable that is already finished with ``value``: awaiting it never yields
    to the loop (unlike a coroutine-wrapped future, it costs no loop turn)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # pragma: no cover - makes this a generator; never reached


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's dialect feeds directly
    to change ``isolation_level``: the function runs at once and settles the future."""

    __slots__ = ()

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiter, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineCursor:
    """A ``sqlite3.Cursor`` behind aiosqlite's async cursor methods."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def __aenter__(self) -> _Done:
        return _Done(self)

    def __aexit__(self, *exc: object) -> _Done:
        self._cursor.close()
        return _Done(None)

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Done:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return _Done(self)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Done:
        self._cursor.executemany(sql, parameters)
        return _Done(self)

    def fetchone(self) -> _Done:
        return _Done(self._cursor.fetchone())

    def fetchmany(self, size: int | None = None) -> _Done:
        rows = self._cursor.fetchmany() if size is None else self._cursor.fetchmany(size)
        return _Done(rows)

    def fetchall(self) -> _Done:
        return _Done(self._cursor.fetchall())

    def close(self) -> _Done:
        self._cursor.close()
        return _Done(None)

    def __aiter__(self) -> InlineCursor:
        return self

    def __anext__(self) -> _Done:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return _Done(row)


class InlineConnection:
    """A ``sqlite3.Connection`` behind the part of ``aiosqlite.Connection`` that
    SQLAlchemy's aiosqlite dialect uses (``_conn``, ``_connection`` and ``_tx`` are what
    it reaches into)."""

    __slots__ = ("_conn", "_connection", "_tx")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Done:
        cursor = self.cursor()
        cursor.execute(sql, parameters)
        return _Done(cursor)

    def commit(self) -> _Done:
        self._conn.commit()
        return _Done(None)

    def rollback(self) -> _Done:
        self._conn.rollback()
        return _Done(None)

    def create_function(self, *args: Any, **kwargs: Any) -> _Done:
        self._conn.create_function(*args, **kwargs)
        return _Done(None)

    def close(self) -> _Done:
        self.stop()
        return _Done(None)

    def stop(self) -> None:
        """Close now (SQLAlchemy's forced terminate); closing twice is harmless."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_creator(database: str, *, timeout: float) -> Callable[[], Any]:
    """The ``async_creator`` for ``create_async_engine``: opens ``database`` on the
    calling thread. ``check_same_thread`` is off only because SQLAlchemy may close a
    connection it garbage-collects from another thread; it is used on the loop's."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(
            database, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        return InlineConnection(conn)

    return connect
