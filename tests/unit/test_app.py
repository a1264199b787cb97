"""The app in-process (ASGI transport): transport rules that need no partner."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from evroam.config import PartyConfig, Settings
from evroam.core.types import Role
from evroam.web.app import create_app

ADMIN = "admin-token-0123456789"
BEARER = {"Authorization": f"Bearer {ADMIN}"}


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
        admin_token=SecretStr(ADMIN),
        liveness_interval=0,
    )
    async for c in _client(settings):
        yield c


def _token(t: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(t.encode()).decode()}


async def _invite(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/v1/partners/invite", json={}, headers=BEARER)
    assert r.status_code == 201
    return str(r.json()["token"])


def _assert_envelope(r: httpx.Response, status_code: int) -> dict[str, Any]:
    body: dict[str, Any] = r.json()
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


#: One route FastAPI serves, one the fast lane serves (``web/admin/app.py`` admin_edge):
#: the admin guard must decide the same on both.
OPERATOR_PATHS = ["/api/v1/partners", "/api/v1/locations/NL/CPO/NOPE"]


@pytest.mark.parametrize("path", OPERATOR_PATHS, ids=["fastapi", "fast-lane"])
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer nope",
        f"Bearer {ADMIN[:-1]}",
        f"Bearer {ADMIN}x",
        f"Token {ADMIN}",
        ADMIN,
        "Bearer",
    ],
    ids=["none", "wrong", "prefix", "longer", "token-scheme", "no-scheme", "empty"],
)
async def test_operator_api_refuses_anything_but_the_admin_token(
    client: httpx.AsyncClient, authorization: str | None, path: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    r = await client.get(path, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"] == "Unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {ADMIN}", f"bearer {ADMIN}", f"BEARER {ADMIN}", f"Bearer  {ADMIN}"],
    ids=["Bearer", "bearer", "BEARER", "two-spaces"],
)
async def test_operator_api_accepts_the_admin_token(
    client: httpx.AsyncClient, authorization: str
) -> None:
    headers = {"Authorization": authorization}
    r = await client.get("/api/v1/partners", headers=headers)
    assert r.status_code == 200 and r.json() == []
    r = await client.get("/api/v1/locations/NL/CPO/NOPE", headers=headers)
    assert r.status_code == 404 and r.json()["status_code"] == 2003


def test_the_operator_apis_object_routes_are_on_the_fast_lane(tmp_path: Path) -> None:
    """The routes an operator feeds data through are called directly, guard first."""
    from evroam.web.admin.app import admin_edge, build_admin_app

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", admin_token=SecretStr(ADMIN)
    )
    edge = admin_edge(build_admin_app(settings), settings)
    direct = {
        (method, route.regex.pattern)
        for route in edge.routes  # type: ignore[attr-defined]
        if route.endpoint is not None
        for method in route.methods
    }
    evse = (
        "^/locations/(?P<country_code>[^/]+)/(?P<party_id>[^/]+)"
        "/(?P<location_id>[^/]+)/(?P<evse_uid>[^/]+)$"
    )
    assert ("PATCH", evse) in direct and ("PUT", evse) in direct and ("GET", evse) in direct
    for route in edge.routes:  # type: ignore[attr-defined]
        if route.endpoint is not None and not route.prefix.startswith("/backend"):
            assert route.args[0].kind == "check"  # the admin guard, before anything else


async def test_unknown_partner_ref_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/partners/NL-XYZ", headers=BEARER)
    assert r.status_code == 404
    r = await client.get("/api/v1/partners/nonsense", headers=BEARER)
    assert r.status_code == 404


async def test_operator_api_and_its_docs_are_off_without_admin_token(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", liveness_interval=0
    )
    async for c in _client(settings):
        for path in ("/api/v1/partners", "/api/v1/docs", "/api/v1/openapi.json"):
            assert (await c.get(path)).status_code == 404, path
            assert (await c.get(path, headers=BEARER)).status_code == 404, path


async def test_hub_node_offers_hubclientinfo_sender(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}",
        parties=[PartyConfig(country_code="NL", party_id="HUB", role=Role.HUB)],
        admin_token=SecretStr(ADMIN),
        liveness_interval=0,
    )
    async for c in _client(settings):
        token = await _invite(c)
        details = (await c.get("/ocpi/2.2.1", headers=_token(token))).json()["data"]
        assert ("hubclientinfo", "SENDER") in {
            (e["identifier"], e["role"]) for e in details["endpoints"]
        }


# ---------------------------------------------------------------- operator API documentation


async def test_openapi_document_declares_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    schemes = doc["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(iter(schemes.values())).items()
    name = next(iter(schemes))
    partners = doc["paths"]["/partners"]["get"]
    assert {name: []} in partners["security"]
    assert "/ocpi" not in " ".join(doc["paths"]), "OCPI routes do not belong in this document"


async def test_docs_page_loads_nothing_from_other_hosts(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert re.findall(r"https?://", html) == [], "the page references another host"
    assert re.findall(r"""(?:src|href)=["']//""", html) == [], "protocol-relative URL"
    scripts = re.findall(r"""<script[^>]+src=["']([^"']+)["']""", html)
    assert scripts, "no script on the docs page"
    for src in scripts:
        assert src.startswith("/api/v1/"), src
        asset = await client.get(src)
        assert asset.status_code == 200, src
        assert "javascript" in asset.headers["content-type"], asset.headers["content-type"]
        assert len(asset.content) > 10_000
    assert "/api/v1/openapi.json" in html


