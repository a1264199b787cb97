"""The hub app in process (ASGI, a migrated SQLite file): the order of the checks and
the answers that need no TLS listener. The client certificate is put into the scope as
the TLS protocol does (``scope["extensions"]["tls"]``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from starlette.types import ASGIApp, Receive, Scope, Send

from evroam.core.oicp import OicpRole
from evroam.oicp import certs
from evroam.oicp.v2_3.deps import HubContext
from evroam.oicp.v2_3.hub.app import create_hub_app
from evroam.services.oicp.partners import PartnerDraft, add_partner
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory

PUSH = "/api/oicp/evsepush/v21/operators/DE*ABC/status-records"
BODY = {
    "ActionType": "fullLoad",
    "OperatorEvseStatus": {"OperatorID": "DE*ABC", "EvseStatusRecord": []},
}


def with_peer(app: ASGIApp, pem: str | None, address: str = "127.0.0.1") -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            tls = {"client_cert_chain": [pem] if pem else [], "client_cert_name": None}
            scope = {**scope, "client": (address, 40000), "extensions": {"tls": tls}}
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    factory = SqlUnitOfWorkFactory(session_factory(engine))
    now = datetime.now(UTC)
    cpo = frozenset({OicpRole.CPO})
    await add_partner(factory, PartnerDraft("DE*ABC", "DEABC", cpo), now)
    await add_partner(
        factory, PartnerDraft("DE*NET", "DENET", cpo, allowed_networks=["10.0.0.0/8"]), now
    )
    yield factory
    await engine.dispose()


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("pki")
    ca = certs.make_dev_ca(d)
    out = {}
    for identity in ("DE*ABC", "DE*NET", "DE*UNK"):
        files = certs.make_partner_cert(ca, d, identity)
        cert = certs.load_certificate(files.cert)
        out[identity] = cert.public_bytes(serialization.Encoding.PEM).decode()
    return out


def client(app: ASGIApp, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=with_peer(app, **kw)), base_url="http://hub"
    )


def hub_app(uow: SqlUnitOfWorkFactory, max_body_bytes: int = 100_000) -> Any:
    return create_hub_app(HubContext(uow=uow), max_body_bytes=max_body_bytes)


def code_of(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["StatusCode"]["Code"]


async def test_push_succeeds_with_the_operators_certificate(
    uow: SqlUnitOfWorkFactory, pem: dict[str, str]
) -> None:
    async with client(hub_app(uow), pem=pem["DE*ABC"]) as c:
        r = await c.post(PUSH, json=BODY)
    assert r.json() == {"Result": True, "StatusCode": {"Code": "000", "Description": "Success"}}


async def test_access_is_checked_before_the_body_is_read(
    uow: SqlUnitOfWorkFactory, pem: dict[str, str]
) -> None:
    """A malformed body from a refused sender is refused as a sender (403), not parsed."""
    app = hub_app(uow)
    async with client(app, pem=None) as c:
        assert code_of(await c.post(PUSH, content=b"{")) == (403, "017")
    async with client(app, pem=pem["DE*UNK"]) as c:
        assert code_of(await c.post(PUSH, content=b"{")) == (403, "017")
    net = PUSH.replace("DE*ABC", "DE*NET")
    async with client(app, pem=pem["DE*NET"]) as c:
        r = await c.post(net, content=b"{")
        assert code_of(r) == (403, "017")
        assert "127.0.0.1" in r.json()["StatusCode"]["AdditionalInfo"]
    async with client(app, pem=pem["DE*NET"], address="10.1.2.3") as c:
        assert code_of(await c.post(net, content=b"{")) == (400, "022")
    # The path ID is checked before the body too.
    async with client(app, pem=pem["DE*ABC"]) as c:
        assert code_of(await c.post(net, content=b"{")) == (200, "017")


async def test_unexpected_failure_is_500_001_and_tells_nothing(
    uow: SqlUnitOfWorkFactory, pem: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def __call__(self, *, read_only: bool = False) -> Any:
            raise RuntimeError("secret internals at /var/lib/db")

    app = create_hub_app(HubContext(uow=Broken()), max_body_bytes=100_000)
    transport = httpx.ASGITransport(app=with_peer(app, pem["DE*ABC"]), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
        r = await c.post(PUSH, json=BODY)
    assert code_of(r) == (500, "001")
    assert "secret" not in r.text and "/var/lib" not in r.text
    assert "secret internals" in caplog.text


async def test_bodies_are_bounded(uow: SqlUnitOfWorkFactory, pem: dict[str, str]) -> None:
    async with client(hub_app(uow, max_body_bytes=2048), pem=pem["DE*ABC"]) as c:
        r = await c.post(PUSH, content=b"x" * 5000)
    assert code_of(r) == (413, "022")
    assert r.json()["Result"] is False


async def test_unknown_path_and_method(uow: SqlUnitOfWorkFactory, pem: dict[str, str]) -> None:
    async with client(hub_app(uow), pem=pem["DE*ABC"]) as c:
        assert code_of(await c.post("/api/oicp/nothing", json={})) == (404, "022")
        assert code_of(await c.put(PUSH, json=BODY)) == (405, "022")
        assert code_of(await c.post(PUSH.replace("/api/oicp", ""), json=BODY)) == (404, "022")
