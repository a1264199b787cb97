"""A configurable OCPI 2.2.1 partner platform for end-to-end tests against real nodes.

``FakePartner`` is a small Starlette app served by a real uvicorn server in a background
thread on a loopback port. It offers the versions, version details and credentials
endpoints, holds the tokens it issued, records every request it receives, and can play
both sides of the credentials handshake:

* an evroam node registers with it (give the node ``fake.versions_url`` and a token from
  ``fake.issue_token_a()``); the fake calls the node back with token B before answering,
  as the spec's Receiver does;
* it registers with an evroam node (``fake.register_with(versions_url, token_a)``).

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

``deviation_lines`` reads a node's log for the interop warnings, ``wait_until`` polls, and
``FakeFleet`` starts fakes for one test and stops them all at its end.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support import free_port

VERSION = "2.2.1"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def b64(token: str) -> str:
    return base64.b64encode(token.encode("utf-8")).decode("ascii")


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


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


@dataclass
class NodeLink:
    """What the fake knows about the node it is connected to."""

    token: str | None = None  # the token the node gave us (we send it)
    versions_url: str | None = None
    endpoints: list[dict[str, Any]] = field(default_factory=list)


class FakePartner:
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
        port: int | None = None,
    ) -> None:
        assert accept_path in ("both", "slash", "no_slash")
        assert bad_token_answer in ("ocpi", "html", "plain")
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
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

        self.tokens_a: set[str] = set()
        self.issued: str | None = None  # the token we gave the node; valid everywhere
        self.issued_history: list[str] = []  # every token we ever gave the node
        self.node = NodeLink()
        self.requests: list[Recorded] = []
        self.callback_errors: list[str] = []
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

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> FakePartner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
    def ids(self) -> tuple[str, str]:
        if self.lowercase_ids:
            return self.country_code.lower(), self.party_id.lower()
        return self.country_code.upper(), self.party_id.upper()

    @property
    def label(self) -> str:
        return f"{self.country_code.upper()}-{self.party_id.upper()}"

    def roles(self) -> list[dict[str, Any]]:
        cc, pid = self.ids
        return [
            {
                "role": self.role,
                "business_details": {"name": self.name},
                "party_id": pid,
                "country_code": cc,
            }
        ]

    def credentials(self, token: str) -> dict[str, Any]:
        return {"token": token, "url": self.versions_url, "roles": self.roles()}

    def versions_list(self) -> list[dict[str, str]]:
        return [{"version": self.version_label, "url": self._url(f"/ocpi/{VERSION}")}]

    def version_details(self) -> dict[str, Any]:
        credentials = {
            "identifier": "credentials",
            "role": "SENDER",
            "url": self._url(f"/ocpi/{VERSION}/credentials"),
        }
        return {"version": self.version_label, "endpoints": [credentials]}

    # ------------------------------------------------------------------ tokens

    def issue_token_a(self) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens_a.add(token)
        return token

    def _new_token(self) -> str:
        token = secrets.token_urlsafe(24)
        self.issued_history.append(token)
        return token

    def _read_token(self, header: str | None) -> str | None:
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "token" or not value:
            return None
        if self.raw_token_only:
            return value
        try:
            return base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None

    def _auth_header(self, token: str) -> str:
        return f"Token {token if self.raw_token_only else b64(token)}"

    # ------------------------------------------------------------------ requests received

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
        return Response(
            json.dumps(body),
            status_code=http_status,
            media_type="application/json",
            headers=self._ids(request),
        )

    def _ids(self, request: Request) -> dict[str, str]:
        if self.omit_request_id:
            return {}
        return {
            "X-Request-ID": request.headers.get("x-request-id") or str(uuid.uuid4()),
            "X-Correlation-ID": request.headers.get("x-correlation-id") or str(uuid.uuid4()),
        }

    def _refuse(self, request: Request) -> Response:
        if self.bad_token_answer == "html":
            return Response(
                "<html><head><title>403 Forbidden</title></head>"
                "<body><h1>Forbidden</h1></body></html>",
                status_code=403,
                media_type="text/html",
                headers=self._ids(request),
            )
        if self.bad_token_answer == "plain":
            return Response(
                "Forbidden", status_code=403, media_type="text/plain", headers=self._ids(request)
            )
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
        token = (
            None if self.refuse_tokens else self._read_token(request.headers.get("authorization"))
        )
        full = token is not None and token == self.issued
        any_token = full or (token is not None and token in self.tokens_a)

        if base == "/ocpi/versions" and request.method == "GET":
            if not any_token:
                return self._refuse(request)
            return self._envelope(request, self.versions_list())
        if base == f"/ocpi/{VERSION}" and request.method == "GET":
            if not any_token:
                return self._refuse(request)
            return self._envelope(request, self.version_details())
        if base == f"/ocpi/{VERSION}/credentials":
            if not any_token:
                return self._refuse(request)
            return await self._credentials(request, token, full, body)
        if not full:
            return self._refuse(request)
        return self._envelope(request, None, 2000, "no such endpoint", http_status=404)

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
            self.issued = None
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
        # As the spec's Receiver: call the node back with its new token before answering.
        try:
            endpoints = await self._discover_async(their_url, their_token)
        except Exception as exc:  # report any failure as the spec's 3001
            self.callback_errors.append(f"{type(exc).__name__}: {exc}")
            return self._envelope(request, None, 3001, f"cannot use your API: {exc}")
        new_token = self._new_token()
        self.issued = new_token
        if method == "POST":
            self.tokens_a.discard(token)
        self.node = NodeLink(token=their_token, versions_url=their_url, endpoints=endpoints)
        return self._envelope(request, self.credentials(new_token))

    async def _discover_async(self, versions_url: str, token: str) -> list[dict[str, Any]]:
        headers = {"Authorization": self._auth_header(token)}
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.get(versions_url, headers=headers)
            r.raise_for_status()
            versions = r.json()["data"]
            url = next(v["url"] for v in versions if v["version"] == VERSION)
            r = await client.get(url, headers=headers)
            r.raise_for_status()
            return list(r.json()["data"]["endpoints"])

    # ------------------------------------------------------------------ talking to a node

    def _headers(self, token: str, **extra: str) -> dict[str, str]:
        return {
            "Authorization": self._auth_header(token),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            **extra,
        }

    def _discover(self, versions_url: str, token: str) -> list[dict[str, Any]]:
        with httpx.Client(timeout=60) as client:
            r = client.get(versions_url, headers=self._headers(token))
            assert r.status_code == 200, f"GET {versions_url}: {r.status_code} {r.text}"
            versions = r.json()["data"]
            url = next(v["url"] for v in versions if v["version"] == VERSION)
            r = client.get(url, headers=self._headers(token))
            assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text}"
            return list(r.json()["data"]["endpoints"])

    def node_endpoint(self, identifier: str, role: str | None = None) -> str:
        for ep in self.node.endpoints:
            if ep["identifier"] == identifier and (role is None or ep.get("role") == role):
                return str(ep["url"])
        raise LookupError(f"the node lists no {identifier} {role or ''} endpoint")

    def register_with(self, versions_url: str, token_a: str) -> httpx.Response:
        """Register with a node (we are the spec's Sender). Returns the node's answer to the
        credentials POST; on success the fake holds token C and the node's endpoints."""
        endpoints = self._discover(versions_url, token_a)
        cred_url = next(e["url"] for e in endpoints if e["identifier"] == "credentials")
        token_b = self._new_token()
        previous = self.issued
        self.issued = token_b  # the node calls back with it before it answers
        with httpx.Client(timeout=60) as client:
            r = client.post(
                cred_url,
                headers=self._headers(token_a, **{"Content-Type": "application/json"}),
                content=json.dumps(self.credentials(token_b)),
            )
        if r.status_code == 200 and r.json().get("status_code") == 1000:
            data = r.json()["data"]
            self.node = NodeLink(token=data["token"], versions_url=data["url"], endpoints=endpoints)
        else:
            self.issued = previous
        return r

    def update_at_node(self) -> httpx.Response:
        """Credentials PUT to the node with a new token for it (rotation from our side)."""
        assert self.node.token, "not registered with a node"
        cred_url = self.node_endpoint("credentials")
        new_token = self._new_token()
        previous = self.issued
        self.issued = new_token
        with httpx.Client(timeout=60) as client:
            r = client.put(
                cred_url,
                headers=self._headers(self.node.token, **{"Content-Type": "application/json"}),
                content=json.dumps(self.credentials(new_token)),
            )
        if r.status_code == 200 and r.json().get("status_code") == 1000:
            self.node.token = r.json()["data"]["token"]
        else:
            self.issued = previous
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
        with httpx.Client(timeout=60) as client:
            return client.request(method, url, headers=self._headers(use, **extra), content=content)


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
