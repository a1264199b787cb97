"""Shared fixtures: a database URL per backend (SQLite, PostgreSQL) and real node processes.

Tests that take ``db_url`` (or ``node_factory``) run once per backend; the PostgreSQL run
skips with the reason when no server is reachable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import NodeProcess, PgDatabases, pg_unavailable_reason


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    reason = pg_unavailable_reason()
    if reason is not None:
        yield None
        return
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url_factory(
    backend: str, pg_databases: PgDatabases | None, tmp_path: Path
) -> Callable[[], str]:
    """Makes a new, empty database on the current backend at each call."""
    counter = iter(range(1000))

    if backend == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        return pg_databases.create

    def sqlite() -> str:
        return f"sqlite+aiosqlite:///{tmp_path / f'node{next(counter)}.db'}"

    return sqlite


@pytest.fixture
def db_url(db_url_factory: Callable[[], str]) -> str:
    return db_url_factory()


@pytest.fixture
def node_factory(
    db_url_factory: Callable[[], str], tmp_path: Path
) -> Iterator[Callable[..., NodeProcess]]:
    """Start real ``evroam serve`` processes; all are stopped after the test."""
    nodes: list[NodeProcess] = []

    def start(country_code: str, party_id: str, **kwargs: object) -> NodeProcess:
        node = NodeProcess(
            db_url_factory(), tmp_path, country_code=country_code, party_id=party_id, **kwargs
        )  # type: ignore[arg-type]
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.stop()
