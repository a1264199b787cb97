"""Schema comes from Alembic alone, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect

from evroam.storage.db import MIGRATIONS_DIR, alembic_config, create_engine, upgrade
from evroam.storage.tables import Base
from tests.storage.factories import NOW

ROOT = Path(__file__).resolve().parents[2]


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
    assert {
        "partner",
        "partner_role",
        "credentials_token",
        "client_info",
        "party_claim",
        "interop_quirk",
    } <= _tables(db_url)


def test_upgrade_is_idempotent_and_downgrade_works(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "base")
    assert _tables(db_url) <= {"alembic_version"}
    upgrade(db_url)
    assert "partner" in _tables(db_url)


# --- 0002: party claims back-filled from the partners that hold them ----------------------


def _seed_at_0001(db_url: str) -> None:
    """Partners as revision 0001 stored them (no party_claim table yet)."""
    partner = sa.table(
        "partner",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("endpoints", sa.JSON),
        sa.column("initiated_by_us", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    role = sa.table(
        "partner_role",
        sa.column("partner_id", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("role", sa.String),
        sa.column("country_code", sa.String),
        sa.column("party_id", sa.String),
        sa.column("business_details", sa.JSON),
    )
    token = sa.table(
        "credentials_token",
        sa.column("partner_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("token_hash", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    partners = [
        (1, "CONNECTED", [("NL", "ABC"), ("NL", "ABC"), ("BE", "OLD")]),  # CPO and EMSP
        (2, "SUSPENDED", [("DE", "SUS"), ("NL", "ABC")]),
        (3, "OFFLINE", [("nl", "abc")]),  # newer than 1: NL-ABC is its
        (4, "PLANNED", []),
        (5, "SUSPENDED", [("BE", "OLD")]),  # suspended: does not take BE-OLD from 1
    ]

    async def run() -> None:
        engine = create_engine(db_url)
        async with engine.begin() as conn:
            for pid, status, roles in partners:
                await conn.execute(
                    partner.insert().values(
                        id=pid,
                        status=status,
                        endpoints=[],
                        initiated_by_us=False,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
                for pos, (cc, party) in enumerate(roles):
                    await conn.execute(
                        role.insert().values(
                            partner_id=pid,
                            position=pos,
                            role="CPO" if pos == 0 else "EMSP",
                            country_code=cc,
                            party_id=party,
                            business_details={"name": party},
                        )
                    )
                await conn.execute(
                    token.insert().values(
                        partner_id=pid, kind="AUTH", token_hash=f"{pid:064d}", created_at=NOW
                    )
                )
        await engine.dispose()

    asyncio.run(run())


def _rows(db_url: str, sql: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = create_engine(db_url)
        async with engine.connect() as conn:
            rows = [tuple(r) for r in (await conn.execute(sa.text(sql))).all()]
        await engine.dispose()
        return rows

    return asyncio.run(run())


CLAIMS = "SELECT country_code, party_id, partner_id FROM party_claim ORDER BY 1, 2"


def test_upgrade_claims_the_parties_of_partners_not_suspended(db_url: str) -> None:
    upgrade(db_url, "0001")
    _seed_at_0001(db_url)
    upgrade(db_url)
    assert _rows(db_url, CLAIMS) == [("BE", "OLD", 1), ("NL", "ABC", 3)]
    assert _rows(db_url, "SELECT count(*) FROM party_claim WHERE claimed_at IS NULL") == [(0,)]
    assert _diff(db_url) == []


def test_downgrade_keeps_the_rows_of_tables_it_rebuilds(db_url: str) -> None:
    """On SQLite, batch mode rebuilds ``partner`` to drop a column; with foreign keys
    enforced, dropping the old table would cascade into roles and tokens."""
    upgrade(db_url, "0001")
    _seed_at_0001(db_url)
    upgrade(db_url)
    counts = "SELECT (SELECT count(*) FROM partner_role), (SELECT count(*) FROM credentials_token)"
    before = _rows(db_url, counts)
    command.downgrade(alembic_config(db_url), "0001")
    assert "party_claim" not in _tables(db_url)
    assert _rows(db_url, counts) == before == [(7, 5)]
    upgrade(db_url)
    assert _rows(db_url, CLAIMS) == [("BE", "OLD", 1), ("NL", "ABC", 3)]


# --- Alembic in the checkout: alembic.ini, the revision template, package data ------------


def _checkout_config() -> Config:
    return Config(str(ROOT / "alembic.ini"))


def test_alembic_ini_finds_one_head_and_holds_no_database_url() -> None:
    cfg = _checkout_config()
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, script.get_heads()
    assert cfg.get_main_option("sqlalchemy.url") is None
    for rev in script.walk_revisions():
        assert rev.path is not None
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_[a-z0-9_]+\.py", Path(rev.path).name)


def _ruff_clean(path: Path, pyproject: Path) -> None:
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--config", str(pyproject), str(path)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"ruff {args[0]}:\n{done.stdout}{done.stderr}"


def test_empty_revision_from_the_template_is_ruff_clean(tmp_path: Path) -> None:
    """The template alone, without the post-write hooks of alembic.ini."""
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "migrations")
    cfg = Config()
    cfg.set_main_option("script_location", str(tmp_path / "migrations"))
    template = _checkout_config().get_main_option("file_template")
    assert template is not None
    cfg.set_main_option("file_template", template.replace("%", "%%"))
    script = command.revision(cfg, message="nothing yet")
    assert isinstance(script, Script) and script.path is not None
    path = Path(script.path)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_nothing_yet\.py", path.name)
    head = ScriptDirectory.from_config(_checkout_config()).get_current_head()
    assert f'down_revision = "{head}"' in path.read_text()
    _ruff_clean(path, ROOT / "pyproject.toml")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_alembic_autogenerate_in_a_copy_of_the_checkout(db_url: str, tmp_path: Path) -> None:
    """``alembic -c alembic.ini revision --autogenerate`` as a developer runs it, in a copy
    holding only the first revision: it must find the database through ``-x db=...``
    (and through EVROAM_DATABASE_URL), write the later changes again with plain column
    types (no import of evroam), and the ruff hooks must leave the file clean."""
    shutil.copy(ROOT / "alembic.ini", tmp_path)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    migrations = tmp_path / "src" / "evroam" / "storage" / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    for later in (migrations / "versions").glob("*.py"):
        if not later.name.startswith("2026-11-23_initial"):
            later.unlink()
    upgrade(db_url, "0001")

    def alembic(*args: str, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(tmp_path / "alembic.ini"), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **env},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    env_url = {"EVROAM_DATABASE_URL": db_url}
    assert "0001" in alembic("current", **env_url)
    alembic("-x", f"db={db_url}", "revision", "--autogenerate", "-m", "catch up")
    (path,) = (migrations / "versions").glob("*_catch_up.py")
    source = path.read_text()
    assert "evroam" not in source
    for expected in (
        'op.create_table(\n        "party_claim"',
        'op.create_table(\n        "interop_quirk"',
        'sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True)',
        'sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)',
        'op.create_table(\n        "ocpi_object"',
    ):
        assert expected in source
    _ruff_clean(path, tmp_path / "pyproject.toml")


def test_package_data_ships_the_migrations() -> None:
    """The migrations directory is not a package: without package-data, an installed
    evroam has no env.py, template or revisions to migrate with."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["evroam"]
    package = ROOT / "src" / "evroam"
    for path in MIGRATIONS_DIR.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(package).as_posix()
        assert any(PurePosixPath(relative).match(p) for p in patterns), relative
