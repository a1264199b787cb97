"""Alembic environment: async engines, batch mode so ALTERs work on SQLite too.

The database comes from ``-x db=URL``, else from the URL ``storage.db.alembic_config``
put in the config, else ``$EVROAM_DATABASE_URL``, else ``sqlite:///evroam.db``: the
checkout's alembic.ini holds none (see ``storage.db.migration_url``).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from evroam.storage.db import create_engine, migration_url
from evroam.storage.tables import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None:
    # Only when run from an ini file (the alembic command); keep the host's loggers.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write UtcDateTime as the plain column type it is in the database: a migration
    must not import application code, which changes after the migration is written."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _url() -> str:
    x_db = context.get_x_argument(as_dictionary=True).get("db")
    return migration_url(x_db, config.get_main_option("sqlalchemy.url"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        # True on SQLite too: create_engine makes BEGIN explicit there, so a migration
        # that fails half-way leaves the schema as it was.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "sqlite":
        # Foreign keys are not enforced while migrating (see create_engine); check that
        # the result is consistent before it is committed.
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"migration left rows with dangling foreign keys: {broken}")


async def _run_async() -> None:
    # The driver's own thread and the full busy timeout: a migration may wait for a running
    # node's writes, and runs on a thread of its own anyway.
    engine = create_engine(_url(), foreign_keys=False, poolclass=NullPool, sqlite_threads=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
