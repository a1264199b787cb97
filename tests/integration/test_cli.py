"""The real ``evroam`` console script, run as a subprocess against running nodes.

Most tests share one module-scoped setup (``shared``): a CPO node and an eMSP node that
registered with it through the CLI, and a fake hub platform whose business name, website
and note carry Rich markup and control characters. Tests on it leave its partners as they
are (some add and remove invitations of their own). Tests that change a partner start
their own nodes.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import evroam
from tests.integration.fake_partner import FakePartner
from tests.support import NodeProcess, free_port

CPO_TOKEN = "cpo-admin-secret-0123456789"
EMSP_TOKEN = "emsp-admin-secret-0123456789"
# What a partner may announce as its business name (OCPI refuses C0 controls, not C1 ones:
# 0x9b is a one-byte CSI) and website (any non-space characters), and what an operator may
# write into a note. Each is longer than an 80-column line.
EVIL_NAME = "[/x] [bold]Evil[/bold] \x9b2J Hub " + "x" * 60
EVIL_SITE = "https://evil.example/\x1b]0;pwned\x07/\x1b[2J/" + "p" * 80
EVIL_NOTE = "[red]hub[/red] \x1b[2J " + "n" * 80
ESCAPES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")

PARTNER_KEYS = {"id", "country_code", "party_id", "roles", "version", "status"}
PARTNERS_COMMANDS = (
    "list",
    "show",
    "invite",
    "register",
    "update",
    "rotate-token",
    "reset",
    "unregister",
    "delete",
    "uninvite",
    "client-info",
)


def evroam_command() -> list[str]:
    script = Path(sys.executable).with_name("evroam")
    return [str(script)] if script.exists() else [sys.executable, "-m", "evroam"]


def run(
    *args: str,
    env: dict[str, str | None] | None = None,
    cwd: Path | None = None,
    ok: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``evroam args`` with output through a pipe; ``env`` adds variables (None removes);
    ``stdin`` is fed to the command."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    for key in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        clean.pop(key, None)
    clean.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    for key, value in (env or {}).items():
        if value is None:
            clean.pop(key, None)
        else:
            clean[key] = value
    result = subprocess.run(
        [*evroam_command(), *args],
        env=clean,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert result.returncode == 0, f"evroam {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def on(node: NodeProcess) -> list[str]:
    return ["--node", node.url, "--admin-token", node.admin_token]


def run_json(*args: str, node: NodeProcess, env: dict[str, str | None] | None = None) -> Any:
    return json.loads(run(*args, *on(node), "--json", env=env).stdout)


def stripped_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines()]


def escaped(value: str) -> str:
    """How the CLI shows a partner's text: control characters as ``\\xNN``."""
    return ESCAPES.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def start_node(workdir: Path, cc: str, pid: str, role: str, token: str, **kw: Any) -> NodeProcess:
    db = f"sqlite+aiosqlite:///{workdir / f'{cc}{pid}-{free_port()}.db'}"
    return NodeProcess(
        db, workdir, country_code=cc, party_id=pid, roles=(role,), admin_token=token, **kw
    )


# --------------------------------------------------------------------------- shared nodes


