"""Throughput of the OCPI functional modules, each against a bare ceiling in the same run.

Cases (``--case``):

``evse-patch``  A CPO partner PATCHes an EVSE status into the node's Locations Receiver
                (``PATCH /ocpi/2.2.1/receiver/locations/NL/BEN/LOC1/EVSE1``), stored each
                time, wrk at concurrency 32. Ceiling: a bare Starlette endpoint under the
                same server stack that reads the body and answers the same envelope.
                Target: at least 50% of the ceiling's requests/s.
``authorize``   A CPO partner asks the node's Tokens Sender for real-time authorization
                (``POST /ocpi/2.2.1/sender/tokens/TOK1/authorize``), wrk at concurrency 32.
                Target: at least 60% of the ceiling's requests/s.
``paging``      A partner pages through the node's Locations Sender with limit 1000:
                100,000 locations with 2 EVSEs each (loaded straight into the database
                before the run; loading is not what is measured). Prints locations/s and
                the server's peak RSS (VmHWM). Targets: at least 25,000 locations/s, RSS
                under 250 MB.

    .venv/bin/python bench/functional.py --case evse-patch [--db postgres]
    .venv/bin/python bench/functional.py --case authorize
    .venv/bin/python bench/functional.py --case paging [--count 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

import common
from common import ADMIN_TOKEN
from version_details import ensure_wrk, loop_http_impl, parse_wrk, register_fake_partner

TARGETS = {"evse-patch": 0.50, "authorize": 0.60}
PAGING_RATE = 25_000.0
PAGING_RSS_MB = 250.0
STAMP = "2026-01-01T00:00:00Z"


def make_ceiling_app() -> Any:
    """Bare Starlette: read the body, answer the node's envelope for this case."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = os.environ["BENCH_CEILING_BODY"].encode()
    path = os.environ["BENCH_CEILING_PATH"]

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route(path, answer, methods=["GET", "POST", "PATCH", "PUT"])])


def connector(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": STAMP,
    }


def location(cc: str, pid: str, lid: str) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": lid,
        "publish": True,
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.08900", "longitude": "5.11000"},
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": f"{lid}-E{n}",
                "evse_id": f"NL*BEN*E{lid}{n}"[:48],
                "status": "AVAILABLE",
                "connectors": [connector("1")],
                "last_updated": STAMP,
            }
            for n in (1, 2)
        ],
        "last_updated": STAMP,
    }


def wrk_lua(workdir: Path, method: str, body: str, token_header: str) -> Path:
    script = workdir / f"{method.lower()}.lua"
    script.write_text(
        f"wrk.method = {json.dumps(method)}\n"
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = {json.dumps(token_header)}\n'
    )
    return script


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    wrk: str, args: argparse.Namespace, script: Path, url: str, secs: int
) -> tuple[str, dict[str, Any]]:
    cmd = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{secs}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout, parse_wrk(done.stdout)


def wrk_case(args: argparse.Namespace, session: common.Session) -> int:
    wrk = ensure_wrk()
    target = TARGETS[args.case]
    results: dict[str, dict[str, Any]] = {}
    with common.Workspace(
        args.case, args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and database"
    ) as ws:
        role = "EMSP"
        node = common.start_node(ws.database("node"), ws.workdir, "DE", "MSP", role)
        ws.servers.append(node)
        token_c = register_fake_partner(node, ws.workdir, role="CPO", party=("NL", "BEN"))
        auth = f"Token {base64.b64encode(token_c.encode()).decode()}"
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        if args.case == "evse-patch":
            put = httpx.put(
                f"{node.url}/ocpi/2.2.1/receiver/locations/NL/BEN/LOC1",
                json=location("NL", "BEN", "LOC1"),
                headers={"Authorization": auth},
                timeout=30,
            )
            if put.status_code not in (200, 201) or put.json().get("status_code") != 1000:
                raise RuntimeError(f"location PUT: {put.status_code} {put.text}")
            path = "/ocpi/2.2.1/receiver/locations/NL/BEN/LOC1/LOC1-E1"
            method = "PATCH"
            body = json.dumps({"status": "CHARGING", "last_updated": "2026-01-02T00:00:00Z"})
        else:
            token = {
                "country_code": "DE",
                "party_id": "MSP",
                "uid": "TOK1",
                "type": "RFID",
                "contract_id": "DE-MSP-C00000001-X",
                "issuer": "bench",
                "valid": True,
                "whitelist": "ALLOWED",
                "last_updated": STAMP,
            }
            r = httpx.put(
                f"{node.url}/api/v1/tokens/DE/MSP/TOK1?type=RFID",
                json=token,
                headers=admin,
                timeout=30,
            )
            if r.status_code >= 300:
                raise RuntimeError(f"token PUT: {r.status_code} {r.text}")
            path = "/ocpi/2.2.1/sender/tokens/TOK1/authorize"
            method = "POST"
            body = json.dumps({"location_id": "LOC1", "evse_uids": ["LOC1-E1"]})
        check = httpx.request(
            method,
            f"{node.url}{path}",
            content=body,
            headers={"Authorization": auth, "Content-Type": "application/json"},
            timeout=30,
        )
        if check.status_code != 200 or check.json().get("status_code") != 1000:
            raise RuntimeError(f"{method} {path}: {check.status_code} {check.text}")
        ceiling = common.start_uvicorn_app(
            "ceiling",
            "functional:make_ceiling_app",
            ws.workdir,
            {"BENCH_CEILING_BODY": check.text, "BENCH_CEILING_PATH": path},
            path,
            200,
        )
        ws.servers.append(ceiling)
        script = wrk_lua(ws.workdir, method, body, auth)
        for name, base in (("evroam", node.url), ("ceiling", ceiling.url)):
            if args.warmup:
                run_wrk(wrk, args, script, f"{base}{path}", args.warmup)
            spy = None
            if args.profile and name == "evroam":
                spy = common.record_profile(
                    node.proc.pid, args.profile, args.duration, args.profile_format
                )
            server = node if name == "evroam" else ceiling
            cpu0 = cpu_seconds(server.proc.pid)
            _out, results[name] = run_wrk(wrk, args, script, f"{base}{path}", args.duration)
            # The server's own CPU per request: what the ratio is made of, apart from the
            # share of the machine the load generator takes.
            cpu = cpu_seconds(server.proc.pid) - cpu0
            results[name]["cpu_us"] = cpu / max(results[name]["requests"], 1) * 1e6
            results[name]["cpu_busy"] = cpu / args.duration
            if spy is not None:
                spy.wait(60)

    load = f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
    print(f"{args.case}: {method} {path}, {args.db}, {load}")
    session.print_machine(f"uvicorn {loop_http_impl()}")
    print(
        f"{'':10}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}"
        f"{'CPU us/req':>12}{'CPU busy':>10}"
    )
    for name, r in results.items():
        errors = r["non_2xx"] + r["socket_errors"]
        print(
            f"{name:10}{r['rps']:12.1f}{r['p50_ms']:10.2f}{r['p99_ms']:10.2f}{r['requests']:10d}"
            f"{errors:8d}{r['cpu_us']:12.0f}{r['cpu_busy']:10.0%}"
        )
    ratio = results["evroam"]["rps"] / results["ceiling"]["rps"]
    failed = any(r["non_2xx"] or r["socket_errors"] for r in results.values())
    met = ratio >= target and not failed
    print(f"evroam/ceiling: {ratio:.1%} of the ceiling's requests/s")
    print(
        f"target: at least {target:.0%} of the ceiling: {'MET' if met else 'NOT MET'}"
        + (" (some requests failed)" if failed else "")
    )
    return 0 if met else 1


