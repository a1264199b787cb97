"""Configuration the README promises: ``EVROAM_PARTIES``, several ``--role`` flags for one
party, unique parties, the admin token's minimum length and its file."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from starlette.applications import Starlette
from typer.testing import CliRunner

from evroam.cli import main as cli
from evroam.config import PartyConfig, Settings
from evroam.core.types import Role
from evroam.web.app import create_app

ADMIN = "admin-token-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings read the environment: none of the runner's EVROAM_* may leak in."""
    for key in list(os.environ):
        if key.startswith("EVROAM_"):
            monkeypatch.delenv(key)
    yield


def party_keys(settings: Settings) -> list[tuple[str, str, str]]:
    return [(p.country_code.upper(), p.party_id.upper(), p.role.value) for p in settings.parties]


# ---------------------------------------------------------------- parties


def test_parties_come_from_evroam_parties_as_a_json_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "EVROAM_PARTIES",
        json.dumps(
            [
                {"country_code": "DE", "party_id": "ABC", "role": "CPO", "name": "ABC GmbH"},
                {"country_code": "DE", "party_id": "XYZ", "role": "EMSP", "website": "https://x"},
            ]
        ),
    )
    settings = Settings()
    assert party_keys(settings) == [("DE", "ABC", "CPO"), ("DE", "XYZ", "EMSP")]
    assert settings.parties[0].name == "ABC GmbH"
    assert settings.parties[1].website == "https://x"


def test_without_evroam_parties_the_node_is_the_demo_cpo() -> None:
    assert party_keys(Settings()) == [("NL", "EVR", "CPO")]


def test_a_party_listed_twice_with_the_same_role_is_refused() -> None:
    with pytest.raises(ValidationError, match="(?i)nl-abc CPO listed twice"):
        Settings(
            parties=[
                PartyConfig(country_code="NL", party_id="ABC", role=Role.CPO),
                PartyConfig(country_code="nl", party_id="abc", role=Role.CPO),
            ]
        )


def test_one_party_may_hold_several_roles() -> None:
    settings = Settings(
        parties=[
            PartyConfig(country_code="NL", party_id="ABC", role=Role.CPO),
            PartyConfig(country_code="NL", party_id="ABC", role=Role.EMSP),
        ]
    )
    assert [p.role for p in settings.own_parties] == [Role.CPO, Role.EMSP]


def test_an_empty_party_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVROAM_PARTIES", "[]")
    with pytest.raises(ValidationError, match="at least one party"):
        Settings()


def test_several_role_flags_give_one_party_each_role() -> None:
    parties = cli._parties(["NL"], ["ABC"], ["CPO", "emsp"], [])
    assert parties is not None
    assert [(p.country_code, p.party_id, p.role) for p in parties] == [
        ("NL", "ABC", Role.CPO),
        ("NL", "ABC", Role.EMSP),
    ]
    assert party_keys(Settings(parties=parties)) == [("NL", "ABC", "CPO"), ("NL", "ABC", "EMSP")]


class ServeCapture:
    """``evroam serve`` up to the point where it would start uvicorn."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.settings: Settings | None = None
        self.app: Starlette | None = None

        def fake_create_app(settings: Settings) -> Starlette:
            self.settings = settings
            self.app = create_app(settings)
            return self.app

        def fake_run(app: Any, **kwargs: Any) -> None:
            assert app is self.app

        monkeypatch.setattr("evroam.web.app.create_app", fake_create_app)
        monkeypatch.setattr("uvicorn.run", fake_run)
        # The real one replaces the "evroam" logger's handlers, for the whole test run.
        monkeypatch.setattr(cli, "_configure_logging", lambda level: None)


def test_serve_with_two_role_flags_announces_both_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = ServeCapture(monkeypatch)
    db = f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"
    args = ["serve", "--db", db, "--country-code", "NL", "--party-id", "ABC"]
    args += ["--role", "CPO", "--role", "EMSP", "--admin-token", ADMIN]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert capture.settings is not None and capture.app is not None
    assert party_keys(capture.settings) == [("NL", "ABC", "CPO"), ("NL", "ABC", "EMSP")]
    # ``serve`` runs its own event loop (migrations), so the app is driven after it.
    roles = asyncio.run(credentials_roles(capture.app))
    assert roles == [("NL", "ABC", "CPO"), ("NL", "ABC", "EMSP")]


async def credentials_roles(app: Starlette) -> list[tuple[str, str, str]]:
    """The roles in the node's credentials, as a partner holding a token A reads them."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            admin = {"Authorization": f"Bearer {ADMIN}"}
            invited = await client.post("/api/v1/partners/invite", json={}, headers=admin)
            token_a = base64.b64encode(invited.json()["token"].encode()).decode()
            r = await client.get(
                "/ocpi/2.2.1/credentials", headers={"Authorization": f"Token {token_a}"}
            )
    return [(x["country_code"], x["party_id"], x["role"]) for x in r.json()["data"]["roles"]]


# ---------------------------------------------------------------- admin token


def test_admin_token_needs_16_characters() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(admin_token=SecretStr("x" * 15))
    assert Settings(admin_token=SecretStr("x" * 16)).admin_token is not None


def test_no_admin_token_is_allowed_and_means_the_api_is_off() -> None:
    assert Settings().admin_token is None


def test_admin_token_file_is_read_without_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "admin-token"
    path.write_text(ADMIN + "\n")
    settings = Settings(admin_token_file=path)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == ADMIN


def test_admin_token_file_overrides_the_token(tmp_path: Path) -> None:
    path = tmp_path / "admin-token"
    path.write_text(ADMIN)
    settings = Settings(admin_token=SecretStr("another-token-0123456789"), admin_token_file=path)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == ADMIN


def test_admin_token_file_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "admin-token"
    path.write_text(ADMIN + "\r\n")
    monkeypatch.setenv("EVROAM_ADMIN_TOKEN_FILE", str(path))
    token = Settings().admin_token
    assert token is not None and token.get_secret_value() == ADMIN


def test_an_unreadable_admin_token_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file"
    with pytest.raises(ValidationError) as info:
        Settings(admin_token_file=missing)
    message = str(info.value)
    assert "admin_token_file" in message and str(missing) in message
    assert "cannot read" in message


def test_a_short_token_in_the_file_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "admin-token"
    path.write_text("short\n")
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(admin_token_file=path)


def test_the_admin_token_is_not_shown_in_the_settings_repr() -> None:
    assert ADMIN not in repr(Settings(admin_token=SecretStr(ADMIN)))
