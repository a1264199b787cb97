"""Schema comes from Alembic alone, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from evroam.storage.db import alembic_config, create_engine, upgrade
from evroam.storage.tables import Base


def _diff(db_url: str) -> list:
    async def run() -> list:
        engine = create_engine(db_url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        await engine.dispose()
        return diff

    return asyncio.run(run())


def _tables(db_url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(db_url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(run())


def test_upgrade_head_matches_models(db_url: str) -> None:
    upgrade(db_url)
    assert _diff(db_url) == []
    assert {"partner", "partner_role", "credentials_token", "client_info"} <= _tables(db_url)


def test_upgrade_is_idempotent_and_downgrade_works(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "base")
    assert _tables(db_url) <= {"alembic_version"}
    upgrade(db_url)
    assert "partner" in _tables(db_url)