def load_locations_sqlite(db_path: Path, count: int) -> None:
    """Setup, not measured: insert the node's own locations straight into ocpi_object."""
    conn = sqlite3.connect(db_path)
    now = "2026-01-01 00:00:00.000000"
    rows = []
    for i in range(count):
        lid = f"L{i:07d}"
        doc = json.dumps(location("DE", "MSP", lid), separators=(",", ":"))
        rows.append(("locations", "DE", "MSP", lid, lid.upper(), "", None, 1, None, now, now, doc))
    conn.executemany(
        "INSERT INTO ocpi_object (module, country_code, party_id, object_id, id_key, variant,"
        " partner_id, shared, audience, last_updated, created_at, document)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.commit()
    conn.close()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def crawl(url: str, auth: str) -> tuple[int, float, int]:
    seen = pages = 0
    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        next_url: str | None = f"{url}?limit=1000"
        while next_url:
            r = await client.get(next_url, headers={"Authorization": auth})
            if r.status_code != 200:
                raise RuntimeError(f"GET {next_url}: {r.status_code} {r.text[:200]}")
            seen += len(r.json()["data"])
            pages += 1
            link = r.headers.get("link")
            next_url = link.split(">")[0].lstrip("<") if link else None
    return seen, time.perf_counter() - start, pages


def paging_case(args: argparse.Namespace, session: common.Session) -> int:
    if args.db != "sqlite":
        raise SystemExit("--case paging loads its data with sqlite3: use --db sqlite")
    with common.Workspace(
        "paging", args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and database"
    ) as ws:
        db_url = ws.database("node")
        # Migrate first (serve would), then load, then start the node on the filled database.
        from evroam.storage.db import upgrade

        upgrade(db_url)
        db_path = Path(db_url.split("///", 1)[1])
        t0 = time.perf_counter()
        load_locations_sqlite(db_path, args.count)
        load_s = time.perf_counter() - t0
        node = common.start_node(db_url, ws.workdir, "DE", "MSP", "CPO")
        ws.servers.append(node)
        token_c = register_fake_partner(node, ws.workdir, role="EMSP", party=("NL", "BEN"))
        auth = f"Token {base64.b64encode(token_c.encode()).decode()}"
        seen, secs, pages = asyncio.run(crawl(f"{node.url}/ocpi/2.2.1/sender/locations", auth))
        rss = peak_rss_mb(node.proc.pid)
    rate = seen / secs
    print(f"paging: {seen} locations (2 EVSEs each) in {pages} pages of 1000, sqlite")
    session.print_machine(f"uvicorn {loop_http_impl()}")
    print(f"  loaded in {load_s:.1f} s (setup, not measured)")
    print(f"  crawl        {secs:.2f} s")
    print(f"  rate         {rate:,.0f} locations/s   (target at least {PAGING_RATE:,.0f})")
    print(f"  server RSS   {rss:.0f} MB peak (VmHWM)   (target under {PAGING_RSS_MB:.0f} MB)")
    ok = seen == args.count and rate >= PAGING_RATE and rss < PAGING_RSS_MB
    print(f"target: {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=["evse-patch", "authorize", "paging"], required=True)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--count", type=int, default=100_000, help="locations for --case paging")
    parser.add_argument(
        "--profile",
        help="record the node with py-spy during its timed run into this file (figures then"
        " include the sampler's cost)",
    )
    parser.add_argument(
        "--profile-format", default="speedscope", choices=["speedscope", "flamegraph", "raw"]
    )
    common.add_db_options(parser)
    args = parser.parse_args()
    session = common.Session()
    code = paging_case(args, session) if args.case == "paging" else wrk_case(args, session)
    options = ["--case", args.case, *common.db_options(args)]
    if args.case == "paging":
        options += ["--count", str(args.count)]
    session.print_end("functional.py", options)
    return code


if __name__ == "__main__":
    common.run(main)
