"""Throughput of authenticated ``GET /ocpi/2.2.1`` (version details), against a bare ceiling.

One ``evroam serve`` process (CPO) gets one registered partner: this script starts a tiny
fake partner (Starlette under uvicorn, in a subprocess) that serves ``/ocpi/versions`` and
``/ocpi/2.2.1`` for token B, takes a token A from ``POST /api/v1/partners/invite``, and
POSTs the partner's credentials to the node's credentials endpoint with token A. The node
discovers the fake partner with token B and answers with token C: the token a registered
partner calls the node with. The fake partner is stopped after the handshake.

``wrk`` then drives ``GET /ocpi/2.2.1`` with ``Authorization: Token <base64(C)>``, and in the
same run the same wrk command drives a bare Starlette endpoint that returns the very JSON
body the node answered (same size, serialised per request as the node does), served by
uvicorn with the node's loop and HTTP implementations. That is the ceiling: the share of
it that evroam reaches is what is judged.

Target: evroam at least 60% of the ceiling's requests/s.

    .venv/bin/python bench/version_details.py
    .venv/bin/python bench/version_details.py --duration 30 --connections 64

wrk is the Debian package ``wrk``; run as root, this script installs it when missing.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

import common
from common import ADMIN_TOKEN, Server

TARGET_RATIO = 0.60

# ---------------------------------------------------------------------- ASGI apps
# Imported by uvicorn in a subprocess: ``uvicorn --factory --app-dir bench version_details:...``.
# Configuration comes from the environment; nothing runs at import.


def make_partner_app() -> Any:
    """The fake partner: versions and 2.2.1 details (credentials endpoint) for token B only."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    base = os.environ["BENCH_PARTNER_BASE"]
    token_b = os.environ["BENCH_PARTNER_TOKEN"]
    accepted = {token_b, base64.b64encode(token_b.encode()).decode()}

    def answer(request: Request, data: Any) -> JSONResponse:
        rid = request.headers.get("x-request-id", str(uuid.uuid4()))
        cid = request.headers.get("x-correlation-id", str(uuid.uuid4()))
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "token" or value.strip() not in accepted:
            body = {"status_code": 2000, "status_message": "unknown token", "timestamp": now()}
            return JSONResponse(body, status_code=401)
        body = {"data": data, "status_code": 1000, "timestamp": now()}
        return JSONResponse(body, headers={"X-Request-ID": rid, "X-Correlation-ID": cid})

    def now() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    async def versions(request: Request) -> JSONResponse:
        return answer(request, [{"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"}])

    async def details(request: Request) -> JSONResponse:
        endpoints = [
            {
                "identifier": "credentials",
                "role": "RECEIVER",
                "url": f"{base}/ocpi/2.2.1/credentials",
            }
        ]
        return answer(request, {"version": "2.2.1", "endpoints": endpoints})

    return Starlette(
        routes=[
            Route("/ocpi/versions", versions),
            Route("/ocpi/2.2.1", details),
        ]
    )


