"""Credentials handshake latency between two real ``evroam serve`` processes.

Node A (CPO) invites, node B (eMSP) registers with A's versions URL and token A. The time
measured is the one the caller of B's ``POST /api/v1/partners/register`` sees: B's
discovery of A (versions, version details), B's commit of token B, B's credentials POST
to A, A's own discovery of B with token B, A's commit of token C, and B's final commit.

Each registration uses a fresh invitation (a new partner on A). Two partners may not hold
the same country_code/party_id while both are active, and both nodes keep one party, so
after each timed registration B unregisters (untimed): the partner becomes SUSPENDED on
both nodes and the next registration is accepted. After N runs each node holds N partners
of which N-1 are suspended; the trend line printed at the end shows what that history
costs a registration.

Target: median under 50 ms.

    .venv/bin/python bench/handshake.py                    # SQLite, 50 registrations
    .venv/bin/python bench/handshake.py --db postgres      # fresh PostgreSQL databases
    .venv/bin/python bench/handshake.py --count 200
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx

import common
from common import ADMIN_TOKEN, Server

TARGET_MEDIAN_MS = 50.0


# ---------------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n*q/100), at least 1
    return ordered[int(rank) - 1]


def slope(values: list[float]) -> float:
    """Least-squares slope of values against their index: ms added per earlier partner."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


# ---------------------------------------------------------------------- benchmark


def start_node(db_url: str, workdir: Path, country_code: str, party_id: str, role: str) -> Server:
    """A node named ``node`` in errors, logging to ``node-<country_code><party_id>.log``."""
    log_name = f"node-{country_code}{party_id}"
    return common.start_node(db_url, workdir, country_code, party_id, role, "node", log_name)


def register_once(client: httpx.Client, a: Server, b: Server) -> float:
    """One invite on A (untimed), one register on B (timed), one unregister (untimed)."""
    inv = client.post(f"{a.url}/api/v1/partners/invite", json={"note": "bench"})
    if inv.status_code != 201:
        raise RuntimeError(f"invite on A: HTTP {inv.status_code} {inv.text}")
    body = {"versions_url": inv.json()["versions_url"], "token": inv.json()["token"]}
    started = time.perf_counter()
    reg = client.post(f"{b.url}/api/v1/partners/register", json=body)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if reg.status_code != 201 or reg.json().get("status") != "CONNECTED":
        raise RuntimeError(f"register on B: HTTP {reg.status_code} {reg.text}")
    partner_id = reg.json()["id"]
    unreg = client.post(f"{b.url}/api/v1/partners/{partner_id}/unregister")
    if unreg.status_code != 200 or not unreg.json().get("remote_ok"):
        raise RuntimeError(f"unregister on B: HTTP {unreg.status_code} {unreg.text}")
    return elapsed_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50, help="registrations to time")
    common.add_db_options(parser)
    parser.add_argument(
        "--warmup", type=int, default=0, help="untimed registrations first (default 0)"
    )
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")

    session = common.Session()
    timings: list[float] = []
    with common.Workspace(
        "handshake", args.db, args.pg_url, log_heading="{url}", kept="logs and databases"
    ) as workspace:
        url_a, url_b = workspace.database("a"), workspace.database("b")
        a = start_node(url_a, workspace.workdir, "NL", "CPO", "CPO")
        workspace.servers.append(a)
        b = start_node(url_b, workspace.workdir, "DE", "MSP", "EMSP")
        workspace.servers.append(b)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(headers=headers, timeout=60) as client:
            for _ in range(args.warmup):
                register_once(client, a, b)
            for _ in range(args.count):
                timings.append(register_once(client, a, b))

    median = statistics.median(timings)
    tenth = max(1, len(timings) // 10)
    print(f"credentials handshake, {args.count} registrations, {args.db}, loopback")
    session.print_machine(f"warm-up {args.warmup}")
    print(f"  median   {median:8.1f} ms")
    print(f"  p90      {percentile(timings, 90):8.1f} ms")
    print(f"  p99      {percentile(timings, 99):8.1f} ms   (nearest rank)")
    print(f"  min      {min(timings):8.1f} ms")
    print(f"  max      {max(timings):8.1f} ms")
    first_note = "first on fresh processes" if not args.warmup else "first after the warm-up"
    print(f"  first    {timings[0]:8.1f} ms   ({first_note})")
    print(
        f"  trend    {slope(timings):+8.2f} ms per earlier (suspended) partner; "
        f"median of first {tenth}: {statistics.median(timings[:tenth]):.1f} ms, "
        f"of last {tenth}: {statistics.median(timings[-tenth:]):.1f} ms"
    )
    verdict = "MET" if median < TARGET_MEDIAN_MS else "NOT MET"
    print(f"target: median under {TARGET_MEDIAN_MS:.0f} ms: {verdict} ({median:.1f} ms)")
    options = ["--count", str(args.count), *common.db_options(args)]
    if args.warmup:
        options += ["--warmup", str(args.warmup)]
    session.print_end("handshake.py", options)
    return 0 if median < TARGET_MEDIAN_MS else 1


if __name__ == "__main__":
    common.run(main)
