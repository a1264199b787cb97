"""The push outbox (issue 8): delivery rate, change-to-delivery latency, backlog, write path.

Every case starts a CPO node (NL-CPO) on a fresh database, loads 500 own Locations with
2 EVSEs each through ``POST /api/v1/locations/batch`` (setup, before any partner exists,
so nothing is owed for it), then registers receiving eMSP partners through the real
credentials handshake. The partners are one receiver process serving one loopback port
per partner (raw ASGI under uvicorn with the node's loop and HTTP stack): versions,
version details with a Locations Receiver, and a Receiver that answers OCPI 1000 and
stores each call's EVSE, ``last_updated`` and arrival time. Changes are real EVSE
status changes through the operator API (``PATCH /api/v1/locations/NL/CPO/L/E``), each
with a ``last_updated`` that numbers it (base + sequence number in milliseconds): so the
receiver's copy says which change it carries. A change's latency at a partner is from
the moment the operator API answered it to the first arrival at that partner of that
change or a newer one of the same EVSE (a pending PATCH absorbs later ones: the partner
then has the newer state, which is what it is owed).

Cases (``--case``):

``delivery``       10,000 status changes (``--changes``) round-robin over the 1,000 EVSEs,
                   10 partners: first at a steady offered load of 500 changes/s
                   (``--rate``): p50/p99 latency; then the same number of changes as fast as
                   32 clients get them in: deliveries/s (calls the receivers got, from
                   the first change to the last arrival). Targets (PostgreSQL): at least
                   2,000 deliveries/s, p99 under 1 s.
``two-processes``  (PostgreSQL) the delivery case twice on fresh databases: one node
                   delivering, then a node plus one ``evroam worker`` process sharing the
                   queue; the ratio of their deliveries/s (no target in the issue).
``backlog``        100,000 changes (``--changes``) to the 1,000 EVSEs while the one partner
                   is down, then it returns: pending entries at the end (target at most
                   1,000) and the time to drain them. The node runs with
                   ``EVROAM_PUSH__BACKOFF_MAX`` = ``--backoff-max`` (default 5 s; the
                   node's default is 300 s, which would dominate the drain time).
``write-path``     wrk PATCHes EVSE statuses through the operator API (32 connections, each
                   request a real change: a new status and a newer ``last_updated``) with
                   10 subscribed partners receiving, against a bare Starlette endpoint
                   under the same server stack (as ``functional.py``). Target: at least
                   40% of the ceiling's requests/s.

    .venv/bin/python bench/push.py --case delivery [--db postgres] [--changes 10000]
    .venv/bin/python bench/push.py --case two-processes --db postgres
    .venv/bin/python bench/push.py --case backlog [--db postgres] [--changes 100000]
    .venv/bin/python bench/push.py --case write-path [--db postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

import common
from common import ADMIN_TOKEN, Server
from functional import cpu_seconds, location, run_wrk
from version_details import ensure_wrk, loop_http_impl

MIN_DELIVERIES = 2_000.0
MAX_P99_S = 1.0
MAX_BACKLOG = 1_000
WRITE_RATIO = 0.40
LOCATIONS = 500  # 2 EVSEs each: 1,000 EVSEs
BASE = datetime(2026, 1, 2, tzinfo=UTC)
STATUSES = ("CHARGING", "AVAILABLE")
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def stamp(seq: int) -> str:
    """``last_updated`` of change ``seq``: BASE + seq ms (newer for every change)."""
    return (BASE + timedelta(milliseconds=seq)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def seq_of(text: str) -> int:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round((dt - BASE).total_seconds() * 1000)


def evse_of(seq: int) -> tuple[str, str]:
    """Change ``seq``'s EVSE (round-robin over all of them): (location id, EVSE uid)."""
    n = seq % (LOCATIONS * 2)
    lid = f"L{n // 2:07d}"
    return lid, f"{lid}-E{n % 2 + 1}"


# ---------------------------------------------------------------------- receivers
# ``python bench/push.py --serve-receivers PORT,PORT,...``: one process, one port each.


