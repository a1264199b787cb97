"""The database URL's password never reaches the log, at start-up or in the migration
step. PostgreSQL on 127.0.0.1 uses trust auth, so a URL with a password still connects,
which lets the test run a real node with one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import NodeProcess, PgDatabases, pg_unavailable_reason

PASSWORD = "db-password-that-must-not-leak-42"


def test_database_password_is_not_logged(pg_databases: PgDatabases | None, tmp_path: Path) -> None:
    if pg_databases is None:
        pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
    url = pg_databases.create().replace("://postgres@", f"://postgres:{PASSWORD}@", 1)
    assert PASSWORD in url
    node = NodeProcess(url, tmp_path, country_code="NL", party_id="CPO")
    try:
        node.api("POST", "/partners/invite", {}, expect=201)
        log = node.log()
        assert "database postgresql+asyncpg://postgres:***@" in log
        assert PASSWORD not in log
    finally:
        node.stop()
