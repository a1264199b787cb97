"""One hub process per test module and backend (SQLite, PostgreSQL), with its PKI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.oicp_hub.support import HubProcess, Pki
from tests.support import PgDatabases, pg_unavailable_reason


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def hub(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_databases: PgDatabases | None,
) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp(f"hub-{request.param}")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        db_url = pg_databases.create()
    else:
        db_url = f"sqlite+aiosqlite:///{workdir / 'hub.db'}"
    process = HubProcess(db_url, workdir, Pki(workdir / "pki"))
    yield process
    process.stop()
