"""Fake OICP partner servers (a CPO, an online EMP) for end-to-end tests of the hub's
calls to partners: real uvicorn processes over mutual TLS, as a partner's server is.

``FakePartnerServer`` starts ``python -m tests.integration.oicp_sessions.fake_partners``
on a free loopback port with a server certificate and the CA that client certificates
must be signed by (``evroam.oicp.tls.uvicorn_tls_kwargs``; the same dev CA as the hub),
so the hub can reach it only by presenting its own client certificate. The process
serves every path a partner serves in OICP 2.3 (digest §1.2: remote start/stop and
reservation start/stop for a CPO; AuthorizeStart/Stop, the CDR and charging
notifications for an EMP) under ``/api/oicp``, and two control paths for the test:

``POST /_fake/answer``   ``{"operation": name, "status": 200, "body": {...}, "delay": s}``:
                         how to answer that operation from now on; ``"$SessionID"`` in
                         the body is replaced by the request's SessionID
``GET  /_fake/received`` every partner request as received: operation, path, the
                         client certificate's CN, the JSON body

What it checks on its own, independently of the hub's code (its table of paths is
written here, not taken from ``paths.py``): the path is one a partner serves (404
otherwise), the caller presented a certificate, the body is a JSON object, and every
message of a session carries a GUID ``SessionID`` (the hub makes it; digest §3). A
request failing a check is recorded with ``"problem"`` set and answered HTTP 400, so
a test sees the hub sent something wrong.

Defaults when nothing was configured: an acknowledgement ``Result`` true with 000 and
the request's SessionID, and for AuthorizeStart/Stop ``NotAuthorized`` with 102.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

# The partner side of OICP 2.3, as the specification's tables list it.
PATHS: dict[str, re.Pattern[str]] = {
    name: re.compile("^/api/oicp" + pattern + "$")
    for name, pattern in {
        "AuthorizeRemoteStart": r"/charging/v21/providers/[^/]+/authorize-remote/start",
        "AuthorizeRemoteStop": r"/charging/v21/providers/[^/]+/authorize-remote/stop",
        "AuthorizeRemoteReservationStart": (
            r"/reservation/v11/providers/[^/]+/reservation-start-request"
        ),
        "AuthorizeRemoteReservationStop": (
            r"/reservation/v11/providers/[^/]+/reservation-stop-request"
        ),
        "AuthorizeStart": r"/charging/v21/operators/[^/]+/authorize/start",
        "AuthorizeStop": r"/charging/v21/operators/[^/]+/authorize/stop",
        "ChargeDetailRecord": r"/cdrmgmt/v22/operators/[^/]+/charge-detail-record",
        "ChargingNotification": r"/notificationmgmt/v11/charging-notifications",
    }.items()
}
GUID = re.compile(r"^[A-Za-z0-9]{8}(-[A-Za-z0-9]{4}){3}-[A-Za-z0-9]{12}$")


def _default(operation: str) -> dict[str, Any]:
    if operation in ("AuthorizeStart", "AuthorizeStop"):
        return {
            "AuthorizationStatus": "NotAuthorized",
            "StatusCode": {"Code": "102", "Description": "invalid UID"},
        }
    return {"Result": True, "StatusCode": {"Code": "000"}, "SessionID": "$SessionID"}


def _fill(value: Any, session_id: Any) -> Any:
    if value == "$SessionID":
        return session_id
    if isinstance(value, dict):
        return {k: _fill(v, session_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, session_id) for v in value]
    return value


def build_app() -> Any:
    """The fake's ASGI app (run in the fake's own process)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from evroam.oicp import tls

    answers: dict[str, dict[str, Any]] = {}
    received: list[dict[str, Any]] = []

    async def answer(request: Request) -> Response:
        spec = await request.json()
        answers[spec["operation"]] = spec
        return JSONResponse({"ok": True})

    async def listing(request: Request) -> Response:
        return JSONResponse(received)

    async def partner(request: Request) -> Response:
        path = request.url.path
        operation = next((n for n, p in PATHS.items() if p.match(path)), None)
        cert = tls.peer_certificate(request.scope)
        entry: dict[str, Any] = {
            "operation": operation,
            "path": path,
            "caller": tls.certificate_identities(cert, "cn") if cert else None,
            "body": None,
            "problem": None,
        }
        received.append(entry)
        if operation is None:
            entry["problem"] = "not a partner path"
            return JSONResponse({"error": "no such path"}, status_code=404)
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        entry["body"] = body
        if cert is None:
            entry["problem"] = "no client certificate"
        elif not isinstance(body, dict):
            entry["problem"] = "body is not a JSON object"
        elif not GUID.match(str(body.get("SessionID", ""))):
            entry["problem"] = "no GUID SessionID"
        if entry["problem"]:
            return JSONResponse({"error": entry["problem"]}, status_code=400)
        assert isinstance(body, dict)
        spec = answers.get(operation, {})
        if spec.get("delay"):
            await asyncio.sleep(float(spec["delay"]))
        if spec.get("raw") is not None:
            return Response(spec["raw"], status_code=spec.get("status", 200))
        reply = _fill(spec.get("body", _default(operation)), body.get("SessionID"))
        return JSONResponse(reply, status_code=spec.get("status", 200))

    return Starlette(
        routes=[
            Route("/_fake/answer", answer, methods=["POST"]),
            Route("/_fake/received", listing, methods=["GET"]),
            Route("/{path:path}", partner, methods=["POST"]),
        ]
    )


def main() -> None:
    import uvicorn

    from evroam.oicp import tls

    parser = argparse.ArgumentParser()
    for name in ("--port", "--cert", "--key", "--ca"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    uvicorn.run(
        build_app(),
        host="127.0.0.1",
        port=int(args.port),
        log_level="warning",
        lifespan="off",
        # Idle keep-alive connections (the hub's, the test's) must not hold up a stop.
        timeout_graceful_shutdown=1,
        **tls.uvicorn_tls_kwargs(Path(args.cert), Path(args.key), Path(args.ca)),
    )


class FakePartnerServer:
    """The fake in its own process; ``base_url`` is the endpoint to register for the
    partner, ``control`` a client presenting a certificate of the dev CA."""

    def __init__(
        self, workdir: Path, cert: Path, key: Path, ca: Path, control: httpx.Client
    ) -> None:
        from tests.support import free_port

        self.port = free_port()
        self.base_url = f"https://127.0.0.1:{self.port}"
        self.control = control
        self._log = open(workdir / f"fake-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        root = Path(__file__).resolve().parents[3]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "src")])}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.oicp_sessions.fake_partners",
                "--port",
                str(self.port),
                "--cert",
                str(cert),
                "--key",
                str(key),
                "--ca",
                str(ca),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=root,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("fake partner exited early")
            try:
                self.received()
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("fake partner did not start")

    def answer(
        self,
        operation: str,
        body: dict[str, Any] | None = None,
        *,
        status: int = 200,
        delay: float = 0.0,
        raw: str | None = None,
    ) -> None:
        spec: dict[str, Any] = {"operation": operation, "status": status, "delay": delay}
        if body is not None:
            spec["body"] = body
        if raw is not None:
            spec["raw"] = raw
        r = self.control.post(f"{self.base_url}/_fake/answer", json=spec)
        r.raise_for_status()

    def received(self, operation: str | None = None) -> list[dict[str, Any]]:
        r = self.control.get(f"{self.base_url}/_fake/received")
        r.raise_for_status()
        items: list[dict[str, Any]] = r.json()
        return [i for i in items if operation is None or i["operation"] == operation]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


if __name__ == "__main__":
    main()