@dataclass
class Shared:
    cpo: NodeProcess  # NL-ABC
    emsp: NodeProcess  # DE-MSP, registered with the CPO through the CLI
    hub: FakePartner  # DE-EVL, a hub registered with the CPO, with the EVIL_* texts
    emsp_view: dict[str, Any]  # the eMSP's view of the CPO, as `partners register` printed it


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    workdir = tmp_path_factory.mktemp("cli")
    started: list[NodeProcess] = []
    hub = FakePartner("DE", "EVL", "HUB", EVIL_NAME)
    try:
        # No liveness polls: a test that runs past the 5-minute interval on a slow
        # machine would see last_connection move without any command reaching a partner.
        quiet = ("--liveness-interval", "0")
        cpo = start_node(workdir, "NL", "ABC", "CPO", CPO_TOKEN, extra_args=quiet)
        started.append(cpo)
        emsp = start_node(workdir, "DE", "MSP", "EMSP", EMSP_TOKEN, extra_args=quiet)
        started.append(emsp)
        invitation = run_json("partners", "invite", node=cpo)
        # Token A from the environment: it stays out of the process list.
        emsp_view = run_json(
            "partners",
            "register",
            "--versions-url",
            invitation["versions_url"],
            node=emsp,
            env={"EVROAM_TOKEN_A": invitation["token"]},
        )
        hub.start()
        invitation = cpo.api("POST", "/partners/invite", {"note": EVIL_NOTE}, expect=201)
        r = hub.register_with(
            invitation["versions_url"],
            invitation["token"],
            business_details={"name": EVIL_NAME, "website": EVIL_SITE},
        )
        assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
        url = f"{hub.node_endpoint('hubclientinfo', 'RECEIVER')}/NL/XYZ"
        info = {
            "party_id": "XYZ",
            "country_code": "NL",
            "role": "CPO",
            "status": "CONNECTED",
            "last_updated": "2026-11-20T10:00:00Z",
        }
        r = hub.call_node("PUT", url, json_body=info)
        assert r.status_code in (200, 201), r.text
        yield Shared(cpo, emsp, hub, dict(emsp_view))
    finally:
        hub.stop()
        for node in started:
            node.stop()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Nodes of one test (SQLite), for tests that change partners; stopped at its end."""
    nodes: list[NodeProcess] = []

    def start(cc: str, pid: str, role: str, token: str, **kw: Any) -> NodeProcess:
        nodes.append(start_node(tmp_path, cc, pid, role, token, **kw))
        return nodes[-1]

    yield start
    for node in nodes:
        node.stop()


# --------------------------------------------------------------------------- no node needed


def test_version() -> None:
    assert run("--version").stdout == f"evroam {evroam.__version__}\n"


def test_serve_help_lists_the_options() -> None:
    out = run("serve", "--help", env={"COLUMNS": "80"}).stdout
    for option in (
        "--db URL",
        "--host ADDRESS",
        "--port PORT",
        "--public-url URL",
        "--country-code CC",
        "--party-id PID",
        "--role ROLE",
        "--name NAME",
        "--admin-token TOKEN",
        "--admin-token-file FILE",
        "--liveness-interval SECONDS",
        "--log-level LEVEL",
        "--access-log",
    ):
        assert option in out, option
    assert "list[" not in out and "<" not in out


def test_top_level_help_lists_the_commands() -> None:
    out = run("--help").stdout
    for command in ("serve", "db", "partners", "--version"):
        assert command in out
    out = run("partners", "--help").stdout
    for command in PARTNERS_COMMANDS:
        assert re.search(rf"^  {command} ", out, re.M), command


@pytest.mark.parametrize("command", PARTNERS_COMMANDS)
def test_partners_help_describes_each_option_without_type_names(command: str) -> None:
    out = run("partners", command, "--help", env={"COLUMNS": "80"}).stdout
    assert "list[" not in out and not re.search(r"<\w+>|\bTEXT\b", out), out
    for option in ("--node URL", "--admin-token TOKEN", "--admin-token-file FILE", "--json"):
        assert re.search(rf"^  {re.escape(option)} +\S", out, re.M), (option, out)
    if command not in ("list", "invite", "register"):
        assert re.search(r"^  PARTNER +partner id or CC-PID", out, re.M), out
    for line in out.splitlines():  # each option line has its description
        if line.startswith("  --"):
            assert re.match(r"^  --\S+( [A-Z]+| / --\S+)? {2,}\S", line), line


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
        admin_token=CPO_TOKEN,
        extra_env={"EVROAM_AUTO_MIGRATE": "false"},
    )
    try:
        invitation = run_json("partners", "invite", node=node)
        assert invitation["token"]
    finally:
        node.stop()


def test_unreachable_node_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("partners", "list", "--node", url, "--admin-token", CPO_TOKEN, ok=False)
    assert result.returncode != 0
    assert "cannot reach node" in result.stderr and url in result.stderr


def test_missing_admin_token_is_a_clear_error() -> None:
    result = run("partners", "list", "--node", "http://127.0.0.1:9", ok=False)
    assert result.returncode != 0
    assert "admin token" in result.stderr and "--admin-token-file" in result.stderr


# --------------------------------------------------------------------------- shared nodes


def test_register_performs_the_handshake(shared: Shared) -> None:
    assert shared.emsp_view["status"] == "CONNECTED"
    assert (shared.emsp_view["country_code"], shared.emsp_view["party_id"]) == ("NL", "ABC")
    assert shared.emsp_view["version"] == "2.2.1"
    their_view = shared.cpo.api("GET", "/partners/DE-MSP", expect=200)
    assert their_view["status"] == "CONNECTED"


def test_list_and_show_print_json(shared: Shared) -> None:
    listed = run_json("partners", "list", node=shared.emsp)
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
    for ref in ("NL-ABC", "nl-abc", "NL*ABC", str(shared.emsp_view["id"])):
        shown = run_json("partners", "show", ref, node=shared.emsp)
        assert shown["id"] == shared.emsp_view["id"], ref
        assert PARTNER_KEYS <= set(shown)
    assert "token_out" not in json.dumps(listed)


def test_list_and_show_print_tables_for_people(shared: Shared) -> None:
    table = run("partners", "list", *on(shared.emsp)).stdout
    assert "NL-ABC" in table and "CONNECTED" in table and "2.2.1" in table
    shown = run("partners", "show", "NL-ABC", *on(shared.emsp)).stdout
    assert "CONNECTED" in shown and "credentials" in shown


def test_partner_text_is_printed_as_text(shared: Shared) -> None:
    """Markup in a partner's name prints as written (it crashed `show`); escape sequences
    in its name, website and note are shown escaped, never sent to the terminal."""
    for args in (("show", "DE-EVL"), ("list",)):
        result = run("partners", *args, *on(shared.cpo))
        assert not ESCAPES.search(result.stdout), (args, result.stdout)
    shown = run("partners", "show", "DE-EVL", *on(shared.cpo)).stdout
    assert f"party DE-EVL HUB: {escaped(EVIL_NAME)}" in shown
    assert "[/x] [bold]Evil[/bold] \\x9b2J Hub" in shown
    assert escaped(EVIL_SITE) in stripped_lines(shown)
    assert escaped(EVIL_NOTE) in shown
    # --json keeps the values, escaped the JSON way.
    data = run_json("partners", "show", "DE-EVL", node=shared.cpo)
    assert data["roles"][0]["name"] == EVIL_NAME and data["roles"][0]["website"] == EVIL_SITE
    raw = run("partners", "show", "DE-EVL", "--json", *on(shared.cpo)).stdout
    assert not ESCAPES.search(raw)


def test_output_fits_80_columns_through_a_pipe(shared: Shared) -> None:
    """Through a pipe at 80 columns, with a terminal type that has colours: no escape codes,
    no ellipsis, each URL whole on its own line, the long name whole on its line."""
    env: dict[str, str | None] = {"COLUMNS": "80", "NO_COLOR": None, "TERM": "xterm-256color"}
    for ref in ("DE-EVL", "DE-MSP"):
        data = run_json("partners", "show", ref, node=shared.cpo)
        out = run("partners", "show", ref, *on(shared.cpo), env=env).stdout
        assert not ESCAPES.search(out) and "…" not in out, out
        lines = stripped_lines(out)
        urls = [data["versions_url"]] + [e["url"] for e in data["endpoints"]]
        urls += [r["website"] for r in data["roles"] if r["website"]]
        for url in urls:
            assert escaped(url) in lines, (url, out)
        for r in data["roles"]:
            assert (
                f"party {r['country_code']}-{r['party_id']} {r['role']}: " + escaped(r["name"])
                in lines
            ), out
    for args in (("list",), ("client-info", "DE-EVL")):
        out = run("partners", *args, *on(shared.cpo), env=env, ok=False).stdout
        assert not ESCAPES.search(out) and "…" not in out, out
        assert all(len(line) <= 80 for line in out.splitlines()), out
    listed = run("partners", "list", *on(shared.cpo), env=env).stdout
    assert "DE-EVL" in listed and "DE-MSP" in listed
    # Even on a colour terminal, dates are not highlighted: only the title is styled.
    env = {"FORCE_COLOR": "1", "NO_COLOR": None, "TERM": "xterm-256color"}
    colour = run("partners", "show", "DE-MSP", *on(shared.cpo), env=env).stdout
    assert "\x1b[" in colour.splitlines()[0]
    for line in colour.splitlines()[1:]:
        assert "\x1b" not in line, line


def test_partner_reference_cannot_reach_another_endpoint(shared: Shared) -> None:
    before = shared.emsp.api("GET", "/partners", expect=200)
    for ref in ("../node", "1/reset", "..", "1%2Freset", "NL-ABC/rotate-token"):
        for command in ("show", "update", "rotate-token", "reset", "unregister", "delete"):
            result = run("partners", command, ref, *on(shared.emsp), ok=False)
            assert result.returncode == 2, (command, ref, result.stderr)
            assert "is not a partner" in result.stderr
    after = shared.emsp.api("GET", "/partners", expect=200)
    assert [(p["id"], p["status"]) for p in after] == [(p["id"], p["status"]) for p in before]
    assert after[0]["last_connection"] == before[0]["last_connection"]


def test_admin_token_from_a_file_or_the_environment(shared: Shared, tmp_path: Path) -> None:
    file = tmp_path / "admin-token"
    file.write_text(CPO_TOKEN + "\n")
    node = ["--node", shared.cpo.url]
    listed = json.loads(
        run("partners", "list", *node, "--admin-token-file", str(file), "--json").stdout
    )
    assert {"DE-MSP", "DE-EVL"} <= {f"{p['country_code']}-{p['party_id']}" for p in listed}
    env: dict[str, str | None] = {
        "EVROAM_NODE": shared.cpo.url,
        "EVROAM_ADMIN_TOKEN_FILE": str(file),
    }
    assert json.loads(run("partners", "list", "--json", env=env).stdout) == listed
    env = {"EVROAM_NODE": shared.cpo.url, "EVROAM_ADMIN_TOKEN": CPO_TOKEN}
    assert json.loads(run("partners", "list", "--json", env=env).stdout) == listed
    # A flag wins over the environment.
    env["EVROAM_ADMIN_TOKEN"] = "wrong-admin-token-0123456789"
    run("partners", "list", "--json", "--admin-token-file", str(file), env=env)
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong-admin-token-0123456789\n")
    result = run("partners", "list", *node, "--admin-token-file", str(wrong), ok=False)
    assert result.returncode == 1 and "401" in result.stderr


def test_invite_prints_versions_url_and_token_as_json(shared: Shared) -> None:
    data = run_json("partners", "invite", "--note", "for DE-MSP", node=shared.cpo)
    assert data["versions_url"] == shared.cpo.versions_url
    assert isinstance(data["token"], str) and len(data["token"]) >= 32
    # The token works as token A on the node.
    assert shared.cpo.ocpi("GET", "/ocpi/versions", data["token"]).status_code == 200
    shown = run_json("partners", "show", str(data["partner_id"]), node=shared.cpo)
    assert shown["status"] == "PLANNED"
    assert shown["note"] == "for DE-MSP"
    text = run("partners", "invite", *on(shared.cpo)).stdout
    lines = stripped_lines(text)
    assert shared.cpo.versions_url in lines
    token = lines[lines.index("token A:") + 1]
    assert shared.cpo.ocpi("GET", "/ocpi/versions", token).status_code == 200


def test_wrong_admin_token_is_a_clear_error(shared: Shared) -> None:
    before = shared.cpo.api("GET", "/partners", expect=200)
    wrong = "wrong-admin-token-0123456789"
    result = run("partners", "list", "--node", shared.cpo.url, "--admin-token", wrong, ok=False)
    assert result.returncode != 0
    assert "401" in result.stderr and "admin token" in result.stderr
    assert result.stdout == ""
    env: dict[str, str | None] = {"EVROAM_NODE": shared.cpo.url, "EVROAM_ADMIN_TOKEN": wrong}
    result = run("partners", "invite", "--json", env=env, ok=False)
    assert result.returncode != 0 and "401" in result.stderr
    assert len(shared.cpo.api("GET", "/partners", expect=200)) == len(before)


def test_unknown_partner_is_a_clear_error(shared: Shared) -> None:
    for ref in ("FR-XYZ", "4242"):
        result = run("partners", "show", ref, *on(shared.cpo), ok=False)
        assert result.returncode == 1
        assert "404" in result.stderr
    result = run("partners", "show", "not-a-party", *on(shared.cpo), ok=False)
    assert result.returncode == 2 and "is not a partner" in result.stderr


def test_register_failure_is_reported_and_nothing_is_stored(shared: Shared, tmp_path: Path) -> None:
    before = run_json("partners", "list", node=shared.emsp)
    token_file = tmp_path / "token-a"
    token_file.write_text("not-a-valid-token-a\n")
    result = run(
        "partners",
        "register",
        "--versions-url",
        shared.cpo.versions_url,
        "--token-file",
        str(token_file),
        *on(shared.emsp),
        ok=False,
    )
    assert result.returncode != 0
    assert "502" in result.stderr and "refused" in result.stderr
    assert run_json("partners", "list", node=shared.emsp) == before


def test_uninvite_withdraws_an_unused_token_a(shared: Shared) -> None:
    invitation = run_json("partners", "invite", node=shared.cpo)
    pid = str(invitation["partner_id"])
    out = run("partners", "uninvite", pid, *on(shared.cpo)).stdout
    assert f"uninvited: partner {pid}: its token A no longer works" in out
    assert shared.cpo.ocpi("GET", "/ocpi/versions", invitation["token"]).status_code == 401
    # Never registered: the partner went with its token A.
    result = run("partners", "show", pid, *on(shared.cpo), ok=False)
    assert result.returncode == 1 and "404" in result.stderr


def test_delete_removes_an_unregistered_partner_only(shared: Shared) -> None:
    invitation = run_json("partners", "invite", node=shared.cpo)
    pid = str(invitation["partner_id"])
    assert f"deleted: partner {pid}" in run("partners", "delete", pid, *on(shared.cpo)).stdout
    result = run("partners", "show", pid, *on(shared.cpo), ok=False)
    assert result.returncode == 1 and "404" in result.stderr
    assert shared.cpo.ocpi("GET", "/ocpi/versions", invitation["token"]).status_code == 401
    # A registered partner is refused, with the node's reason.
    result = run("partners", "delete", "DE-MSP", *on(shared.cpo), ok=False)
    assert result.returncode == 1 and "(409)" in result.stderr
    assert shared.cpo.api("GET", "/partners/DE-MSP", expect=200)["status"] == "CONNECTED"


def test_client_info_lists_what_a_hub_reported(shared: Shared) -> None:
    out = run("partners", "client-info", "DE-EVL", *on(shared.cpo)).stdout
    assert "NL-XYZ" in out and "CPO" in out and "CONNECTED" in out
    data = run_json("partners", "client-info", "DE-EVL", node=shared.cpo)
    assert [(c["country_code"], c["party_id"], c["role"]) for c in data] == [("NL", "XYZ", "CPO")]


# --------------------------------------------------------------------------- own nodes


def test_update_rotate_reset_and_unregister_take_an_id_or_a_party(
    fresh: Callable[..., NodeProcess], tmp_path: Path
) -> None:
    cpo = fresh("NL", "ABC", "CPO", CPO_TOKEN)
    emsp = fresh("DE", "MSP", "EMSP", EMSP_TOKEN)
    invitation = run_json("partners", "invite", node=cpo)
    token_file = tmp_path / "token-a"
    token_file.write_text(invitation["token"] + "\n")
    registered = run(
        "partners",
        "register",
        "--versions-url",
        invitation["versions_url"],
        "--token-file",
        str(token_file),
        *on(emsp),
    ).stdout
    assert "registered: we are now connected with partner" in registered
    pid = str(emsp.api("GET", "/partners/NL-ABC", expect=200)["id"])

    noted = run("partners", "update", "NL-ABC", "--note", "primary CPO", *on(emsp)).stdout
    assert f"note set: partner {pid} (NL-ABC)" in noted
    assert 'note: (none) -> "primary CPO"' in noted
    updated = run("partners", "update", "NL-ABC", *on(emsp)).stdout
    assert f"updated: partner {pid} (NL-ABC)" in updated and "new token" in updated
    again = run_json("partners", "update", pid, node=emsp)
    assert again["status"] == "CONNECTED" and again["note"] == "primary CPO"
    rotated = run("partners", "rotate-token", pid, *on(emsp)).stdout
    assert (
        f"rotated: partner {pid} (NL-ABC) now holds a new token; "
        "the new token they gave us is stored"
    ) in rotated
    assert run_json("partners", "rotate-token", "nl-abc", node=emsp)["status"] == "CONNECTED"
    # The CPO side, by party in lower case: unregister the eMSP.
    result = run_json("partners", "unregister", "de-msp", node=cpo)
    assert result["remote_ok"] is True
    assert result["partner"]["status"] == "SUSPENDED"
    assert emsp.api("GET", f"/partners/{pid}", expect=200)["status"] == "SUSPENDED"
    # After a breach: reset by id issues a new token A for the same partner.
    reset = run_json("partners", "reset", pid, node=emsp)
    assert reset["partner_id"] == int(pid)
    assert reset["versions_url"] == emsp.versions_url and reset["token"]
    assert run_json("partners", "show", pid, node=emsp)["status"] == "PLANNED"


def test_unregister_warns_when_the_partner_did_not_confirm(
    fresh: Callable[..., NodeProcess],
) -> None:
    node = fresh("NL", "ABC", "CPO", CPO_TOKEN)
    fake = FakePartner("DE", "MAN", "EMSP", "Manual partner").start()
    try:
        invitation = node.api("POST", "/partners/invite", {}, expect=201)
        r = fake.register_with(invitation["versions_url"], invitation["token"])
        assert r.status_code == 200, r.text
    finally:
        fake.stop()
    result = run("partners", "unregister", "DE-MAN", *on(node))
    assert "unregistered: partner" in result.stdout and "SUSPENDED" in result.stdout
    assert "warning" in result.stderr and "did not confirm" in result.stderr


def test_serve_reads_the_admin_token_from_a_file(
    fresh: Callable[..., NodeProcess], tmp_path: Path
) -> None:
    file = tmp_path / "admin-token"
    file.write_text("file-admin-secret-0123456789\n")
    node = fresh("NL", "ABC", "CPO", CPO_TOKEN, extra_args=("--admin-token-file", str(file)))
    by_flag = run("partners", "list", *on(node), ok=False)
    by_file = run("partners", "list", "--node", node.url, "--admin-token-file", str(file), ok=False)
    assert by_file.returncode == 0, by_file.stderr
    assert by_flag.returncode == 1 and "401" in by_flag.stderr  # the file overrides the flag
