"""Helpers for the end-to-end credentials tests.

``ManualPartner`` is an OCPI 2.2.1 platform driven by the test itself: a small Starlette
app (versions, version details, credentials) on a real uvicorn server in a background
thread, on a loopback port. It checks the ``Authorization: Token <base64>`` header of
every call the node makes to it, records those calls, and can be told to misbehave
(answer garbage, offer no 2.2.1, lack a credentials endpoint...). With it a test sees
every token that crosses the wire, which two real nodes never show.

The other helpers assert the OCPI envelope, take a snapshot of a node's stored state
(operator API listing plus the hashes of the tokens it issued) and read the partner's
token a node holds, straight from the node's database.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import binascii
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from evroam.storage.db import create_engine
from tests.support import NodeProcess, free_port

VERSION = "2.2.1"

# How the manual partner's versions / version details endpoints answer.
MODES = (
    "ok",
    "not_json",  # versions: HTTP 200 with an HTML page
    "no_envelope",  # versions: the version list as bare JSON, no OCPI envelope
    "http_500",  # versions: HTTP 500 (with an OCPI 3000 envelope)
    "data_not_list",  # versions: an envelope whose data is not a list
    "details_not_json",  # version details: HTTP 200 with plain text
    "no_2_2_1",  # versions: only 2.1.1 and 2.3.0
    "no_credentials_endpoint",  # version details: no credentials endpoint
)


def ocpi_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    data: Any = None, status_code: int = 1000, message: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": ocpi_timestamp()}
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    return body


def b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def unused_versions_url() -> str:
    """A versions URL on a loopback port nobody listens on: connection refused."""
    return f"http://127.0.0.1:{free_port()}/ocpi/versions"


# ---------------------------------------------------------------------- requests

# One connection pool for every request of the tests: a fresh httpx client per request
# (what ``httpx.request`` does) loads the CA bundle each time, some 30 ms. Idle
# connections are dropped before uvicorn's 5 s keep-alive ends, so none is closed under us.
_HTTP = httpx.Client(timeout=60, limits=httpx.Limits(keepalive_expiry=2.0))
atexit.register(_HTTP.close)


def ocpi(
    node: NodeProcess,
    method: str,
    path: str,
    token: str | None,
    *,
    raw_token: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """An OCPI request to the node, ``Authorization: Token <base64>`` (or the raw token)."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Token {token if raw_token else b64(token)}"
    url = path if path.startswith("http") else f"{node.url}{path}"
    return _HTTP.request(method, url, headers=headers, **kwargs)


def api(
    node: NodeProcess, method: str, path: str, json: Any = None, expect: int | None = None
) -> Any:
    """An operator API request (``/api/v1``); ``expect`` asserts the HTTP status."""
    r = _HTTP.request(
        method,
        f"{node.url}/api/v1{path}",
        json=json,
        headers={"Authorization": f"Bearer {node.admin_token}"},
    )
    if expect is not None:
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


# ---------------------------------------------------------------------- assertions


def assert_envelope(
    resp: httpx.Response,
    http_status: int,
    ocpi_status: int,
    *mentions: str,
) -> dict[str, Any]:
    """The answer is an OCPI envelope with these codes; the message names each of ``mentions``."""
    where = f"{resp.request.method} {resp.request.url.path}"
    assert resp.status_code == http_status, f"{where}: HTTP {resp.status_code} {resp.text}"
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"{where}: body is not JSON: {resp.text!r}") from None
    assert isinstance(body, dict), f"{where}: body is not an OCPI envelope: {body!r}"
    assert body.get("status_code") == ocpi_status, f"{where}: {body}"
    assert isinstance(body.get("timestamp"), str) and body["timestamp"], f"{where}: {body}"
    message = str(body.get("status_message") or "")
    for word in mentions:
        assert word.lower() in message.lower(), f"{where}: {word!r} not in {message!r}"
    return body


# ---------------------------------------------------------------------- node state


