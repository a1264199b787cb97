"""``evroam partners ...`` against a mocked operator API (no node): requests, output, secrets.

The node's answers here are what a partner could have put into them (names, URLs, notices,
error details); the tests check that they reach the operator as plain text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from evroam.cli import node_api
from evroam.cli.main import app

TOKEN = "admin-secret-0123456789"
NODE = "http://node.test:8080"
EVIL = "[/x] [bold]Evil[/bold] \x1b[2J\x9b2J\u202eCorp"

Answer = tuple[int, Any]


class MockApi:
    """The operator API: answers by (method, raw path), records every request."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], Answer | Callable[[httpx.Request], Answer]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, status: int, body: Any = None) -> None:
        self.answers[(method, f"/api/v1{path}")] = (status, body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        found = self.answers.get((request.method, request.url.raw_path.decode()))
        if found is None:
            return httpx.Response(404, json={"detail": "Not Found"})
        status, body = found(request) if callable(found) else found
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    @property
    def paths(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.raw_path.decode()) for r in self.requests]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> MockApi:
    mock = MockApi()
    monkeypatch.setattr(
        node_api, "make_client", lambda: httpx.Client(transport=httpx.MockTransport(mock.handle))
    )
    for key in list(os.environ):
        if key.startswith("EVROAM_") or key in ("FORCE_COLOR", "TTY_COMPATIBLE"):
            monkeypatch.delenv(key)
    return mock


def cli(*args: str, env: dict[str, str] | None = None, token: bool = True) -> Result:
    """Run ``evroam partners ...`` in-process, 80 columns, output not a terminal."""
    auth = ["--node", NODE, "--admin-token", TOKEN] if token else ["--node", NODE]
    return CliRunner().invoke(app, ["partners", *args, *auth], env={"COLUMNS": "80", **(env or {})})


def partner(**over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "id": 3,
        "country_code": "DE",
        "party_id": "MAN",
        "roles": [
            {
                "country_code": "DE",
                "party_id": "MAN",
                "role": "EMSP",
                "name": "Manual partner",
                "website": None,
            }
        ],
        "version": "2.2.1",
        "status": "CONNECTED",
        "registered": True,
        "versions_url": "https://man.example/ocpi/versions",
        "initiated_by_us": True,
        "last_connection": "2026-11-23T10:00:00.000Z",
        "status_changed_at": "2026-11-23T09:00:00.000Z",
        "registered_at": "2026-11-23T09:00:00.000Z",
        "created_at": "2026-11-23T08:00:00.000Z",
        "note": None,
        "endpoints": [
            {
                "identifier": "credentials",
                "role": "SENDER",
                "url": "https://man.example/ocpi/2.2.1/credentials",
            }
        ],
    }
    p.update(over)
    return p


def assert_plain(out: str) -> None:
    """No escape sequence nor other control character besides line breaks."""
    assert not [c for c in out if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F], out
    assert "\u202e" not in out and "…" not in out


# --------------------------------------------------------------------------- the path


def test_partner_reference_is_url_encoded_into_the_path() -> None:
    assert node_api.partner_path("3") == "/partners/3"
    assert node_api.partner_path(" NL-ABC ") == "/partners/NL-ABC"
    assert node_api.partner_path("NL*ABC", "reset") == "/partners/NL%2AABC/reset"


@pytest.mark.parametrize(
    "ref",
    [
        "../node",
        "1/reset",
        "..",
        ".",
        "%2e%2e",
        "1?x=1",
        "1#x",
        "NL-ABC/reset",
        "",
        "1\n2",
        "NL-ABC\x00",
    ],
)
def test_a_reference_that_could_reach_another_endpoint_is_refused(api: MockApi, ref: str) -> None:
    for command in ("show", "update", "rotate-token", "reset", "unregister", "delete"):
        result = cli(command, ref)
        assert result.exit_code == 2, (command, result.output)
        assert "is not a partner" in result.stderr
    assert api.requests == []


# --------------------------------------------------------------------------- partner text


