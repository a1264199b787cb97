"""A configurable OCPI 2.2.1 partner platform for end-to-end tests against real nodes.

``FakePartner`` is a small Starlette app served by a real uvicorn server in a background
thread on a loopback port. It offers the versions, version details and credentials
endpoints, checks the ``Authorization: Token <base64>`` header of every call, holds the
tokens it issued, records every request it receives, and can play both sides of the
credentials handshake:

* an evroam node registers with it (give the node ``fake.versions_url`` and a token from
  ``fake.issue_token_a()``); the fake calls the node back with token B before answering,
  as the spec's Receiver does;
* it registers with an evroam node (``fake.register_with(versions_url, token_a)``).

With it a test sees every token that crosses the wire, which two real nodes never show:
``fake.requests`` holds each request as it arrived, ``fake.calls`` the same as
(method, path, Base64-decoded token).

Switches make it bend the spec the way real platforms do:

``advertise_slash``     URLs in the versions list and version details end with ``/``
``accept_path``         ``"both"``, or only the ``"slash"`` / ``"no_slash"`` form of a path
``wrong_path_status``   what the other form gets: 404 with a plain body, or 301/307/308
                        redirecting to the right form
``lowercase_ids``       its credentials roles carry country_code/party_id in lower case
``version_label``       the version string it announces (``"2.2"`` for 2.2.1)
``bad_token_answer``    ``"ocpi"`` (401 envelope, per spec), ``"html"`` or ``"plain"`` (403)
``omit_request_id``     its responses carry no X-Request-ID (nor X-Correlation-ID)
``raw_token_only``      it reads the Authorization header as the raw token, never Base64
                        (and sends the raw form itself)
``redirect_base``       redirects point to this origin instead of its own
``refuse_tokens``       every token is answered with the bad-token answer

and break it the way broken platforms do:

``mode``                how the versions / version details endpoints answer (``MODES``)
``registration_error``  answer every credentials POST with this OCPI status code
``hold_versions``       hold versions answers until this many versions requests arrived
``hold_credentials``    a ``threading.Event``: a credentials POST/PUT completes on our side
                        (callbacks done, tokens switched), sets ``holding``, then waits for
                        the event before answering the node

``FakeFleet`` starts fakes for one test and stops them all at its end. For the node side
of a test: ``assert_envelope`` checks an OCPI answer, ``stored_state`` takes a snapshot of
what a refusal must leave alone, ``token_out`` reads the partner's token a node holds,
``deviation_lines`` reads a node's log for the interop warnings, ``wait_until`` polls.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from evroam.storage.db import create_engine
from tests.support import NodeProcess, free_port

VERSION = "2.2.1"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# How the versions / version details endpoints answer (``FakePartner.mode``).
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

# One TLS context for every HTTP client of the fakes: a client building its own loads the
# CA bundle, some 20 ms each time (the fakes only speak plain HTTP on loopback anyway).
_TLS = ssl.create_default_context()


def b64(token: str) -> str:
    return base64.b64encode(token.encode("utf-8")).decode("ascii")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_token(header: str | None, *, raw: bool = False) -> str | None:
    """The token of a ``Token <base64>`` header (``raw``: ``Token <token>``); None when the
    header is absent, of another scheme or not Base64."""
    scheme, _, value = (header or "").partition(" ")
    if scheme != "Token" or not value:
        return None
    if raw:
        return value
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def unused_versions_url() -> str:
    """A versions URL on a loopback port nobody listens on: connection refused."""
    return f"http://127.0.0.1:{free_port()}/ocpi/versions"


@dataclass
class Recorded:
    """One request the fake partner received, as it arrived on the wire."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def base_path(self) -> str:
        return self.path.rstrip("/") or "/"


@dataclass(frozen=True)
class Call:
    """One request the node made to the fake partner, in short."""

    method: str
    path: str
    token: str | None  # the Base64-decoded token of the header; None when absent or not Base64


@dataclass
class NodeLink:
    """What the fake knows about the node it is connected to."""

    token: str | None = None  # the token the node gave us (we send it)
    versions_url: str | None = None
    endpoints: list[dict[str, Any]] = field(default_factory=list)