def _db_rows(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async def run() -> list[tuple[Any, ...]]:
        engine = create_engine(db_url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(text(sql), params)
                return [tuple(row) for row in result.all()]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def token_out(node: NodeProcess, partner_id: int) -> str | None:
    """The partner's token this node holds (sends), read from the node's database."""
    rows = _db_rows(node.db_url, "SELECT token_out FROM partner WHERE id = :id", id=partner_id)
    assert rows, f"no partner {partner_id} in {node.db_url}"
    value = rows[0][0]
    return None if value is None else str(value)


def issued_token_hashes(node: NodeProcess) -> list[tuple[int, str, str]]:
    rows = _db_rows(node.db_url, "SELECT partner_id, kind, token_hash FROM credentials_token")
    return sorted((int(r[0]), str(r[1]), str(r[2])) for r in rows)


def partners(node: NodeProcess) -> list[dict[str, Any]]:
    listed = api(node, "GET", "/partners", expect=200)
    assert isinstance(listed, list)
    return listed


def stored_state(node: NodeProcess) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """What a refusal must leave alone: every partner as listed (``last_connection`` aside:
    any valid call refreshes it) and every token hash the node issued."""
    listed = [{k: v for k, v in p.items() if k != "last_connection"} for p in partners(node)]
    return listed, issued_token_hashes(node)


# ---------------------------------------------------------------------- the manual partner


@dataclass(frozen=True)
class Call:
    """One request the node made to the manual partner."""

    method: str
    path: str
    token: str | None  # the Base64-decoded token of the header; None when absent or not Base64


class ManualPartner:
    """An OCPI 2.2.1 platform played by the test, reachable at ``versions_url``."""

    def __init__(
        self,
        country_code: str = "DE",
        party_id: str = "MAN",
        role: str = "EMSP",
        name: str = "Manual partner",
    ) -> None:
        self.country_code = country_code
        self.party_id = party_id
        self.role = role
        self.name = name
        self.mode = "ok"
        self.accepted: set[str] = set()  # tokens the node may call us with (token B...)
        self.invitations: set[str] = set()  # tokens A we handed out
        self.node_token: str | None = None  # the node's token for us to call it
        self.registration_error: int | None = None  # answer POSTs with this OCPI code
        self.hold_versions = 0  # hold versions answers until this many requests arrived
        self.calls: list[Call] = []
        self.posted: list[dict[str, Any]] = []  # bodies of the node's credentials POSTs
        self._versions_seen = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.url = ""
        self.app = Starlette(
            routes=[
                Route("/ocpi/versions", self._versions, methods=["GET"]),
                Route(f"/ocpi/{VERSION}", self._details, methods=["GET"]),
                Route(
                    f"/ocpi/{VERSION}/credentials",
                    self._credentials,
                    methods=["GET", "POST", "PUT", "DELETE"],
                ),
            ]
        )

    # ------------------------------------------------------------ server

    def start(self) -> ManualPartner:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._sock = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", ws="none", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("manual partner server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        if self._sock is not None:
            self._sock.close()

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    @property
    def details_url(self) -> str:
        return f"{self.url}/ocpi/{VERSION}"

    @property
    def credentials_url(self) -> str:
        return f"{self.url}/ocpi/{VERSION}/credentials"

    # ------------------------------------------------------------ our side of the handshake

    def issue_token(self) -> str:
        """A new token for the node to call us with, valid from now on."""
        token = new_token()
        self.accepted.add(token)
        return token

    def invite(self) -> str:
        """A token A for a node that is to register with us."""
        token = new_token()
        self.invitations.add(token)
        return token

    def role_body(self, **overrides: Any) -> dict[str, Any]:
        role: dict[str, Any] = {
            "role": self.role,
            "business_details": {"name": self.name},
            "party_id": self.party_id,
            "country_code": self.country_code,
        }
        role.update(overrides)
        return role

    def credentials(self, token: str, **role_overrides: Any) -> dict[str, Any]:
        """Our Credentials object, giving the node ``token`` to call us with."""
        return {
            "token": token,
            "url": self.versions_url,
            "roles": [self.role_body(**role_overrides)],
        }

    def calls_since(self, start: int) -> list[Call]:
        return self.calls[start:]

    # ------------------------------------------------------------ acting on a node

    def register_with(
        self, node: NodeProcess, token_a: str, *, raw_token: bool = False, **role_overrides: Any
    ) -> httpx.Response:
        """POST our credentials (a fresh token B) with token A; keep the node's token C."""
        token_b = self.issue_token()
        resp = ocpi(
            node,
            "POST",
            "/ocpi/2.2.1/credentials",
            token_a,
            raw_token=raw_token,
            json=self.credentials(token_b, **role_overrides),
        )
        body = resp.json()
        if resp.status_code == 200 and body.get("status_code") == 1000:
            self.node_token = body["data"]["token"]
        else:
            self.accepted.discard(token_b)
        return resp

    def update_at(self, node: NodeProcess) -> httpx.Response:
        """PUT our credentials with a new token B (the node re-discovers us with it)."""
        assert self.node_token is not None
        old = set(self.accepted)
        token_b = self.issue_token()
        resp = ocpi(
            node, "PUT", "/ocpi/2.2.1/credentials", self.node_token, json=self.credentials(token_b)
        )
        body = resp.json()
        if resp.status_code == 200 and body.get("status_code") == 1000:
            self.node_token = body["data"]["token"]
            self.accepted -= old
        else:
            self.accepted.discard(token_b)
        return resp

    # ------------------------------------------------------------ HTTP handlers

    def _token(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token: str | None = None
        if scheme == "Token" and value:
            try:
                token = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                token = None
        self.calls.append(Call(request.method, request.url.path, token))
        return token

    @staticmethod
    def _unauthorized() -> Response:
        return JSONResponse(envelope(None, 2000, "unknown token"), status_code=401)

    async def _versions(self, request: Request) -> Response:
        token = self._token(request)
        if token not in self.accepted and token not in self.invitations:
            return self._unauthorized()
        self._versions_seen += 1
        deadline = time.monotonic() + 5
        while self._versions_seen < self.hold_versions and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        listed = [{"version": VERSION, "url": self.details_url}]
        match self.mode:
            case "not_json":
                return PlainTextResponse("<html><body>Welcome!</body></html>")
            case "no_envelope":
                return JSONResponse(listed)
            case "http_500":
                return JSONResponse(envelope(None, 3000, "internal error"), status_code=500)
            case "data_not_list":
                return JSONResponse(envelope({"versions": listed}))
            case "no_2_2_1":
                return JSONResponse(
                    envelope(
                        [
                            {"version": "2.1.1", "url": f"{self.url}/ocpi/2.1.1"},
                            {"version": "2.3.0", "url": f"{self.url}/ocpi/2.3.0"},
                        ]
                    )
                )
        return JSONResponse(envelope(listed))

    async def _details(self, request: Request) -> Response:
        token = self._token(request)
        if token not in self.accepted and token not in self.invitations:
            return self._unauthorized()
        if self.mode == "details_not_json":
            return PlainTextResponse("version details are under maintenance")
        endpoints = [
            {"identifier": "credentials", "role": "SENDER", "url": self.credentials_url},
            {
                "identifier": "locations",
                "role": "RECEIVER",
                "url": f"{self.url}/ocpi/{VERSION}/locations",
            },
        ]
        if self.mode == "no_credentials_endpoint":
            endpoints = endpoints[1:]
        return JSONResponse(envelope({"version": VERSION, "endpoints": endpoints}))

    async def _discover_node(self, versions_url: str, token: str) -> str | None:
        """What a receiver does with the caller's credentials: GET versions and details."""
        headers = {"Authorization": f"Token {b64(token)}"}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                versions = (await client.get(versions_url, headers=headers)).json()
                url = next(v["url"] for v in versions["data"] if v["version"] == VERSION)
                details = await client.get(url, headers=headers)
        except (httpx.HTTPError, ValueError, KeyError, TypeError, StopIteration) as exc:
            return f"cannot use your API: {type(exc).__name__}: {exc}"
        if details.status_code != 200 or details.json().get("status_code") != 1000:
            return f"cannot use your version details: HTTP {details.status_code}"
        return None

    async def _credentials(self, request: Request) -> Response:
        token = self._token(request)
        if request.method == "POST":
            if token not in self.invitations:
                if token in self.accepted:
                    return JSONResponse(envelope(None, 2000, "registered"), status_code=405)
                return self._unauthorized()
            body = json.loads(await request.body())
            self.posted.append(body)
            if self.registration_error is not None:
                return JSONResponse(envelope(None, self.registration_error, "not today"))
            problem = await self._discover_node(body["url"], body["token"])
            if problem:
                return JSONResponse(envelope(None, 3001, problem))
            self.invitations.discard(token)
            self.node_token = body["token"]
            return JSONResponse(envelope(self.credentials(self.issue_token())))
        if token not in self.accepted:
            return self._unauthorized()
        if request.method == "GET":
            return JSONResponse(envelope(self.credentials(token)))
        if request.method == "DELETE":
            self.node_token = None
            self.accepted.clear()
            return JSONResponse(envelope())
        body = json.loads(await request.body())  # PUT: re-discover with the new token
        problem = await self._discover_node(body["url"], body["token"])
        if problem:
            return JSONResponse(envelope(None, 3001, problem))
        self.node_token = body["token"]
        self.accepted = set()
        return JSONResponse(envelope(self.credentials(self.issue_token())))


@contextmanager
def manual_partners() -> Iterator[Any]:
    """A factory of started manual partners; every one is stopped on exit."""
    started: list[ManualPartner] = []

    def start(**kwargs: Any) -> ManualPartner:
        partner = ManualPartner(**kwargs).start()
        started.append(partner)
        return partner

    try:
        yield start
    finally:
        for partner in started:
            partner.stop()
