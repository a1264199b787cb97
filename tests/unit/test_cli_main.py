"""The ``evroam`` command itself: version, help texts, and what ``serve`` hands to Settings."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.core import TyperArgument, TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

import evroam
from evroam.cli.main import app
from evroam.config import Settings

# Type names typer or click would print instead of a metavar.
TYPE_NAMES = re.compile(r"list\[|<\w+>|\b(TEXT|INTEGER|FLOAT|BOOLEAN|PATH)\b")


def commands() -> Iterator[tuple[list[str], Any]]:
    """Every command and group, with the words that reach it (``["partners", "show"]``)."""

    def walk(words: list[str], cmd: Any) -> Iterator[tuple[list[str], Any]]:
        yield words, cmd
        if isinstance(cmd, TyperGroup):
            for name, sub in cmd.commands.items():
                yield from walk([*words, name], sub)

    yield from walk([], get_command(app))


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"evroam {evroam.__version__}\n"


@pytest.mark.parametrize("words", [w for w, _ in commands()], ids=lambda w: " ".join(w) or "-")
def test_help_describes_every_argument_and_option_without_type_names(words: list[str]) -> None:
    cmd = dict((" ".join(w), c) for w, c in commands())[" ".join(words)]
    result = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not TYPE_NAMES.search(out), TYPE_NAMES.search(out)
    assert "Usage:" in out and "{" not in out.splitlines()[0]
    for param in cmd.params:
        assert param.help, f"{' '.join(words)}: {param.name} has no help"
        if isinstance(param, TyperArgument):
            assert param.metavar, param.name
            if param.name == "ref":
                assert param.metavar == "PARTNER" and "partner id or CC-PID" in param.help
        else:
            assert param.opts[0] in out
            if not param.is_flag:
                assert param.metavar and param.metavar.isupper(), param.name
                assert f"{param.opts[0]} {param.metavar}" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    if "Commands:" in out:  # no summary cut short
        assert not out.split("Commands:")[1].rstrip().endswith("..."), out
        assert "...\n" not in out.split("Commands:")[1], out


def test_every_partners_command_takes_the_admin_token_from_a_file() -> None:
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    sub = group.commands["partners"]
    assert isinstance(sub, TyperGroup)
    for name, cmd in sub.commands.items():
        opts = {o for p in cmd.params for o in p.opts}
        assert {"--admin-token", "--admin-token-file", "--node", "--json"} <= opts, name


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``serve`` up to the point where it would listen: what it built, nothing started."""
    import uvicorn

    import evroam.storage.db
    import evroam.web.app

    seen: dict[str, Any] = {}

    def create_app(settings: Settings) -> object:
        seen["settings"] = settings
        return object()

    monkeypatch.setattr(evroam.web.app, "create_app", create_app)
    monkeypatch.setattr(evroam.storage.db, "upgrade", lambda *a, **k: None)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.setdefault("run", k))
    monkeypatch.delenv("EVROAM_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("EVROAM_ADMIN_TOKEN_FILE", raising=False)
    return seen


def test_serve_passes_the_admin_token_file_to_settings(
    served: dict[str, Any], tmp_path: Path
) -> None:
    file = tmp_path / "admin-token"
    file.write_text("admin-secret-0123456789\n")
    result = CliRunner().invoke(
        app, ["serve", "--db", f"sqlite:///{tmp_path}/x.db", "--admin-token-file", str(file)]
    )
    assert result.exit_code == 0, result.output
    assert served["settings"].admin_token_file == file
    assert "run" in served


def test_serve_without_admin_token_file_leaves_it_unset(
    served: dict[str, Any], tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 0, result.output
    assert served["settings"].admin_token_file is None


def test_the_cli_loads_no_command_only_dependencies() -> None:
    """Every ``evroam`` command, ``serve`` in each node the tests start too, imports the
    whole CLI: what only some commands need (cryptography for the certificate commands,
    the OICP partner clients and the OCPI models they convert from) is imported inside
    those commands. A fresh interpreter, so that nothing imported by other tests counts."""
    code = (
        "import sys, evroam.cli.main\n"
        "heavy = ('cryptography', 'evroam.oicp.v2_3.partner', 'evroam.oicp.tls')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