class FakePartner:
    """An OCPI 2.2.1 platform on a loopback port, played by the test (see the module doc)."""

    def __init__(
        self,
        country_code: str = "NL",
        party_id: str = "ABC",
        role: str = "CPO",
        name: str = "Fake Partner",
        *,
        advertise_slash: bool = False,
        accept_path: str = "both",
        wrong_path_status: int = 404,
        lowercase_ids: bool = False,
        version_label: str = VERSION,
        bad_token_answer: str = "ocpi",
        omit_request_id: bool = False,
        raw_token_only: bool = False,
        redirect_base: str | None = None,
        refuse_tokens: bool = False,
        mode: str = "ok",
        registration_error: int | None = None,
        hold_versions: int = 0,
        hold_credentials: threading.Event | None = None,
        port: int | None = None,
    ) -> None:
        assert accept_path in ("both", "slash", "no_slash")
        assert bad_token_answer in ("ocpi", "html", "plain")
        assert mode in MODES
        self.country_code = country_code
        self.party_id = party_id
        self.role = role
        self.name = name
        self.advertise_slash = advertise_slash
        self.accept_path = accept_path
        self.wrong_path_status = wrong_path_status
        self.lowercase_ids = lowercase_ids
        self.version_label = version_label
        self.bad_token_answer = bad_token_answer
        self.omit_request_id = omit_request_id
        self.raw_token_only = raw_token_only
        self.redirect_base = redirect_base
        self.refuse_tokens = refuse_tokens
        self.mode = mode
        self.registration_error = registration_error
        self.hold_versions = hold_versions
        self.hold_credentials = hold_credentials
        self.holding = threading.Event()
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

        self.tokens_a: set[str] = set()  # tokens A we handed out, for a node to register
        self.accepted: set[str] = set()  # tokens the node may call us with (token B...)
        self.issued_history: list[str] = []  # every token we ever gave the node, in order
        self.node = NodeLink()
        self.requests: list[Recorded] = []
        self.posted: list[Any] = []  # bodies of the node's credentials POSTs
        self.callback_errors: list[str] = []
        self._versions_seen = 0
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=ALL_METHODS)])

    # ------------------------------------------------------------------ server

    def start(self) -> FakePartner:
        assert self._server is None, "already running"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            loop="asyncio",
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"fake-partner-{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(5)
                raise RuntimeError(f"fake partner did not start on port {self.port}")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        assert self._thread is not None
        self._thread.join(10)
        self._server = self._thread = None

    # ------------------------------------------------------------------ what it announces

    def _url(self, path: str) -> str:
        """The form of a URL the fake announces in its versions list and version details."""
        return f"{self.base_url}{path}" + ("/" if self.advertise_slash else "")

    def _right_form(self, path: str) -> str:
        base = path.rstrip("/") or "/"
        return base + "/" if self.accept_path == "slash" else base

    @property
    def versions_url(self) -> str:
        """The versions URL handed over offline: the form the server really answers."""
        return f"{self.base_url}{self._right_form('/ocpi/versions')}"

    @property
    def credentials_url(self) -> str:
        """The credentials URL as its version details announce it."""
        return self._url(f"/ocpi/{VERSION}/credentials")

    @property
    def ids(self) -> tuple[str, str]:
        if self.lowercase_ids:
            return self.country_code.lower(), self.party_id.lower()
        return self.country_code.upper(), self.party_id.upper()

    @property
    def label(self) -> str:
        return f"{self.country_code.upper()}-{self.party_id.upper()}"

    def roles(self, **overrides: Any) -> list[dict[str, Any]]:
        cc, pid = self.ids
        role: dict[str, Any] = {
            "role": self.role,
            "business_details": {"name": self.name},
            "party_id": pid,
            "country_code": cc,
        }
        role.update(overrides)
        return [role]

    def credentials(self, token: str, **role_overrides: Any) -> dict[str, Any]:
        """Our Credentials object, giving the node ``token`` to call us with."""
        return {"token": token, "url": self.versions_url, "roles": self.roles(**role_overrides)}

    def versions_list(self) -> Any:
        if self.mode == "no_2_2_1":
            return [
                {"version": "2.1.1", "url": self._url("/ocpi/2.1.1")},
                {"version": "2.3.0", "url": self._url("/ocpi/2.3.0")},
            ]
        return [{"version": self.version_label, "url": self._url(f"/ocpi/{VERSION}")}]

    def version_details(self) -> dict[str, Any]:
        endpoints = [
            {"identifier": "credentials", "role": "SENDER", "url": self.credentials_url},
            {
                "identifier": "locations",
                "role": "RECEIVER",
                "url": self._url(f"/ocpi/{VERSION}/locations"),
            },
        ]
        if self.mode == "no_credentials_endpoint":
            endpoints = endpoints[1:]
        return {"version": self.version_label, "endpoints": endpoints}

    # ------------------------------------------------------------------ tokens

    def issue_token_a(self) -> str:
        """A token A for a node that is to register with us."""
        token = new_token()
        self.tokens_a.add(token)
        return token

    def issue_token(self) -> str:
        """A new token for the node to call us with, valid from now on."""
        token = new_token()
        self.issued_history.append(token)
        self.accepted.add(token)
        return token

    @property
    def issued(self) -> str | None:
        """The latest token we gave the node that is still valid."""
        return next((t for t in reversed(self.issued_history) if t in self.accepted), None)

    def _auth_header(self, token: str, raw: bool | None = None) -> str:
        raw = self.raw_token_only if raw is None else raw
        return f"Token {token if raw else b64(token)}"

    # ------------------------------------------------------------------ requests received

    @property
    def calls(self) -> list[Call]:
        """Every request received, as (method, path, Base64-decoded token)."""
        with self._lock:
            return [Call(r.method, r.path, read_token(r.authorization)) for r in self.requests]

    def calls_since(self, start: int) -> list[Call]:
        return self.calls[start:]

    def requests_for(self, suffix: str, method: str | None = None) -> list[Recorded]:
        """Requests whose path (slash-insensitive) ends with ``suffix``."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.base_path.endswith(suffix.rstrip("/"))
                and (method is None or r.method == method)
            ]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # ------------------------------------------------------------------ the ASGI side

    def _answer(
        self, request: Request, content: Any, status: int = 200, media_type: str = "text/plain"
    ) -> Response:
        return Response(
            content, status_code=status, media_type=media_type, headers=self._ids(request)
        )

    def _envelope(
        self,
        request: Request,
        data: Any = None,
        status_code: int = 1000,
        message: str | None = None,
        http_status: int = 200,
    ) -> Response:
        body: dict[str, Any] = {}
        if data is not None:
            body["data"] = data
        body["status_code"] = status_code
        if message:
            body["status_message"] = message
        body["timestamp"] = utc_now()
        return self._answer(request, json.dumps(body), http_status, "application/json")

    def _ids(self, request: Request) -> dict[str, str]:
        if self.omit_request_id:
            return {}
        return {
            "X-Request-ID": request.headers.get("x-request-id") or str(uuid.uuid4()),
            "X-Correlation-ID": request.headers.get("x-correlation-id") or str(uuid.uuid4()),
        }

    def _refuse(self, request: Request) -> Response:
        if self.bad_token_answer == "html":
            return self._answer(
                request,
                "<html><head><title>403 Forbidden</title></head>"
                "<body><h1>Forbidden</h1></body></html>",
                403,
                "text/html",
            )
        if self.bad_token_answer == "plain":
            return self._answer(request, "Forbidden", 403)
        return self._envelope(request, None, 2000, "unknown token", http_status=401)

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        rec = Recorded(
            method=request.method,
            path=path,
            query=request.url.query,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(rec)

        slash = len(path) > 1 and path.endswith("/")
        if (self.accept_path == "slash" and not slash) or (
            self.accept_path == "no_slash" and slash
        ):
            right = self._right_form(path)
            if self.wrong_path_status == 404:
                return Response("Not Found", status_code=404, media_type="text/plain")
            query = f"?{request.url.query}" if request.url.query else ""
            return Response(
                status_code=self.wrong_path_status,
                headers={"Location": f"{self.redirect_base or self.base_url}{right}{query}"},
            )

        base = path.rstrip("/") or "/"
        header = None if self.refuse_tokens else request.headers.get("authorization")
        token = read_token(header, raw=self.raw_token_only)
        full = token is not None and token in self.accepted
        any_token = full or (token is not None and token in self.tokens_a)

        if base == "/ocpi/versions" and request.method == "GET":
            if not any_token:
                return self._refuse(request)
            return await self._versions(request)
        if base == f"/ocpi/{VERSION}" and request.method == "GET":
            if not any_token:
                return self._refuse(request)
            if self.mode == "details_not_json":
                return self._answer(request, "version details are under maintenance")
            return self._envelope(request, self.version_details())
        if base == f"/ocpi/{VERSION}/credentials":
            if not any_token:
                return self._refuse(request)
            return await self._credentials(request, token, full, body)
        if not full:
            return self._refuse(request)
        return self._envelope(request, None, 2000, "no such endpoint", http_status=404)

    async def _versions(self, request: Request) -> Response:
        self._versions_seen += 1
        deadline = time.monotonic() + 5
        while self._versions_seen < self.hold_versions and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        listed = self.versions_list()
        match self.mode:
            case "not_json":
                return self._answer(request, "<html><body>Welcome!</body></html>")
            case "no_envelope":
                return self._answer(request, json.dumps(listed), media_type="application/json")
            case "http_500":
                return self._envelope(request, None, 3000, "internal error", http_status=500)
            case "data_not_list":
                return self._envelope(request, {"versions": listed})
        return self._envelope(request, listed)

    async def _credentials(
        self, request: Request, token: str | None, full: bool, body: bytes
    ) -> Response:
        assert token is not None
        method = request.method
        if method == "GET":
            return self._envelope(request, self.credentials(token))
        if method == "DELETE":
            if not full:
                return self._envelope(request, None, 2000, "not registered", http_status=405)
            self.accepted.clear()
            self.node = NodeLink()
            return self._envelope(request)
        if method not in ("POST", "PUT"):
            return self._envelope(request, None, 2000, "method not allowed", http_status=405)
        if method == "POST" and full:
            return self._envelope(request, None, 2000, "already registered", http_status=405)
        if method == "PUT" and not full:
            return self._envelope(request, None, 2000, "not registered", http_status=405)
        try:
            theirs = json.loads(body)
            their_token, their_url = theirs["token"], theirs["url"]
        except (ValueError, KeyError, TypeError):
            return self._envelope(request, None, 2001, "invalid credentials")
        if method == "POST":
            self.posted.append(theirs)
            if self.registration_error is not None:
                return self._envelope(request, None, self.registration_error, "not today")
        # As the spec's Receiver: call the node back with its new token before answering.
        try:
            endpoints = await self._discover_async(their_url, their_token)
        except Exception as exc:  # report any failure as the spec's 3001
            self.callback_errors.append(f"{type(exc).__name__}: {exc}")
            return self._envelope(request, None, 3001, f"cannot use your API: {exc}")
        if method == "POST":
            self.tokens_a.discard(token)
        self.accepted.clear()
        self.node = NodeLink(token=their_token, versions_url=their_url, endpoints=endpoints)
        answer = self.credentials(self.issue_token())
        if self.hold_credentials is not None:
            # Registered on our side already; the node waits for our answer meanwhile.
            self.holding.set()
            await asyncio.to_thread(self.hold_credentials.wait, 60)
        return self._envelope(request, answer)

    async def _discover_async(self, versions_url: str, token: str) -> list[dict[str, Any]]:
        headers = {"Authorization": self._auth_header(token)}
        async with httpx.AsyncClient(timeout=30, verify=_TLS) as client:
            r = await client.get(versions_url, headers=headers)
            url = _version_url(_ocpi_data(r))
            return _endpoints(_ocpi_data(await client.get(url, headers=headers)))

    # ------------------------------------------------------------------ talking to a node

    def _headers(self, token: str, raw: bool | None = None, **extra: str) -> dict[str, str]:
        return {
            "Authorization": self._auth_header(token, raw),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            **extra,
        }

    def _discover(self, versions_url: str, token: str, raw: bool | None) -> list[dict[str, Any]]:
        with httpx.Client(timeout=60, verify=_TLS) as client:
            r = client.get(versions_url, headers=self._headers(token, raw))
            url = _version_url(_ocpi_data(r))
            return _endpoints(_ocpi_data(client.get(url, headers=self._headers(token, raw))))

    def node_endpoint(self, identifier: str, role: str | None = None) -> str:
        for ep in self.node.endpoints:
            if ep["identifier"] == identifier and (role is None or ep.get("role") == role):
                return str(ep["url"])
        raise LookupError(f"the node lists no {identifier} {role or ''} endpoint")

    def _send_credentials(
        self, method: str, url: str, token: str, body: Any, raw: bool | None = None
    ) -> httpx.Response:
        headers = self._headers(token, raw, **{"Content-Type": "application/json"})
        with httpx.Client(timeout=60, verify=_TLS) as client:
            return client.request(method, url, headers=headers, content=json.dumps(body))

    def register_with(
        self,
        versions_url: str,
        token_a: str,
        *,
        raw_token: bool | None = None,
        **role_overrides: Any,
    ) -> httpx.Response:
        """Register with a node (we are the spec's Sender): discover it with token A, POST
        our credentials with a fresh token B. Returns the node's answer to the POST; on
        success the fake holds token C and the node's endpoints. ``raw_token`` sends the
        raw form of the token; ``role_overrides`` change our role in the credentials."""
        endpoints = self._discover(versions_url, token_a, raw_token)
        cred_url = next(e["url"] for e in endpoints if e["identifier"] == "credentials")
        token_b = self.issue_token()  # the node calls back with it before it answers
        body = self.credentials(token_b, **role_overrides)
        r = self._send_credentials("POST", cred_url, token_a, body, raw_token)
        if r.status_code == 200 and r.json().get("status_code") == 1000:
            data = r.json()["data"]
            self.node = NodeLink(token=data["token"], versions_url=data["url"], endpoints=endpoints)
        else:
            self.accepted.discard(token_b)
        return r

    def update_at_node(self) -> httpx.Response:
        """Credentials PUT to the node with a new token for it (rotation from our side):
        our old tokens stop working at once, and work again if the node refuses."""
        assert self.node.token, "not registered with a node"
        cred_url = self.node_endpoint("credentials")
        previous = set(self.accepted)
        self.accepted.clear()
        body = self.credentials(self.issue_token())
        r = self._send_credentials("PUT", cred_url, self.node.token, body)
        if r.status_code == 200 and r.json().get("status_code") == 1000:
            self.node.token = r.json()["data"]["token"]
        else:
            self.accepted = previous
        return r

    def call_node(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Any OCPI call to the node with the token it gave us (or ``token``)."""
        use = token if token is not None else self.node.token
        assert use, "no token for the node"
        extra = dict(headers or {})
        content = None
        if json_body is not None:
            extra.setdefault("Content-Type", "application/json")
            content = json.dumps(json_body)
        with httpx.Client(timeout=60, verify=_TLS) as client:
            return client.request(method, url, headers=self._headers(use, **extra), content=content)


def _ocpi_data(r: httpx.Response) -> Any:
    """The data of a successful OCPI answer; any other answer raises."""
    where = f"{r.request.method} {r.request.url}"
    if r.status_code != 200:
        raise RuntimeError(f"{where}: HTTP {r.status_code} {r.text}")
    body = r.json()
    if body.get("status_code") != 1000:
        raise RuntimeError(f"{where}: OCPI {body.get('status_code')} {r.text}")
    return body["data"]


def _version_url(versions: list[dict[str, str]]) -> str:
    return next(v["url"] for v in versions if v["version"] == VERSION)


def _endpoints(details: dict[str, Any]) -> list[dict[str, Any]]:
    return list(details["endpoints"])


class FakeFleet:
    """Fake partners of one test: ``fleet.start(...)`` makes and starts one; ``close`` stops all."""

    def __init__(self) -> None:
        self.fakes: list[FakePartner] = []

    def start(self, *args: Any, **kwargs: Any) -> FakePartner:
        fake = FakePartner(*args, **kwargs)
        self.fakes.append(fake)
        return fake.start()

    def close(self) -> None:
        for fake in self.fakes:
            fake.stop()


# ---------------------------------------------------------------------- the node side


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
    listed = node.api("GET", "/partners", expect=200)
    assert isinstance(listed, list)
    return listed


def stored_state(node: NodeProcess) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """What a refusal must leave alone: every partner as listed (``last_connection`` aside:
    any valid call refreshes it) and every token hash the node issued."""
    listed = [{k: v for k, v in p.items() if k != "last_connection"} for p in partners(node)]
    return listed, issued_token_hashes(node)


def deviation_lines(log: str, kind: str | None = None) -> list[str]:
    """The node's interop warnings (logger ``evroam.interop``), optionally of one kind."""
    return [
        line
        for line in log.splitlines()
        if " WARNING evroam.interop " in line
        and "deviates from OCPI" in line
        and (kind is None or f"({kind})" in line)
    ]


def wait_until(check: Any, timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy; return that, or fail at the timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
