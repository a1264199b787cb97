"""The real ``evroam`` console script, run as a subprocess against running nodes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.support import NodeProcess, free_port

NodeFactory = Callable[..., NodeProcess]

PARTNER_KEYS = {"id", "country_code", "party_id", "roles", "version", "status"}


def evroam_command() -> list[str]:
    script = Path(sys.executable).with_name("evroam")
    return [str(script)] if script.exists() else [sys.executable, "-m", "evroam"]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    clean.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    clean.update(env or {})
    result = subprocess.run(
        [*evroam_command(), *args],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert result.returncode == 0, f"evroam {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def on(node: NodeProcess) -> list[str]:
    return ["--node", node.url, "--admin-token", node.admin_token]


def run_json(*args: str, node: NodeProcess) -> Any:
    return json.loads(run(*args, *on(node), "--json").stdout)


@pytest.fixture
def cpo(node_factory: NodeFactory) -> NodeProcess:
    return node_factory("NL", "ABC", roles=("CPO",))


@pytest.fixture
def emsp(node_factory: NodeFactory) -> NodeProcess:
    return node_factory("DE", "MSP", roles=("EMSP",), admin_token="other-secret")


@pytest.fixture
def connected(cpo: NodeProcess, emsp: NodeProcess) -> dict[str, Any]:
    """The eMSP registered with the CPO through the CLI; returns the eMSP's view of the CPO."""
    invitation = run_json("partners", "invite", node=cpo)
    return dict(
        run_json(
            "partners",
            "register",
            "--versions-url",
            invitation["versions_url"],
            "--token",
            invitation["token"],
            node=emsp,
        )
    )


# --------------------------------------------------------------------------- no node needed


def test_serve_help_lists_the_options() -> None:
    out = run("serve", "--help").stdout
    for option in (
        "--db",
        "--host",
        "--port",
        "--public-url",
        "--country-code",
        "--party-id",
        "--role",
        "--name",
        "--admin-token",
        "--liveness-interval",
        "--log-level",
        "--access-log",
    ):
        assert option in out, option


def test_top_level_help_lists_the_commands() -> None:
    out = run("--help").stdout
    for command in ("serve", "db", "partners"):
        assert command in out
    out = run("partners", "--help").stdout
    for command in ("list", "show", "invite", "register", "update", "rotate-token", "reset"):
        assert command in out, command
    assert "unregister" in out


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = run("db", "upgrade", "--db", "sqlite:///x.db", cwd=tmp_path)
    assert "head" in result.stdout
    with closing(sqlite3.connect(tmp_path / "x.db")) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    tables = {row[0] for row in rows}
    assert {"partner", "partner_role", "credentials_token", "client_info"} <= tables
    assert len(version) == 1
    # Running it again is harmless.
    run("db", "upgrade", "--db", "sqlite:///x.db", cwd=tmp_path)


def test_db_upgrade_then_serve_without_auto_migrate(db_url: str, tmp_path: Path) -> None:
    run("db", "upgrade", "--db", db_url, cwd=tmp_path)
    node = NodeProcess(
        db_url,
        tmp_path,
        country_code="NL",
        party_id="ABC",
        extra_env={"EVROAM_AUTO_MIGRATE": "false"},
    )
    try:
        invitation = run_json("partners", "invite", node=node)
        assert invitation["token"]
    finally:
        node.stop()


def test_unreachable_node_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("partners", "list", "--node", url, "--admin-token", "x", ok=False)
    assert result.returncode != 0
    assert "cannot reach node" in result.stderr and url in result.stderr


def test_missing_admin_token_is_a_clear_error() -> None:
    result = run("partners", "list", "--node", "http://127.0.0.1:9", ok=False)
    assert result.returncode != 0
    assert "admin token" in result.stderr


# --------------------------------------------------------------------------- against nodes


def test_invite_prints_versions_url_and_token_as_json(cpo: NodeProcess) -> None:
    data = run_json("partners", "invite", "--note", "for DE-MSP", node=cpo)
    assert data["versions_url"] == cpo.versions_url
    assert isinstance(data["token"], str) and len(data["token"]) >= 32
    # The token works as token A on the node.
    assert cpo.ocpi("GET", "/ocpi/versions", data["token"]).status_code == 200
    shown = run_json("partners", "show", str(data["partner_id"]), node=cpo)
    assert shown["status"] == "PLANNED"
    assert shown["note"] == "for DE-MSP"


def test_register_performs_the_handshake(
    cpo: NodeProcess, emsp: NodeProcess, connected: dict[str, Any]
) -> None:
    assert connected["status"] == "CONNECTED"
    assert (connected["country_code"], connected["party_id"]) == ("NL", "ABC")
    assert connected["version"] == "2.2.1"
    their_view = cpo.api("GET", "/partners/DE-MSP", expect=200)
    assert their_view["status"] == "CONNECTED"


