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
import asyncio
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "bench-admin-token"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432"
TARGET_MEDIAN_MS = 50.0


# ---------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One ``evroam serve`` process on a loopback port (stdout/stderr to a log file)."""

    def __init__(self, db_url: str, workdir: Path, country_code: str, party_id: str, role: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"node-{country_code}{party_id}.log"
        args = [
            sys.executable,
            "-m",
            "evroam",
            "serve",
            "--db",
            db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--admin-token",
            ADMIN_TOKEN,
            "--country-code",
            country_code,
            "--party-id",
            party_id,
            "--role",
            role,
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=workdir
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/ocpi/versions", timeout=1).status_code == 401:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


# ---------------------------------------------------------------------- PostgreSQL


def _pg_exec(server_url: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(f"{server_url}/postgres", timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


class PgDatabases:
    def __init__(self, server_url: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.prefix = f"evroam_bench_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def create(self, suffix: str) -> str:
        name = f"{self.prefix}_{suffix}"
        _pg_exec(self.server_url, f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{self.server_url}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)

    def drop_all(self) -> None:
        for name in self.created:
            try:
                _pg_exec(self.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # report, keep dropping the others
                print(f"warning: could not drop database {name}: {exc}", file=sys.stderr)
        self.created.clear()


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


def rerun_command(args: argparse.Namespace) -> str:
    python = sys.executable
    venv_python = ROOT / ".venv" / "bin" / "python"
    if Path(python).absolute() == venv_python.absolute():
        python = ".venv/bin/python"
    cmd = [python, "bench/handshake.py", "--count", str(args.count), "--db", args.db]
    if args.db == "postgres" and args.pg_url != PG_DEFAULT:
        cmd += ["--pg-url", args.pg_url]
    if args.warmup:
        cmd += ["--warmup", str(args.warmup)]
    return f"cd {shlex.quote(str(ROOT))} && {shlex.join(cmd)}"


# ---------------------------------------------------------------------- benchmark


def register_once(client: httpx.Client, a: Node, b: Node) -> float:
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
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg-url", default=PG_DEFAULT, help=f"PostgreSQL server (default {PG_DEFAULT})"
    )
    parser.add_argument(
        "--warmup", type=int, default=0, help="untimed registrations first (default 0)"
    )
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")

    wall = time.perf_counter()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="evroam-bench-handshake-"))
    pg = PgDatabases(args.pg_url) if args.db == "postgres" else None
    nodes: list[Node] = []
    timings: list[float] = []
    try:
        if pg is not None:
            url_a, url_b = pg.create("a"), pg.create("b")
        else:
            url_a, url_b = f"sqlite:///{workdir}/a.db", f"sqlite:///{workdir}/b.db"
        a = Node(url_a, workdir, "NL", "CPO", "CPO")
        nodes.append(a)
        b = Node(url_b, workdir, "DE", "MSP", "EMSP")
        nodes.append(b)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(headers=headers, timeout=60) as client:
            for _ in range(args.warmup):
                register_once(client, a, b)
            for _ in range(args.count):
                timings.append(register_once(client, a, b))
    except Exception:
        for node in nodes:
            print(f"--- log of {node.url} ---\n{node.log()}", file=sys.stderr)
        print(f"logs and databases kept in {workdir}", file=sys.stderr)
        raise
    finally:
        for node in nodes:
            node.stop()
        if pg is not None:
            pg.drop_all()
    shutil.rmtree(workdir, ignore_errors=True)

    median = statistics.median(timings)
    tenth = max(1, len(timings) // 10)
    print(f"credentials handshake, {args.count} registrations, {args.db}, loopback")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, warm-up {args.warmup})")
    print(
        f"load average before the run: {load_before:.2f} (other work on the machine skews figures)"
    )
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
    print(f"took {time.perf_counter() - wall:.1f} s")
    print(f"rerun: {rerun_command(args)}")
    return 0 if median < TARGET_MEDIAN_MS else 1


if __name__ == "__main__":
    sys.exit(main())
