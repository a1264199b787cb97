"""Engine, session factory and migrations.

Nothing here runs at import: ``create_engine`` is called by ``create_app`` and by the
CLI with the settings they were given.

SQLite transactions
-------------------
pysqlite (and aiosqlite on top of it) only sends BEGIN before the first INSERT/UPDATE/
DELETE, so the SELECTs of a read-check-write run outside any transaction and two
concurrent units of work can both read the same state and both write ("lost update").
So the driver's own BEGIN is switched off (``isolation_level = None``) and the engine's
``begin`` event emits one that depends on the connection's :data:`TX_MODE` execution
option:

* ``"write"``: ``BEGIN IMMEDIATE`` takes the write lock before the first read, so a
  writing unit of work is serialised with every other writer from its start;
* ``"read"``: ``BEGIN`` (deferred) plus ``PRAGMA query_only``: with WAL, a reader never
  waits for a writer, and a write through it fails at once instead of racing;
* unset (migrations, ad-hoc connections): ``BEGIN``, writes allowed.

The units of work (``uow.py``) choose the mode; on PostgreSQL the option is ignored and
``read`` maps to a READ ONLY transaction instead.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from pathlib import Path
from typing import Any, Final, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from evroam.storage.sqlite_inline import inline_creator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: Execution option naming the kind of transaction a connection begins (SQLite).
TX_MODE: Final = "evroam_tx_mode"
TxMode = Literal["read", "write"]

#: Where ``alembic`` run from the checkout looks when given no ``-x db=...``.
DATABASE_URL_ENV: Final = "EVROAM_DATABASE_URL"
DEFAULT_DATABASE_URL: Final = "sqlite:///evroam.db"


def normalize_url(url: str) -> str:
    """Accept the URLs people type and pick the async driver for them.

    ``postgresql://`` and ``postgres://`` become ``postgresql+asyncpg://``; ``sqlite://``
    becomes ``sqlite+aiosqlite://``.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL as it may appear in logs: driver made explicit, password masked."""
    return make_url(normalize_url(url)).render_as_string(hide_password=True)


#: SQLite's busy timeout (seconds): how long a statement waits for another process's lock.
SQLITE_BUSY_TIMEOUT: Final = 30.0
#: The busy timeout of connections on the event loop's thread (``sqlite_inline.py``):
#: SQLite's busy handler sleeps on the thread that waits, so an inline connection waits
#: at most this long in it; a writing unit of work waits for the rest of
#: ``SQLITE_BUSY_TIMEOUT`` in asyncio sleeps between tries (``uow.py``), so the node
#: goes on serving while another process (a CLI migration) holds the write lock.
SQLITE_INLINE_BUSY_TIMEOUT: Final = 0.01

#: Engines whose SQLite connections run on the event loop's thread (``sqlite_inline.py``).
_INLINE_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def create_engine(
    url: str, *, foreign_keys: bool = True, sqlite_threads: bool = False, **kwargs: Any
) -> AsyncEngine:
    """The engine for ``url``; on SQLite with the transaction control described above.

    ``foreign_keys=False`` is for migrations only: SQLite's batch mode copies a table,
    drops the old one and renames the copy, and with enforcement on, dropping ``partner``
    would cascade into every table that references it.

    SQLite runs on the event loop's thread (``sqlite_inline.py`` says why) unless
    ``sqlite_threads`` asks for aiosqlite's thread per connection, which only tests of
    SQLite's own locking between writers of one process need.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    inline = is_sqlite and not sqlite_threads and "creator" not in kwargs
    if is_sqlite and not inline:
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT})
    if inline:
        kwargs.setdefault(
            "async_creator",
            inline_creator(parsed.database or ":memory:", timeout=SQLITE_INLINE_BUSY_TIMEOUT),
        )
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:
        busy = SQLITE_INLINE_BUSY_TIMEOUT if inline else SQLITE_BUSY_TIMEOUT
        _install_sqlite_transactions(engine, foreign_keys=foreign_keys, busy_timeout=busy)
    if inline:
        _INLINE_ENGINES.add(engine.sync_engine)
    return engine


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying another connection holds the lock."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text


def runs_inline(engine: AsyncEngine) -> bool:
    """Whether ``engine``'s SQLite statements run on the event loop's thread."""
    return engine.sync_engine in _INLINE_ENGINES


def _install_sqlite_transactions(
    engine: AsyncEngine, *, foreign_keys: bool, busy_timeout: float
) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # No BEGIN from the driver: ours below is the only one. COMMIT and ROLLBACK still
        # go through the driver, which sends them whenever a transaction is open.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # WAL lets readers run beside the writer; foreign keys are off by default.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(TX_MODE)
        # query_only is per connection and survives the transaction: set it only when
        # this transaction needs the other value than the last one on this connection.
        query_only = mode == "read"
        if conn.info.get("query_only", False) != query_only:
            conn.exec_driver_sql(f"PRAGMA query_only={'ON' if query_only else 'OFF'}")
            conn.info["query_only"] = query_only
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migration_url(x_db: str | None, configured: str | None) -> str:
    """The database Alembic works on: ``-x db=...``, else the URL the caller put in the
    config (``alembic_config``), else ``$EVROAM_DATABASE_URL``, else ``evroam.db``.
    alembic.ini deliberately holds none, so no URL with a password lands in the tree."""
    return normalize_url(
        x_db or configured or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    )


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations. Runs its own event loop, so call it outside one (or in a thread)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)