# ---------------------------------------------------------------- operator API errors


def _assert_api_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    assert set(body) == {"error", "detail"}, body
    assert isinstance(body["error"], str) and isinstance(body["detail"], str)
    return body


LONG_ID = "7" * 5000


@pytest.mark.parametrize(
    "ref",
    ["\u0661", "\u0661\u0662", "99999999999999999999999", LONG_ID, "..%2Fx", "%00", "NL-ABCD"],
    ids=["arabic-1", "arabic-12", "huge-number", "5000-chars", "dot-dot-slash", "nul", "cc-pid5"],
)
async def test_odd_partner_ids_are_404_json_not_500(client: httpx.AsyncClient, ref: str) -> None:
    await _invite(client)  # partner 1 exists: "\u0661" (Arabic-Indic one) must not find it
    for method in ("GET", "DELETE"):
        r = await client.request(method, f"/api/v1/partners/{ref}", headers=BEARER)
        body = _assert_api_error(r, 404)
        assert LONG_ID not in body["detail"], "the id is echoed back whole"
        assert len(r.content) < 1000


async def test_operator_api_errors_are_json_never_ocpi_envelopes(
    client: httpx.AsyncClient,
) -> None:
    _assert_api_error(await client.get("/api/v1/partners"), 401)
    _assert_api_error(await client.get("/api/v1/no-such-thing", headers=BEARER), 404)
    _assert_api_error(await client.get("/api/v1/partners/NL-XYZ", headers=BEARER), 404)
    _assert_api_error(await client.put("/api/v1/partners", headers=BEARER), 405)
    r = await client.post(
        "/api/v1/partners/register", json={"versions_url": "ftp://x", "token": ""}, headers=BEARER
    )
    body = _assert_api_error(r, 422)
    assert "versions_url" in body["detail"] and "token" in body["detail"]
    r = await client.post(
        "/api/v1/partners/invite",
        content=b"{not json",
        headers={**BEARER, "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422)
    _assert_api_error(r, r.status_code)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/ocpi/nope"),
        ("GET", "/ocpi/2.2.1/nope"),
        ("POST", "/ocpi/2.2.1/receiver/nope/NL/ABC"),
        ("GET", "/ocpi/2.2.1/credentials/extra"),
    ],
)
async def test_unknown_ocpi_paths_are_404_envelopes(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    token = await _invite(client)
    r = await client.request(method, path, headers=_token(token))
    assert r.status_code == 404
    body = _assert_envelope(r, 2000)
    assert "error" not in body
    assert r.headers["x-request-id"]


async def test_ocpi_transport_does_not_run_on_the_operator_api(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.get("/api/v1/node", headers=BEARER)
    assert ok.status_code == 200
    assert ok.json()["versions_url"] == "https://node.example.com/ocpi/versions"
    # No trailing-slash rewriting (OCPI tolerance only) and no OCPI message ids.
    slash = await client.get("/api/v1/node/", headers=BEARER)
    _assert_api_error(slash, 404)
    for r in (ok, slash):
        assert "x-request-id" not in r.headers
        assert "x-correlation-id" not in r.headers