def test_list_and_show_print_json(
    cpo: NodeProcess, emsp: NodeProcess, connected: dict[str, Any]
) -> None:
    listed = run_json("partners", "list", node=emsp)
    assert isinstance(listed, list) and len(listed) == 1
    assert PARTNER_KEYS <= set(listed[0])
    assert listed[0]["roles"] == [
        {
            "country_code": "NL",
            "party_id": "ABC",
            "role": "CPO",
            "name": "evroam node",
            "website": None,
        }
    ]
    for ref in ("NL-ABC", "nl-abc", str(connected["id"])):
        shown = run_json("partners", "show", ref, node=emsp)
        assert shown["id"] == connected["id"], ref
        assert PARTNER_KEYS <= set(shown)
    assert "token_out" not in json.dumps(listed)


def test_list_and_show_print_tables_for_people(
    cpo: NodeProcess, emsp: NodeProcess, connected: dict[str, Any]
) -> None:
    table = run("partners", "list", *on(emsp)).stdout
    assert "NL-ABC" in table and "CONNECTED" in table and "2.2.1" in table
    shown = run("partners", "show", "NL-ABC", *on(emsp)).stdout
    assert "CONNECTED" in shown and "credentials" in shown


def test_update_rotate_reset_and_unregister_take_an_id_or_a_party(
    cpo: NodeProcess, emsp: NodeProcess, connected: dict[str, Any]
) -> None:
    pid = str(connected["id"])
    updated = run_json("partners", "update", "NL-ABC", "--note", "primary CPO", node=emsp)
    assert updated["status"] == "CONNECTED" and updated["note"] == "primary CPO"
    rotated = run_json("partners", "rotate-token", pid, node=emsp)
    assert rotated["status"] == "CONNECTED"
    # The CPO side, by party in lower case: unregister the eMSP.
    result = run_json("partners", "unregister", "de-msp", node=cpo)
    assert result["remote_ok"] is True
    assert result["partner"]["status"] == "SUSPENDED"
    assert emsp.api("GET", f"/partners/{pid}", expect=200)["status"] == "SUSPENDED"
    # After a breach: reset by id issues a new token A for the same partner.
    reset = run_json("partners", "reset", pid, node=emsp)
    assert reset["partner_id"] == connected["id"]
    assert reset["versions_url"] == emsp.versions_url and reset["token"]
    assert run_json("partners", "show", pid, node=emsp)["status"] == "PLANNED"


def test_unregister_without_json_warns_when_the_partner_did_not_confirm(
    cpo: NodeProcess, emsp: NodeProcess, connected: dict[str, Any]
) -> None:
    cpo.stop()
    result = run("partners", "unregister", "NL-ABC", *on(emsp))
    assert "SUSPENDED" in result.stdout
    assert "warning" in result.stderr and "did not confirm" in result.stderr


def test_node_and_admin_token_from_the_environment(cpo: NodeProcess) -> None:
    env = {"EVROAM_NODE": cpo.url, "EVROAM_ADMIN_TOKEN": cpo.admin_token}
    invitation = json.loads(run("partners", "invite", "--json", env=env).stdout)
    listed = json.loads(run("partners", "list", "--json", env=env).stdout)
    assert [p["id"] for p in listed] == [invitation["partner_id"]]
    # A flag wins over the environment.
    env["EVROAM_ADMIN_TOKEN"] = "wrong"
    run("partners", "list", "--json", "--admin-token", cpo.admin_token, env=env)


def test_wrong_admin_token_is_a_clear_error(cpo: NodeProcess) -> None:
    result = run("partners", "list", "--node", cpo.url, "--admin-token", "wrong", ok=False)
    assert result.returncode != 0
    assert "401" in result.stderr and "admin token" in result.stderr
    assert result.stdout == ""
    env = {"EVROAM_NODE": cpo.url, "EVROAM_ADMIN_TOKEN": "wrong"}
    result = run("partners", "invite", "--json", env=env, ok=False)
    assert result.returncode != 0 and "401" in result.stderr
    assert cpo.api("GET", "/partners", expect=200) == []


def test_unknown_partner_is_a_clear_error(cpo: NodeProcess) -> None:
    for ref in ("FR-XYZ", "42"):
        result = run("partners", "show", ref, *on(cpo), ok=False)
        assert result.returncode != 0
        assert "404" in result.stderr
    result = run("partners", "show", "not-a-party", *on(cpo), ok=False)
    assert result.returncode != 0


def test_register_failure_is_reported_and_nothing_is_stored(
    cpo: NodeProcess, emsp: NodeProcess
) -> None:
    result = run(
        "partners",
        "register",
        "--versions-url",
        cpo.versions_url,
        "--token",
        "not-a-valid-token-a",
        *on(emsp),
        ok=False,
    )
    assert result.returncode != 0
    assert "502" in result.stderr and "refused" in result.stderr
    assert run_json("partners", "list", node=emsp) == []
