"""``evroam oicp partners`` as an operator runs it: a real CLI process against the
admin listener of a real hub (SQLite; the API's storage is covered on both backends by
the other modules)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.oicp_hub.support import ADMIN_TOKEN, HubProcess, Pki


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("hub-cli")
    process = HubProcess(f"sqlite+aiosqlite:///{workdir / 'hub.db'}", workdir, Pki(workdir))
    yield process
    process.stop()


def cli(hub: HubProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    env.update({"EVROAM_ADMIN_TOKEN": ADMIN_TOKEN, "COLUMNS": "200"})
    return subprocess.run(
        [sys.executable, "-m", "evroam", "oicp", "partners", *args, "--node", hub.admin_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )


def test_add_list_show_update_remove(hub: HubProcess) -> None:
    r = cli(
        hub,
        "add",
        "DE*CLI",
        "--role",
        "cpo",
        "--role",
        "EMP",
        "--allow-ip",
        "10.0.0.0/8",
        "--allow-ip",
        "2001:db8::1",
        "--endpoint",
        "https://cli.example.com/",
        "--name",
        "CLI Energy",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    added = json.loads(r.stdout)
    assert added["canonical_id"] == "DECLI"
    assert added["roles"] == ["CPO", "EMP"]
    assert added["allowed_networks"] == ["10.0.0.0/8", "2001:db8::1/128"]
    assert added["endpoint"] == "https://cli.example.com"
    assert added["cert_identity"] == "DE*CLI"

    r = cli(hub, "list")
    assert r.returncode == 0, r.stderr
    assert "DE*CLI" in r.stdout and "CLI Energy" in r.stdout
    listed = json.loads(cli(hub, "list", "--json").stdout)
    assert [p["partner_id"] for p in listed] == ["DE*CLI"]

    r = cli(hub, "show", "decli")
    assert r.returncode == 0, r.stderr
    assert "10.0.0.0/8, 2001:db8::1/128" in r.stdout
    assert json.loads(cli(hub, "show", "DE*CLI", "--json").stdout)["name"] == "CLI Energy"

    r = cli(hub, "update", "DE*CLI", "--any-ip", "--json")
    assert json.loads(r.stdout)["allowed_networks"] == []
    assert "any address" in cli(hub, "show", "DE*CLI").stdout

    r = cli(hub, "remove", "DE*CLI")
    assert r.returncode == 0 and "removed DE*CLI" in r.stdout
    r = cli(hub, "show", "DE*CLI")
    assert r.returncode == 1 and "(404)" in r.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("add", "DE*TOOLONG", "--role", "CPO"), 1, "is not an OperatorID"),
        (("add", "DE-ABC", "--role", "CPO"), 1, "is not an OperatorID"),
        (("add", "+49*123", "--role", "EMP"), 1, "is not a ProviderID"),
        (("add", "DE*ABC", "--role", "HUB"), 2, "is not CPO or EMP"),
        (("add", "DE*ABC", "--role", "CPO", "--allow-ip", "10.0.0.1/8"), 1, "10.0.0.1/8"),
        (("add", "DE*ABC", "--role", "CPO", "--allow-ip", "example.com"), 1, "example.com"),
        (("add", "DE*ABC", "--role", "CPO", "--endpoint", "ftp://x.example"), 1, "endpoint"),
        (("show", "../node"), 2, "is not an OperatorID or ProviderID"),
    ],
)
def test_refusals(hub: HubProcess, args: tuple[str, ...], code: int, message: str) -> None:
    r = cli(hub, *args)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert message in r.stderr
    assert "DE*ABC" not in cli(hub, "list").stdout


def test_duplicate_id_in_another_spelling_is_refused(hub: HubProcess) -> None:
    assert cli(hub, "add", "DE*DUP", "--role", "CPO").returncode == 0
    r = cli(hub, "add", "dedup", "--role", "CPO")
    assert r.returncode == 1 and "(409)" in r.stderr
    assert cli(hub, "remove", "DEDUP").returncode == 0


def test_hostile_partner_name_is_printed_as_text(hub: HubProcess) -> None:
    hostile = "[bold red]Evil[/] \u202eCorp"
    r = cli(hub, "add", "DE*EVL", "--role", "CPO", "--name", hostile)
    # Control characters are refused at the API; markup is just text.
    assert r.returncode == 1 and "control characters" in r.stderr
    r = cli(hub, "add", "DE*EVL", "--role", "CPO", "--name", "[bold red]Evil[/] Corp")
    assert r.returncode == 0, r.stderr
    assert "[bold red]Evil[/] Corp" in r.stdout
    assert "\x1b" not in r.stdout
    assert "[bold red]Evil[/] Corp" in cli(hub, "list").stdout
    # A name that reached the store some other way (an older version, a hand edit) is
    # printed with its control characters escaped.
    db = hub.db_url.split("///", 1)[1]
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "UPDATE oicp_partner SET name = ? WHERE canonical_id = 'DEEVL'",
            ("\x1b[2JEvil\u202e",),
        )
    for args in (("show", "DE*EVL"), ("list",)):
        r = cli(hub, *args)
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout and "\u202e" not in r.stdout
        assert "\\x1b[2JEvil\\u202e" in r.stdout
    cli(hub, "remove", "DE*EVL")