def make_receiver_app(base: str) -> Any:
    """Versions, version details (credentials and Locations Receiver) for any token;
    the Receiver stores (EVSE uid, last_updated, arrival time) of each call; ``GET
    /dump`` answers them all, ``GET /count`` how many."""
    got: list[tuple[str, str, float]] = []
    ok = b'{"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}'
    versions = json.dumps(
        {
            "data": [{"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"}],
            "status_code": 1000,
            "timestamp": "2026-01-01T00:00:00Z",
        }
    ).encode()
    details = json.dumps(
        {
            "data": {
                "version": "2.2.1",
                "endpoints": [
                    {
                        "identifier": "credentials",
                        "role": "RECEIVER",
                        "url": f"{base}/ocpi/2.2.1/credentials",
                    },
                    {
                        "identifier": "locations",
                        "role": "RECEIVER",
                        "url": f"{base}/ocpi/2.2.1/locations",
                    },
                ],
            },
            "status_code": 1000,
            "timestamp": "2026-01-01T00:00:00Z",
        }
    ).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path: str = scope["path"]
        answer = ok
        if path.startswith("/ocpi/2.2.1/locations/"):
            arrived = time.time()
            doc = json.loads(body) if body else {}
            got.append((path.rsplit("/", 1)[-1], str(doc.get("last_updated", "")), arrived))
        elif path == "/ocpi/versions":
            answer = versions
        elif path == "/ocpi/2.2.1":
            answer = details
        elif path == "/dump":
            answer = json.dumps(got).encode()
        elif path == "/count":
            answer = str(len(got)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    return app


def serve_receivers(ports: Sequence[int]) -> None:
    import contextlib

    import uvicorn

    async def main() -> None:
        servers = []
        for port in ports:
            config = uvicorn.Config(
                make_receiver_app(f"http://127.0.0.1:{port}"),
                host="127.0.0.1",
                port=port,
                loop="auto",
                http="auto",
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
            server = uvicorn.Server(config)
            # SIGTERM ends the whole process (each server would catch it for itself).
            server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
            servers.append(server)
        await asyncio.gather(*(s.serve() for s in servers))

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def start_receivers(workdir: Path, ports: Sequence[int], name: str = "receivers") -> Server:
    args = [sys.executable, str(Path(__file__).resolve()), "--serve-receivers"]
    args.append(",".join(str(p) for p in ports))
    server = Server(name, args, ports[0], workdir, common.clean_env(), 200, "/count")
    for port in ports[1:]:
        server.port = port
        server.url = f"http://127.0.0.1:{port}"
        server._wait_ready("/count", 200)
    return server


# ---------------------------------------------------------------------- node


def start_node(db_url: str, workdir: Path, env: dict[str, str], name: str = "node") -> Server:
    """``common.start_node`` as CPO NL-CPO, with ``EVROAM_*`` settings in ``env``."""
    return common.start_node(db_url, workdir, "NL", "CPO", "CPO", name, None, env)


def start_worker(db_url: str, workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "evroam", "worker", "--db", db_url, "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=common.clean_env(**env),
        cwd=workdir,
    )


def load_locations(node: Server) -> None:
    docs = [location("NL", "CPO", f"L{i:07d}") for i in range(LOCATIONS)]
    with httpx.Client(timeout=120) as client:
        for start in range(0, len(docs), 250):
            r = client.post(
                f"{node.url}/api/v1/locations/batch", json=docs[start : start + 250], headers=ADMIN
            )
            if r.status_code >= 300:
                raise RuntimeError(f"locations batch: {r.status_code} {r.text[:500]}")


def register(node: Server, port: int, party: str) -> None:
    """The real credentials handshake: invitation, the partner's credentials POST with
    token A; the node discovers the receiver with token B."""
    inv = httpx.post(f"{node.url}/api/v1/partners/invite", json={}, headers=ADMIN, timeout=30)
    if inv.status_code != 201:
        raise RuntimeError(f"invite: HTTP {inv.status_code} {inv.text}")
    token_a = inv.json()["token"]
    body = {
        "token": f"bench-token-b-{uuid.uuid4().hex}",
        "url": f"http://127.0.0.1:{port}/ocpi/versions",
        "roles": [
            {
                "role": "EMSP",
                "business_details": {"name": f"bench {party}"},
                "party_id": party,
                "country_code": "DE",
            }
        ],
    }
    headers = {"Authorization": f"Token {base64.b64encode(token_a.encode()).decode()}"}
    r = httpx.post(f"{node.url}/ocpi/2.2.1/credentials", json=body, headers=headers, timeout=30)
    if r.status_code != 200 or r.json().get("status_code") != 1000:
        raise RuntimeError(f"credentials POST: HTTP {r.status_code} {r.text}")


def setup(
    ws: common.Workspace, env: dict[str, str], partners: int, *, worker: bool = False
) -> tuple[Server, Server | None, list[int]]:
    db_url = ws.database("node")
    node = start_node(db_url, ws.workdir, env)
    ws.servers.append(node)
    load_locations(node)
    ports = [common.free_port() for _ in range(partners)]
    receivers = start_receivers(ws.workdir, ports) if ports else None
    if receivers is not None:
        ws.servers.append(receivers)
    for n, port in enumerate(ports):
        register(node, port, f"P{n:02d}")
    if worker:
        proc = start_worker(db_url, ws.workdir, env)
        ws.servers.append(_ProcServer(proc, ws.workdir / "worker.log"))
    return node, receivers, ports


class _ProcServer(Server):
    """A portless process (``evroam worker``) stopped with the workspace's servers."""

    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name, self.port, self.url = "worker", 0, "-"
        self.proc, self.log_path = proc, log_path
        self._log = open(os.devnull, "wb")  # noqa: SIM115 - closed in stop()


# ---------------------------------------------------------------------- changes


async def send_changes(
    node: Server, first: int, count: int, rate: float, clients: int
) -> dict[int, float]:
    """PATCH changes ``first`` .. ``first + count - 1`` (status and last_updated of the
    change's EVSE); paced at ``rate``/s (0: as fast as ``clients`` get them in). The
    wall time each was answered."""
    answered: dict[int, float] = {}
    nxt = first
    start = time.perf_counter()
    offset = time.time() - start

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal nxt
        while nxt < first + count:
            seq = nxt
            nxt += 1
            if rate:
                delay = start + (seq - first) / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            lid, uid = evse_of(seq)
            body = {
                "status": STATUSES[(seq // (LOCATIONS * 2)) % 2],
                "last_updated": stamp(seq),
            }
            for attempt in range(3):
                try:
                    r = await client.patch(f"/api/v1/locations/NL/CPO/{lid}/{uid}", json=body)
                    break
                except httpx.TransportError:
                    # A keep-alive connection the server closed as it was reused: the
                    # same PATCH again is harmless (same last_updated).
                    if attempt == 2:
                        raise
            if r.status_code != 200 or r.json().get("status_code") != 1000:
                raise RuntimeError(f"PATCH {lid}/{uid}: {r.status_code} {r.text[:300]}")
            answered[seq] = time.perf_counter() + offset

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=node.url, headers=ADMIN, timeout=60, limits=limits
    ) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return answered


def outbox_pending(node: Server) -> int:
    r = httpx.get(f"{node.url}/api/v1/outbox", headers=ADMIN, timeout=30)
    r.raise_for_status()
    return int(r.json()["pending"])


def wait_drained(node: Server, timeout: float) -> float:
    """Seconds until the node owes nothing (pending and in flight), polled every 50 ms."""
    start = time.perf_counter()
    while outbox_pending(node):
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"outbox not drained after {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - start


def dumps(ports: Sequence[int]) -> list[list[tuple[str, int, float]]]:
    """Per partner, what it received: (EVSE uid, change seq, arrival wall time)."""
    out = []
    for port in ports:
        r = httpx.get(f"http://127.0.0.1:{port}/dump", timeout=60)
        out.append([(uid, seq_of(lu), t) for uid, lu, t in r.json()])
    return out


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def analyse(
    received: Sequence[Sequence[tuple[str, int, float]]],
    answered: dict[int, float],
    first: int,
    last: int,
) -> dict[str, Any]:
    """Latency of changes ``first``..``last`` at every partner, and the calls the
    receivers got for them (with their arrival span)."""
    latencies: list[float] = []
    missing = calls = 0
    arrivals: list[float] = []
    for got in received:
        per_evse: dict[str, list[tuple[int, float]]] = {}
        for uid, seq, t in got:
            if first <= seq <= last:
                calls += 1
                arrivals.append(t)
            per_evse.setdefault(uid, []).append((seq, t))
        for uid in per_evse:
            per_evse[uid].sort()
        for seq in range(first, last + 1):
            rows = per_evse.get(evse_of(seq)[1], [])
            i = bisect.bisect_left(rows, (seq, -1.0))
            if i == len(rows):
                missing += 1
                continue
            # In order per object: the first row with seq >= this one arrived first.
            latencies.append(rows[i][1] - answered[seq])
    return {
        "latencies": latencies,
        "missing": missing,
        "calls": calls,
        "first_arrival": min(arrivals) if arrivals else float("nan"),
        "last_arrival": max(arrivals) if arrivals else float("nan"),
    }


def node_env(args: argparse.Namespace) -> dict[str, str]:
    """``EVROAM_PUSH__*`` given with ``--push NAME=VALUE``."""
    env = {}
    for item in args.push:
        name, _, value = item.partition("=")
        env[f"EVROAM_PUSH__{name.upper()}"] = value
    return env


def delivery_run(args: argparse.Namespace, *, worker: bool) -> dict[str, Any]:
    env = node_env(args)
    if worker:
        env["EVROAM_PUSH__WORKER"] = "true"  # the node delivers too: two processes
    with common.Workspace(
        args.case, args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and database"
    ) as ws:
        node, _receivers, ports = setup(ws, env, args.partners, worker=worker)
        n = args.changes
        # 1. steady offered load: latency
        t0 = time.time()
        answered = asyncio.run(send_changes(node, 0, n, args.rate, args.clients))
        sent_s = time.time() - t0
        wait_drained(node, 600)
        # 2. as fast as the clients get changes in: deliveries/s
        t1 = time.time()
        answered.update(asyncio.run(send_changes(node, n, n, 0, args.clients)))
        burst_sent_s = time.time() - t1
        wait_drained(node, 600)
        received = dumps(ports)
    paced = analyse(received, answered, 0, n - 1)
    burst = analyse(received, answered, n, 2 * n - 1)
    burst_span = burst["last_arrival"] - t1
    return {
        "paced": paced,
        "paced_offered": n / sent_s,
        "paced_rate": paced["calls"] / (paced["last_arrival"] - t0),
        "burst": burst,
        "burst_offered": n / burst_sent_s,
        "burst_rate": burst["calls"] / burst_span,
        "burst_span": burst_span,
    }


def print_delivery(name: str, r: dict[str, Any], args: argparse.Namespace) -> None:
    p, b = r["paced"], r["burst"]
    lat = p["latencies"]
    print(
        f"{name}: steady load: {args.changes} changes offered at {r['paced_offered']:.0f}/s "
        f"(asked {args.rate:.0f}/s): {p['calls']} deliveries, {r['paced_rate']:.0f}/s; "
        f"latency p50 {statistics.median(lat) * 1000:.0f} ms, p99 {pct(lat, 0.99) * 1000:.0f} ms,"
        f" max {max(lat) * 1000:.0f} ms; changes never delivered: {p['missing']}"
    )
    blat = b["latencies"]
    print(
        f"{name}: full speed: {args.changes} changes in at {r['burst_offered']:.0f}/s: "
        f"{b['calls']} deliveries in {r['burst_span']:.1f} s = {r['burst_rate']:.0f} "
        f"deliveries/s (fewer calls than changes x partners: pending PATCHes coalesced); "
        f"latency p50 {statistics.median(blat) * 1000:.0f} ms, "
        f"p99 {pct(blat, 0.99) * 1000:.0f} ms; never delivered: {b['missing']}"
    )


def delivery_case(args: argparse.Namespace, session: common.Session) -> int:
    r = delivery_run(args, worker=False)
    print(f"delivery: {args.partners} partners, {LOCATIONS * 2} EVSEs, {args.db}")
    session.print_machine(f"uvicorn {loop_http_impl()}")
    print_delivery("one node", r, args)
    p99 = pct(r["paced"]["latencies"], 0.99)
    ok_rate = r["burst_rate"] >= MIN_DELIVERIES
    ok_p99 = p99 < MAX_P99_S and r["paced"]["missing"] == 0 and r["burst"]["missing"] == 0
    print(
        f"target (PostgreSQL): at least {MIN_DELIVERIES:,.0f} deliveries/s: "
        f"{'MET' if ok_rate else 'NOT MET'} ({r['burst_rate']:,.0f}); p99 under "
        f"{MAX_P99_S:.0f} s at the steady load: {'MET' if ok_p99 else 'NOT MET'} "
        f"({p99 * 1000:.0f} ms)"
    )
    return 0 if ok_rate and ok_p99 else 1


def two_processes_case(args: argparse.Namespace, session: common.Session) -> int:
    if args.db != "postgres":
        raise SystemExit("--case two-processes shares a PostgreSQL queue: use --db postgres")
    one = delivery_run(args, worker=False)
    two = delivery_run(args, worker=True)
    print(f"two-processes: {args.partners} partners, {LOCATIONS * 2} EVSEs, {args.db}")
    session.print_machine(f"uvicorn {loop_http_impl()}")
    print_delivery("one node", one, args)
    print_delivery("node + evroam worker", two, args)
    ratio = two["burst_rate"] / one["burst_rate"]
    print(f"two processes / one: {ratio:.2f} x the deliveries/s (no target in the issue)")
    ok = not (two["paced"]["missing"] or two["burst"]["missing"])
    print(f"every change delivered with two processes: {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


def backlog_case(args: argparse.Namespace, session: common.Session) -> int:
    env = {"EVROAM_PUSH__BACKOFF_MAX": str(args.backoff_max), **node_env(args)}
    with common.Workspace(
        args.case, args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and database"
    ) as ws:
        node, receivers, ports = setup(ws, env, 1)
        assert receivers is not None
        receivers.stop()  # the partner is down
        ws.servers.remove(receivers)
        t0 = time.time()
        answered = asyncio.run(send_changes(node, 0, args.changes, 0, args.clients))
        sent_s = time.time() - t0
        time.sleep(1.0)  # calls in flight when the last change came in have failed by now
        pending = outbox_pending(node)
        back = time.time()
        receivers = start_receivers(ws.workdir, ports, "receivers-back")
        ws.servers.append(receivers)
        wait_drained(node, 900)
        drain_s = time.time() - back
        received = dumps(ports)
    got = received[0]
    last_seq: dict[str, int] = {}
    for uid, seq, _t in got:
        last_seq[uid] = max(seq, last_seq.get(uid, -1))
    final = {evse_of(s)[1]: s for s in range(args.changes)}
    wrong = sum(1 for uid, s in final.items() if last_seq.get(uid) != s)
    first_arrival = min(t for _u, _s, t in got) - back if got else float("nan")
    print(f"backlog: {args.changes} changes to {LOCATIONS * 2} EVSEs, 1 partner down, {args.db}")
    session.print_machine(f"backoff_max {args.backoff_max} s")
    print(f"  changes in    {sent_s:.1f} s ({len(answered) / sent_s:.0f} changes/s, partner down)")
    print(f"  pending       {pending} entries   (target at most {MAX_BACKLOG:,})")
    print(
        f"  drain         {drain_s:.1f} s after the partner returned: {len(got)} calls; "
        f"first arrival after {first_arrival:.1f} s (retry backoff), EVSEs whose final "
        f"status did not arrive: {wrong}"
    )
    ok = pending <= MAX_BACKLOG and wrong == 0
    print(
        f"target: at most {MAX_BACKLOG:,} pending, all final statuses: {'MET' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


# ---------------------------------------------------------------------- write path

WRK_LUA = """
-- Each request a real change: the next EVSE of this thread's share, the other
-- status, a newer last_updated (threads own disjoint EVSEs: evse %% threads == id).
local threads, nevse, offset, counter, id = %(threads)d, %(nevse)d, %(offset)d, 0, 0
local counter_base = 0
function setup(thread)
  thread:set("id", counter_base)
  counter_base = counter_base + 1
end
function init(args)
  id = wrk.thread:get("id")
end
request = function()
  counter = counter + 1
  local n = counter * threads + id
  local e = n %% nevse
  local lid = string.format("L%%07d", math.floor(e / 2))
  local uid = string.format("%%s-E%%d", lid, e %% 2 + 1)
  local ms = offset + n
  local body = string.format(
    '{"status":"%%s","last_updated":"2026-01-02T%%02d:%%02d:%%02d.%%03dZ"}',
    (math.floor(n / nevse) %% 2 == 0) and "CHARGING" or "AVAILABLE",
    math.floor(ms / 3600000), math.floor(ms / 60000) %% 60, math.floor(ms / 1000) %% 60,
    ms %% 1000)
  return wrk.format("PATCH", "/api/v1/locations/NL/CPO/" .. lid .. "/" .. uid,
    {["Content-Type"] = "application/json", ["Authorization"] = "%(auth)s"}, body)
end
"""


def write_path_case(args: argparse.Namespace, session: common.Session) -> int:
    wrk = ensure_wrk()
    results: dict[str, dict[str, Any]] = {}
    with common.Workspace(
        args.case, args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and database"
    ) as ws:
        env = node_env(args)
        if args.worker_process:  # the node only writes; an ``evroam worker`` delivers
            env["EVROAM_PUSH__WORKER"] = "false"
        node, _receivers, ports = setup(ws, env, args.partners, worker=args.worker_process)
        lid, uid = evse_of(0)
        path = f"/api/v1/locations/NL/CPO/{lid}/{uid}"
        check = httpx.patch(
            f"{node.url}{path}",
            json={"status": "AVAILABLE", "last_updated": stamp(0)},
            headers=ADMIN,
            timeout=30,
        )
        if check.status_code != 200 or check.json().get("status_code") != 1000:
            raise RuntimeError(f"PATCH {path}: {check.status_code} {check.text}")
        ceiling = common.start_uvicorn_app(
            "ceiling",
            "functional:make_ceiling_app",
            ws.workdir,
            {
                "BENCH_CEILING_BODY": check.text,
                "BENCH_CEILING_PATH": "/api/v1/locations/{cc}/{pid}/{lid}/{uid}",
            },
            "/api/v1/locations/NL/CPO/L/E",
            200,
        )
        ws.servers.append(ceiling)
        runs = 0

        def lua() -> Path:
            # Each wrk run's stamps are 4 h after the last run's: all newer, all changes.
            nonlocal runs
            runs += 1
            script = ws.workdir / f"patch{runs}.lua"
            values = {
                "threads": args.threads,
                "nevse": LOCATIONS * 2,
                "offset": runs * 4 * 3_600_000,
                "auth": ADMIN["Authorization"],
            }
            script.write_text(WRK_LUA % values)
            return script

        for name, base in (("evroam", node.url), ("ceiling", ceiling.url)):
            if args.warmup:
                run_wrk(wrk, args, lua(), base, args.warmup)
            server = node if name == "evroam" else ceiling
            spy = None
            if args.profile and name == "evroam":
                spy = common.record_profile(server.proc.pid, args.profile, args.duration)
            cpu0 = cpu_seconds(server.proc.pid)
            results[name] = run_wrk(wrk, args, lua(), base, args.duration)[1]
            cpu = cpu_seconds(server.proc.pid) - cpu0
            results[name]["cpu_us"] = cpu / max(results[name]["requests"], 1) * 1e6
            results[name]["cpu_busy"] = cpu / args.duration
            if spy is not None:
                spy.wait(60)
        pending_after = outbox_pending(node)
        deliveries = sum(len(d) for d in dumps(ports))
    load = f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
    delivering = "an evroam worker process" if args.worker_process else "the node itself"
    print(
        f"write-path: PATCH /api/v1/locations/NL/CPO/L/E (round-robin over "
        f"{LOCATIONS * 2} EVSEs), {args.partners} subscribed partners delivered by "
        f"{delivering}, {args.db}, {load}"
    )
    session.print_machine(f"uvicorn {loop_http_impl()}")
    print(
        f"{'':10}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}"
        f"{'CPU us/req':>12}{'CPU busy':>10}"
    )
    for name, r in results.items():
        errors = r["non_2xx"] + r["socket_errors"]
        print(
            f"{name:10}{r['rps']:12.1f}{r['p50_ms']:10.2f}{r['p99_ms']:10.2f}"
            f"{r['requests']:10d}{errors:8d}{r['cpu_us']:12.0f}{r['cpu_busy']:10.0%}"
        )
    print(
        f"partners received {deliveries} calls during the runs; {pending_after} entries "
        "still owed at the end"
    )
    ratio = results["evroam"]["rps"] / results["ceiling"]["rps"]
    failed = any(r["non_2xx"] or r["socket_errors"] for r in results.values())
    met = ratio >= WRITE_RATIO and not failed
    print(f"evroam/ceiling: {ratio:.1%} of the ceiling's requests/s")
    print(
        f"target: at least {WRITE_RATIO:.0%} of the ceiling: {'MET' if met else 'NOT MET'}"
        + (" (some requests failed)" if failed else "")
    )
    return 0 if met else 1


# ---------------------------------------------------------------------- main

DEFAULT_CHANGES = {"delivery": 10_000, "two-processes": 10_000, "backlog": 100_000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--case", choices=["delivery", "two-processes", "backlog", "write-path"], required=True
    )
    parser.add_argument("--changes", type=int, help="status changes (per phase)")
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--rate", type=float, default=500.0, help="steady offered changes/s")
    parser.add_argument("--clients", type=int, default=32, help="concurrent operator clients")
    parser.add_argument("--backoff-max", type=float, default=5.0)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--push",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a node setting EVROAM_PUSH__NAME (e.g. concurrency=4); repeatable",
    )
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="write-path: the node does not deliver; one 'evroam worker' process on the same"
        " database does (the layout for larger deployments)",
    )
    parser.add_argument(
        "--profile",
        help="write-path: record the node with py-spy (raw format) during its timed run",
    )
    common.add_db_options(parser)
    args = parser.parse_args()
    if args.changes is None:
        args.changes = DEFAULT_CHANGES.get(args.case, 0)
    session = common.Session()
    cases = {
        "delivery": delivery_case,
        "two-processes": two_processes_case,
        "backlog": backlog_case,
        "write-path": write_path_case,
    }
    code = cases[args.case](args, session)
    options = ["--case", args.case, *common.db_options(args)]
    if args.case != "write-path" and args.changes != DEFAULT_CHANGES[args.case]:
        options += ["--changes", str(args.changes)]
    if args.case in ("delivery", "two-processes", "write-path") and args.partners != 10:
        options += ["--partners", str(args.partners)]
    if args.case in ("delivery", "two-processes") and args.rate != 500.0:
        options += ["--rate", f"{args.rate:g}"]
    if args.case == "backlog" and args.backoff_max != 5.0:
        options += ["--backoff-max", f"{args.backoff_max:g}"]
    if args.case == "write-path" and args.worker_process:
        options += ["--worker-process"]
    for item in args.push:
        options += ["--push", item]
    session.print_end("push.py", options)
    return code


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-receivers":
        serve_receivers([int(p) for p in sys.argv[2].split(",")])
    else:
        common.run(main)