def test_show_prints_partner_text_literally_and_escapes_control_characters(
    api: MockApi,
) -> None:
    site = "https://evil.example/\x1b]0;pwned\x07/" + "p" * 100
    evil = partner(
        roles=[
            {"country_code": "DE", "party_id": "MAN", "role": "EMSP", "name": EVIL, "website": site}
        ],
        note="[red]note[/red]\x1b[31m",
        notice="[/]the partner's versions\x1b[2J moved",
        pending_since="2026-11-23T10:00:00.000Z",
    )
    api.on("GET", "/partners/DE-MAN", 200, evil)
    result = cli("show", "DE-MAN")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_plain(out)
    assert "[/x] [bold]Evil[/bold] \\x1b[2J\\x9b2J\\u202eCorp" in out
    assert "[red]note[/red]\\x1b[31m" in out
    assert "notice:" in out and "[/]the partner's versions\\x1b[2J moved" in out
    assert "pending since:" in out and "2026-11-23T10:00:00.000Z" in out
    lines = [ln.strip() for ln in out.splitlines()]
    assert "https://evil.example/\\x1b]0;pwned\\x07/" + "p" * 100 in lines  # whole, own line
    assert "https://man.example/ocpi/versions" in lines
    assert "https://man.example/ocpi/2.2.1/credentials" in lines


def test_show_leaves_out_pending_since_and_notice_when_unset(api: MockApi) -> None:
    api.on("GET", "/partners/3", 200, partner(pending_since=None, notice=None))
    out = cli("show", "3").stdout
    assert "pending since" not in out and "notice" not in out


def test_list_folds_cells_instead_of_cutting_them(api: MockApi) -> None:
    note = "a long note " * 12 + "[/x]\x1b[2J"
    api.on("GET", "/partners", 200, [partner(note=note), partner(id=4, roles=[])])
    result = cli("list")
    assert result.exit_code == 0, result.output
    assert_plain(result.stdout)
    assert all(len(ln) <= 80 for ln in result.stdout.splitlines())
    assert "2026-11-23T10:00:00.000Z" in result.stdout  # a timestamp is not folded
    # The note's cell folds over several lines and keeps every character.
    shown = "".join(result.stdout.split())
    assert "".join(note.replace("\x1b", "\\x1b").split()) in shown


def test_error_details_are_printed_as_text(api: MockApi) -> None:
    api.on("GET", "/partners/3", 502, {"detail": "partner said: [/x]\x1b[2J\r no"})
    result = cli("show", "3")
    assert result.exit_code == 1
    assert "error: (502) partner said: [/x]\\x1b[2J\\x0d no" in result.stderr
    assert_plain(result.stderr)


def test_a_malformed_node_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVROAM_NODE", raising=False)
    result = CliRunner().invoke(
        app, ["partners", "list", "--node", "http://[::1", "--admin-token", TOKEN]
    )
    assert result.exit_code == 1, result.output
    assert "cannot reach node at http://[::1" in result.stderr


def test_validation_errors_name_the_field(api: MockApi) -> None:
    detail = [{"loc": ["body", "note"], "msg": "String should have at most 255 characters"}]
    api.on("POST", "/partners/invite", 422, {"detail": detail})
    result = cli("invite", "--note", "x" * 300)
    assert result.exit_code == 1
    assert "(422) note: String should have at most 255 characters" in result.stderr


# --------------------------------------------------------------------------- what it did


def test_rotate_token_says_what_it_did(api: MockApi) -> None:
    api.on("POST", "/partners/3/rotate-token", 200, partner())
    result = cli("rotate-token", "3")
    assert result.exit_code == 0, result.output
    assert (
        "rotated: partner 3 (DE-MAN) now holds a new token; the new token they gave us is stored"
        in result.stdout
    )


