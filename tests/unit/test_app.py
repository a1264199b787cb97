"""The app in-process (ASGI transport): transport rules that need no partner."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from evroam.config import PartyConfig, Settings
from evroam.web.app import create_app


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            yield client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}",
        public_url="https://node.example.com",
        admin_token="adm",
        liveness_interval=0,
    )
    async for c in _client(settings):
        yield c


def _token(t: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(t.encode()).decode()}


async def _invite(client: httpx.AsyncClient) -> str:
    r = await client.post(
        "/api/v1/partners/invite", json={}, headers={"Authorization": "Bearer adm"}
    )
    assert r.status_code == 201
    return str(r.json()["token"])


def _assert_envelope(r: httpx.Response, status_code: int) -> dict:
    body = r.json()
    assert body["status_code"] == status_code
    assert body["timestamp"].endswith("Z")
    return body


async def test_versions_without_token_is_401_envelope(client: httpx.AsyncClient) -> None:
    r = await client.get("/ocpi/versions")
    assert r.status_code == 401
    _assert_envelope(r, 2000)


async def test_versions_and_details_with_token_a(client: httpx.AsyncClient) -> None:
    token = await _invite(client)
    r = await client.get("/ocpi/versions", headers=_token(token))
    assert r.status_code == 200
    assert _assert_envelope(r, 1000)["data"] == [
        {"version": "2.2.1", "url": "https://node.example.com/ocpi/2.2.1"}
    ]
    r = await client.get("/ocpi/2.2.1", headers={"Authorization": f"Token {token}"})
    details = _assert_envelope(r, 1000)["data"]
    assert details["version"] == "2.2.1"
    ids = {(e["identifier"], e["role"]) for e in details["endpoints"]}
    assert ("credentials", "SENDER") in ids
    assert ("hubclientinfo", "RECEIVER") in ids
    # Not a hub: no HubClientInfo sender interface.
    assert ("hubclientinfo", "SENDER") not in ids


async def test_trailing_slash_is_the_same_endpoint(client: httpx.AsyncClient) -> None:
    token = await _invite(client)
    r = await client.get("/ocpi/versions/", headers=_token(token))
    assert r.status_code == 200


async def test_token_a_on_functional_module_is_401(client: httpx.AsyncClient) -> None:
    token = await _invite(client)
    r = await client.put(
        "/ocpi/2.2.1/receiver/hubclientinfo/NL/ABC", headers=_token(token), json={}
    )
    assert r.status_code == 401
    _assert_envelope(r, 2000)


async def test_put_credentials_with_token_a_is_405(client: httpx.AsyncClient) -> None:
    token = await _invite(client)
    r = await client.put("/ocpi/2.2.1/credentials", headers=_token(token), json={})
    assert r.status_code == 405
    _assert_envelope(r, 2000)


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    token = await _invite(client)
    r = await client.post(
        "/ocpi/2.2.1/credentials",
        headers={**_token(token), "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 400
    _assert_envelope(r, 2000)


async def test_missing_field_is_2001_naming_it(client: httpx.AsyncClient) -> None:
    token = await _invite(client)
    r = await client.post(
        "/ocpi/2.2.1/credentials",
        headers=_token(token),
        json={"token": "abc", "url": "https://partner.example.com/ocpi/versions"},
    )
    assert r.status_code == 200
    assert "roles" in _assert_envelope(r, 2001)["status_message"]


async def test_unknown_ocpi_path_is_404_envelope(client: httpx.AsyncClient) -> None:
    r = await client.get("/ocpi/9.9.9")
    assert r.status_code == 404
    _assert_envelope(r, 2000)


async def test_request_and_correlation_ids(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/ocpi/versions", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "cor-1"}
    )
    assert r.headers["x-request-id"] == "req-1"
    assert r.headers["x-correlation-id"] == "cor-1"
    r = await client.get("/ocpi/versions")
    assert r.headers["x-request-id"] and r.headers["x-correlation-id"]


async def test_operator_api_needs_the_admin_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/partners")).status_code == 401
    bad = await client.get("/api/v1/partners", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    ok = await client.get("/api/v1/partners", headers={"Authorization": "Bearer adm"})
    assert ok.status_code == 200 and ok.json() == []
    assert (await client.get("/api/v1/openapi.json")).status_code == 200


async def test_unknown_partner_ref_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/partners/NL-XYZ", headers={"Authorization": "Bearer adm"})
    assert r.status_code == 404
    r = await client.get("/api/v1/partners/nonsense", headers={"Authorization": "Bearer adm"})
    assert r.status_code == 404


async def test_operator_api_is_off_without_admin_token(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", liveness_interval=0
    )
    async for c in _client(settings):
        assert (await c.get("/api/v1/partners")).status_code == 404


async def test_hub_node_offers_hubclientinfo_sender(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}",
        parties=[PartyConfig(country_code="NL", party_id="HUB", role="HUB")],
        admin_token="adm",
        liveness_interval=0,
    )
    async for c in _client(settings):
        token = await _invite(c)
        details = (await c.get("/ocpi/2.2.1", headers=_token(token))).json()["data"]
        assert ("hubclientinfo", "SENDER") in {
            (e["identifier"], e["role"]) for e in details["endpoints"]
        }