def make_ceiling_app() -> Any:
    """The ceiling: one route, the node's own version-details body, no auth, no middleware."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    body = json.loads(os.environ["BENCH_CEILING_BODY"])

    async def details(request: Request) -> JSONResponse:
        return JSONResponse(body)

    return Starlette(routes=[Route("/ocpi/2.2.1", details)])


# ---------------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit(
            "error: wrk is not installed. Install the Debian package as root:\n"
            "  sudo apt-get update -qq && sudo apt-get install -y -qq wrk"
        )
    print("wrk is missing; installing the Debian package wrk ...", flush=True)
    subprocess.run(
        "apt-get update -qq && apt-get install -y -qq wrk",
        shell=True,
        check=True,
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        stdout=subprocess.DEVNULL,
    )
    found = shutil.which("wrk")
    if not found:
        sys.exit("error: apt-get install wrk succeeded but wrk is not on PATH")
    return found


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/sec, the 50/99% latency lines of --latency, request count and errors."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p99 and p50 and total):
        raise ValueError(f"could not parse wrk output:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "requests": int(total.group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
    }


def wrk_command(wrk: str, args: argparse.Namespace, header: str, url: str, secs: int) -> list[str]:
    return [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{secs}s",
        "--latency",
        "-H",
        header,
        url,
    ]


def run_wrk(cmd: list[str]) -> tuple[str, dict[str, Any]]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout, parse_wrk(done.stdout)


# ---------------------------------------------------------------------- setup


def register_fake_partner(
    node: Server, workdir: Path, role: str = "EMSP", party: tuple[str, str] = ("NL", "BEN")
) -> str:
    """Register a fake partner with the node; return token C (the partner's token for us)."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    inv = httpx.post(f"{node.url}/api/v1/partners/invite", json={}, headers=admin, timeout=30)
    if inv.status_code != 201:
        raise RuntimeError(f"invite: HTTP {inv.status_code} {inv.text}")
    token_a = inv.json()["token"]
    token_b = f"bench-token-b-{uuid.uuid4().hex}"
    port = common.free_port()
    base = f"http://127.0.0.1:{port}"
    partner = common.start_uvicorn_app(
        "fake-partner",
        "version_details:make_partner_app",
        workdir,
        {"BENCH_PARTNER_BASE": base, "BENCH_PARTNER_TOKEN": token_b},
        "/ocpi/versions",
        401,
        port,
    )
    try:
        body = {
            "token": token_b,
            "url": f"{base}/ocpi/versions",
            "roles": [
                {
                    "role": role,
                    "business_details": {"name": "bench"},
                    "party_id": party[1],
                    "country_code": party[0],
                }
            ],
        }
        headers = {"Authorization": f"Token {base64.b64encode(token_a.encode()).decode()}"}
        resp = httpx.post(
            f"{node.url}/ocpi/2.2.1/credentials", json=body, headers=headers, timeout=30
        )
        answer = resp.json()
        if resp.status_code != 200 or answer.get("status_code") != 1000:
            raise RuntimeError(f"credentials POST: HTTP {resp.status_code} {resp.text}")
        token_c: str = answer["data"]["token"]
    finally:
        partner.stop()
    return token_c


def loop_http_impl() -> str:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"loop={loop}, http={http}"


# ---------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (concurrency)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of unreported wrk load first (0: none)"
    )
    common.add_db_options(parser)
    args = parser.parse_args()
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")

    session = common.Session()
    wrk = ensure_wrk()
    results: dict[str, dict[str, Any]] = {}
    raw: dict[str, str] = {}
    with common.Workspace(
        "details", args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and database"
    ) as workspace:
        node = common.start_node(workspace.database("node"), workspace.workdir, "NL", "CPO", "CPO")
        workspace.servers.append(node)
        token_c = register_fake_partner(node, workspace.workdir)
        auth = f"Token {base64.b64encode(token_c.encode()).decode()}"
        header = f"Authorization: {auth}"

        check = httpx.get(f"{node.url}/ocpi/2.2.1", headers={"Authorization": auth}, timeout=10)
        if check.status_code != 200 or check.json().get("status_code") != 1000:
            raise RuntimeError(f"GET /ocpi/2.2.1 with token C: {check.status_code} {check.text}")
        node_body = check.content

        ceiling = common.start_uvicorn_app(
            "ceiling",
            "version_details:make_ceiling_app",
            workspace.workdir,
            {"BENCH_CEILING_BODY": node_body.decode()},
            "/ocpi/2.2.1",
            200,
        )
        workspace.servers.append(ceiling)
        ceiling_body = httpx.get(f"{ceiling.url}/ocpi/2.2.1", timeout=10).content

        targets = {"evroam": f"{node.url}/ocpi/2.2.1", "ceiling": f"{ceiling.url}/ocpi/2.2.1"}
        for name, url in targets.items():
            if args.warmup > 0:
                run_wrk(wrk_command(wrk, args, header, url, args.warmup))
            raw[name], results[name] = run_wrk(wrk_command(wrk, args, header, url, args.duration))

    shown = wrk_command("wrk", args, "Authorization: Token <base64 token C>", "URL", args.duration)
    print(f"version details (GET /ocpi/2.2.1, token C of a registered partner), {args.db}")
    session.print_machine(f"uvicorn {loop_http_impl()}")
    print(f"wrk: {shlex.join(shown)}   (after a {args.warmup} s unreported warm-up)")
    print(f"body: evroam {len(node_body)} bytes, ceiling {len(ceiling_body)} bytes")
    for name, out in raw.items():
        print(f"--- wrk output, {name} ---\n{out.rstrip()}")
    print(f"{'':10}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    for name, r in results.items():
        errors = r["non_2xx"] + r["socket_errors"]
        print(
            f"{name:10}{r['rps']:12.1f}{r['p50_ms']:10.2f}{r['p99_ms']:10.2f}"
            f"{r['requests']:10d}{errors:8d}"
        )
    ratio = results["evroam"]["rps"] / results["ceiling"]["rps"]
    failed = any(r["non_2xx"] or r["socket_errors"] for r in results.values())
    met = ratio >= TARGET_RATIO and not failed
    print(f"evroam/ceiling: {ratio:.1%} of the ceiling's requests/s")
    verdict = "MET" if met else "NOT MET"
    note = " (some requests failed: see errors)" if failed else ""
    print(f"target: at least {TARGET_RATIO:.0%} of the ceiling: {verdict}{note}")
    options = [
        "--duration",
        str(args.duration),
        "--connections",
        str(args.connections),
        "--threads",
        str(args.threads),
        "--warmup",
        str(args.warmup),
        *common.db_options(args),
    ]
    session.print_end("version_details.py", options)
    return 0 if met else 1


if __name__ == "__main__":
    common.run(main)