def test_update_says_what_changed(api: MockApi) -> None:
    before = partner(version="2.1.1")
    after = partner(
        endpoints=[
            {"identifier": "credentials", "role": "SENDER", "url": "https://man.example/v2/cred"},
            {"identifier": "locations", "role": "RECEIVER", "url": "https://man.example/v2/loc"},
        ],
    )
    api.on("GET", "/partners/DE-MAN", 200, before)
    api.on("POST", "/partners/DE-MAN/update", 200, after)
    result = cli("update", "DE-MAN")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "updated: partner 3 (DE-MAN)" in out and "each side now holds a new token" in out
    assert "version: 2.1.1 -> 2.2.1" in out
    assert "endpoint added: locations RECEIVER" in out
    assert "endpoint moved: credentials SENDER" in out
    lines = [ln.strip() for ln in out.splitlines()]
    assert "https://man.example/v2/loc" in lines and "https://man.example/v2/cred" in lines
    assert api.requests[-1].content == b""


def test_update_with_a_note_says_only_the_note_changed(api: MockApi) -> None:
    api.on("GET", "/partners/3", 200, partner(note="old"))
    api.on("POST", "/partners/3/update", 200, partner(note="new [b]\x1b[2J"))
    out = cli("update", "3", "--note", "new [b]\x1b[2J").stdout
    assert "note set: partner 3 (DE-MAN)" in out and "token" not in out
    assert 'note: "old" -> "new [b]\\x1b[2J"' in out
    assert json.loads(api.requests[-1].content) == {"note": "new [b]\x1b[2J"}
    cli("update", "3", "--note", "")
    assert json.loads(api.requests[-1].content) == {"note": None}


def test_update_of_an_unchanged_partner_says_so(api: MockApi) -> None:
    api.on("GET", "/partners/3", 200, partner())
    api.on("POST", "/partners/3/update", 200, partner())
    out = cli("update", "3").stdout
    assert "nothing else changed" in out


# --------------------------------------------------------------------------- new commands


def test_delete_calls_delete_and_reports(api: MockApi) -> None:
    api.on("DELETE", "/partners/4", 200, {"deleted": 4})
    result = cli("delete", "4")
    assert result.exit_code == 0, result.output
    assert "deleted: partner 4" in result.stdout
    assert api.paths == [("DELETE", "/api/v1/partners/4")]
    assert json.loads(cli("delete", "4", "--json").stdout) == {"deleted": 4}


def test_delete_of_a_registered_partner_shows_the_refusal(api: MockApi) -> None:
    api.on("DELETE", "/partners/3", 409, {"detail": "partner 3 is registered: unregister it"})
    result = cli("delete", "3")
    assert result.exit_code == 1
    assert "(409) partner 3 is registered: unregister it" in result.stderr


def test_uninvite_of_a_partner_never_registered_says_it_is_removed(api: MockApi) -> None:
    api.on("POST", "/partners/5/uninvite", 200, {"withdrawn": 5, "partner": None})
    result = cli("uninvite", "5")
    assert result.exit_code == 0, result.output
    assert "uninvited: partner 5: its token A no longer works" in result.stdout
    assert "removed" in result.stdout
    assert api.paths == [("POST", "/api/v1/partners/5/uninvite")]
    assert json.loads(cli("uninvite", "5", "--json").stdout)["withdrawn"] == 5


def test_uninvite_of_a_partner_that_stays(api: MockApi) -> None:
    kept = partner(status="SUSPENDED")
    api.on("POST", "/partners/3/uninvite", 200, {"withdrawn": 3, "partner": kept})
    out = cli("uninvite", "3").stdout
    assert "uninvited: partner 3 (DE-MAN): its token A no longer works" in out
    assert "status SUSPENDED" in out


def test_client_info_prints_a_table(api: MockApi) -> None:
    infos = [
        {
            "country_code": "NL",
            "party_id": "XYZ",
            "role": "CPO",
            "status": "CONNECTED",
            "last_updated": "2026-11-20T10:00:00.000Z",
        },
        {
            "country_code": "BE",
            "party_id": "[/x",
            "role": "EMSP",
            "status": "PLANNED\x1b[2J",
            "last_updated": "2026-11-21T10:00:00.000Z",
        },
    ]
    api.on("GET", "/partners/DE-HUB/client-info", 200, infos)
    result = cli("client-info", "DE-HUB")
    assert result.exit_code == 0, result.output
    assert_plain(result.stdout)
    for expected in ("NL-XYZ", "CPO", "CONNECTED", "2026-11-20T10:00:00.000Z", "BE-[/x"):
        assert expected in result.stdout
    assert "PLANNED\\x1b[2J" in result.stdout
    assert json.loads(cli("client-info", "DE-HUB", "--json").stdout) == infos


def test_client_info_with_no_parties(api: MockApi) -> None:
    api.on("GET", "/partners/DE-HUB/client-info", 200, [])
    assert "reported no parties" in cli("client-info", "DE-HUB").stdout


# --------------------------------------------------------------------------- secrets


def bearer(api: MockApi) -> str:
    return api.requests[-1].headers["authorization"]


def test_admin_token_from_a_file_without_its_newline(api: MockApi, tmp_path: Path) -> None:
    api.on("GET", "/partners", 200, [])
    file = tmp_path / "admin-token"
    file.write_text(TOKEN + "\n")
    assert cli("list", "--admin-token-file", str(file), token=False).exit_code == 0
    assert bearer(api) == f"Bearer {TOKEN}"
    file.write_text("from-the-env-file-0123\r\n")
    env = {"EVROAM_ADMIN_TOKEN_FILE": str(file)}
    assert cli("list", env=env, token=False).exit_code == 0
    assert bearer(api) == "Bearer from-the-env-file-0123"
    # The command line beats the environment.
    assert cli("list", env=env).exit_code == 0
    assert bearer(api) == f"Bearer {TOKEN}"


def test_two_admin_tokens_on_one_level_are_refused(api: MockApi, tmp_path: Path) -> None:
    file = tmp_path / "t"
    file.write_text(TOKEN)
    result = cli("list", "--admin-token-file", str(file))
    assert result.exit_code == 2 and "not both" in result.stderr
    env = {"EVROAM_ADMIN_TOKEN": TOKEN, "EVROAM_ADMIN_TOKEN_FILE": str(file)}
    result = cli("list", env=env, token=False)
    assert result.exit_code == 2 and "both set" in result.stderr
    assert api.requests == []


def test_unreadable_or_empty_token_file_is_a_clear_error(api: MockApi, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = cli("list", "--admin-token-file", str(missing), token=False)
    assert result.exit_code == 2 and "cannot read the admin token file" in result.stderr
    odd = tmp_path / "odd"
    odd.write_text("tökén\tadmin-secret\n")
    result = cli("list", "--admin-token-file", str(odd), token=False)
    assert result.exit_code == 2 and "printable ASCII" in result.stderr
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = cli("list", "--admin-token-file", str(empty), token=False)
    assert result.exit_code == 2 and "is empty" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("source", ["flag", "file", "env", "env-file"])
def test_register_takes_token_a_from_a_flag_a_file_or_the_environment(
    api: MockApi, tmp_path: Path, source: str
) -> None:
    api.on("POST", "/partners/register", 201, partner())
    file = tmp_path / "token-a"
    file.write_text("token-a-from-file\n")
    args = ["register", "--versions-url", "https://man.example/ocpi/versions"]
    env: dict[str, str] = {}
    if source == "flag":
        args += ["--token", "token-a-from-file"]
    elif source == "file":
        args += ["--token-file", str(file)]
    elif source == "env":
        env["EVROAM_TOKEN_A"] = "token-a-from-file"
    else:
        env["EVROAM_TOKEN_A_FILE"] = str(file)
    result = cli(*args, env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(api.requests[-1].content)["token"] == "token-a-from-file"
    assert "registered: we are now connected with partner 3 (DE-MAN)" in result.stdout


def test_register_without_token_a_is_a_clear_error(api: MockApi) -> None:
    result = cli("register", "--versions-url", "https://man.example/ocpi/versions")
    assert result.exit_code == 2 and "no token A" in result.stderr
    assert api.requests == []
