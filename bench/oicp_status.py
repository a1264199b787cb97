"""The OICP hub's PushEvseStatus under load (issue 9): single-EVSE status updates at
concurrency 32 over mutual TLS, requests/s and p50/p99, as a share of a bare Starlette
endpoint behind the same TLS setup, driven by the same load generator in the same run.

The hub is a real ``evroam oicp serve`` (the test suite's ``HubProcess`` and ``Pki``:
a development CA made for the run, the hub's server certificate, one client certificate
for the operator DE*BEN), its database fresh (SQLite file, or a PostgreSQL database
created and dropped), started with ``--log-level warning --no-access-log``.

The ceiling is this script run as ``--serve-ceiling``: one Starlette route that reads
the body and answers the hub's own acknowledgement (the same JSON, serialised per
request as the hub does), under ``uvicorn.Server`` on ``asyncio.run`` with the very
settings of the hub's runner (``web/oicp/runner.py``): ``oicp.tls.uvicorn_tls_kwargs``
(client certificates required against the same CA, the same protocol class exposing
them), no lifespan, no proxy headers, no server header, no access log.

Two loads, each run against the hub and then the ceiling, with the same command:

* ``keepalive`` (the target's case): wrk (Debian package wrk) over 32 keep-alive HTTP/1.1
  connections to a ``socat`` listener per server that forks one mutual-TLS connection
  per wrk connection to it, presenting the operator's certificate (wrk cannot present
  one itself). A Lua script alternates the body of every connection between
  ``Available`` and ``Occupied`` for one EVSE (ActionType ``update``), so every push is
  a status change, and counts answers without ``"Result":true`` (a push the hub refuses
  answers HTTP 200). wrk's requests/s and its 50%/99% latency (which include the socat
  hop; the hop is the same for both servers).
* ``handshake``: ApacheBench (``ab``, Debian package apache2-utils), which presents the
  client certificate itself (``-E``, certificate and key in one PEM). ab speaks HTTP/1.0
  and uvicorn never keeps an HTTP/1.0 connection alive (``keep_alive=http_version !=
  "1.0" and ...`` in its protocols), so ``-k`` is ignored and **every request is a new
  mutual-TLS handshake**: this measures connection set-up more than the push. ab sends
  one body per process, so two ab processes run at once, each with half the
  connections and requests, one pushing ``Available`` and the other ``Occupied``; the
  percentiles are over both processes' requests (``-g``, whole milliseconds),
  requests/s is all requests over the wall time of the pair. A refused push has a body
  of another length, which ab counts as failed.

Both bodies are checked for ``Result: true`` before the timed runs; any failed,
refused or non-2xx request fails the target.

Target: the hub at least 50% of the ceiling's requests/s (keepalive).

    .venv/bin/python bench/oicp_status.py [--db sqlite|postgres] [--duration 10]
        [--modes keepalive,handshake] [--requests 2000] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPERATOR = "DE*BEN"
EVSE = "DE*BEN*E0000001"
PUSH_PATH = f"/evsepush/v21/operators/{OPERATOR}/status-records"
TARGET = 0.5
STATUSES = ("Available", "Occupied")


def push_body(action: str, status: str) -> bytes:
    return json.dumps(
        {
            "ActionType": action,
            "OperatorEvseStatus": {
                "OperatorID": OPERATOR,
                "OperatorName": "Bench",
                "EvseStatusRecord": [{"EvseID": EVSE, "EvseStatus": status}],
            },
        }
    ).encode()


# ---------------------------------------------------------------------- the ceiling


def serve_ceiling(port: int, cert: Path, key: Path, ca: Path, answer: str) -> None:
    """The bare endpoint (module docstring), served until SIGTERM."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from evroam.oicp import tls
    from evroam.web.oicp.runner import run_on_best_loop

    document = json.loads(answer)

    async def push(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse(document)

    app = Starlette(routes=[Route(f"/api/oicp{PUSH_PATH}", push, methods=["POST"])])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
        **tls.uvicorn_tls_kwargs(cert, key, ca),
    )
    # The loop the hub runs on (web/oicp/runner.py): the same server stack.
    run_on_best_loop(uvicorn.Server(config).serve())


class Ceiling:
    """This script as ``--serve-ceiling`` in a subprocess, ready once it answers a
    push over mutual TLS."""

    def __init__(self, workdir: Path, pki: Any, client: Any, answer: str) -> None:
        from tests.support import free_port

        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}/api/oicp"
        self.log_path = workdir / "ceiling.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-ceiling",
            str(self.port),
            str(pki.server.cert),
            str(pki.server.key),
            str(pki.ca.cert),
            answer,
        ]
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the ceiling exited early:\n{self.log()}")
            try:
                if client.post(f"{self.url}{PUSH_PATH}", content=b"{}").status_code == 200:
                    return
            except Exception:  # not listening yet
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the ceiling did not start:\n{self.log()}")

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


# ---------------------------------------------------------------------- ab


def ensure_ab() -> str:
    found = shutil.which("ab")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit(
            "error: ab is not installed. Install the Debian package as root:\n"
            "  sudo apt-get update -qq && sudo apt-get install -y -qq apache2-utils"
        )
    print("ab is missing; installing the Debian package apache2-utils ...", flush=True)
    subprocess.run(
        "apt-get update -qq && apt-get install -y -qq apache2-utils",
        shell=True,
        check=True,
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        stdout=subprocess.DEVNULL,
    )
    found = shutil.which("ab")
    if not found:
        sys.exit("error: apt-get install apache2-utils succeeded but ab is not on PATH")
    return found


def ab_command(
    ab: str, url: str, pem: Path, body: Path, requests: int, connections: int, times: Path
) -> list[str]:
    return [
        ab,
        "-k",
        "-q",
        "-r",
        "-c",
        str(connections),
        "-n",
        str(requests),
        "-E",
        str(pem),
        "-p",
        str(body),
        "-T",
        "application/json",
        "-g",
        str(times),
        url,
    ]


def _count(output: str, label: str) -> int:
    for line in output.splitlines():
        if line.startswith(label):
            return int(line.split(":", 1)[1].split()[0])
    return 0


def run_pair(
    ab: str,
    url: str,
    pem: Path,
    bodies: list[Path],
    requests: int,
    connections: int,
    workdir: Path,
    tag: str,
) -> dict[str, Any]:
    """Both ab processes at once (module docstring); their figures merged."""
    each = max(requests // len(bodies), 1)
    per = max(connections // len(bodies), 1)
    times = [workdir / f"{tag}-{i}.tsv" for i in range(len(bodies))]
    cmds = [ab_command(ab, url, pem, b, each, per, t) for b, t in zip(bodies, times, strict=True)]
    started = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for c in cmds]
    outputs = [p.communicate()[0].decode(errors="replace") for p in procs]
    wall = time.perf_counter() - started
    for p, out in zip(procs, outputs, strict=True):
        if p.returncode != 0:
            raise RuntimeError(f"ab failed ({p.returncode}):\n{out}")
    latencies: list[int] = []
    for t in times:
        for line in t.read_text().splitlines()[1:]:
            latencies.append(int(line.split("\t")[4]))
    latencies.sort()
    complete = sum(_count(o, "Complete requests") for o in outputs)

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return float(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))])

    return {
        "requests": complete,
        "failed": sum(_count(o, "Failed requests") for o in outputs),
        "non_2xx": sum(_count(o, "Non-2xx responses") for o in outputs),
        "rps": complete / wall,
        "ab_rps": sum(
            float(line.split(":")[1].split()[0])
            for o in outputs
            for line in o.splitlines()
            if line.startswith("Requests per second")
        ),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "command": " ".join(cmds[0]),
        "outputs": outputs,
    }


# ---------------------------------------------------------------------- wrk through socat

_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
local bodies = {BODIES}
local n = 0
refused = 0
function request()
  n = n + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[n % 2 + 1])
end
function response(status, headers, body)
  if not string.find(body, '"Result":true', 1, true) then refused = refused + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("refused") end
  io.write(string.format("refused: %d\\n", total))
end
"""


def wrk_script(workdir: Path) -> Path:
    bodies = ", ".join(json.dumps(push_body("update", s).decode()) for s in STATUSES)
    path = workdir / "push.lua"
    path.write_text(_LUA.replace("{BODIES}", "{" + bodies + "}"))
    return path


class Tunnel:
    """``socat``: plain TCP on a loopback port, one mutual-TLS connection (the
    operator's certificate) to ``port`` per accepted connection."""

    def __init__(self, port: int, pem: Path, ca: Path) -> None:
        from tests.support import free_port

        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "socat",
                f"TCP-LISTEN:{self.port},bind=127.0.0.1,fork,reuseaddr,backlog=128",
                f"OPENSSL:127.0.0.1:{port},cert={pem},cafile={ca},verify=0,nodelay",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def run_wrk(wrk: str, url: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    from bench.version_details import parse_wrk

    # --timeout 10s: at wrk's default of 2 s, slow answers made wrk drop and reopen
    # connections, each a new mutual-TLS handshake through socat (py-spy: accepts and
    # handshakes in the hub during a keep-alive run).
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    cmd += ["-s", str(script), url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    figures = parse_wrk(done.stdout)
    refused = next(
        (int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("refused:")),
        -1,
    )
    return {
        "requests": figures["requests"],
        "failed": figures["socket_errors"] + (refused if refused >= 0 else figures["requests"]),
        "non_2xx": figures["non_2xx"],
        "rps": figures["rps"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "command": " ".join(cmd),
        "outputs": [done.stdout],
    }


# ---------------------------------------------------------------------- main


def start_profile(path: str | None, pid: int) -> subprocess.Popen[bytes] | None:
    if path is None:
        return None
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "-o",
            str(Path(path).resolve()),
            "-f",
            "raw",
            "-p",
            str(pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    return spy


def main() -> int:
    from bench.common import Session, Workspace, add_db_options, db_options
    from bench.version_details import ensure_wrk
    from tests.integration.oicp_hub.support import HubProcess, Pki

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="keepalive,handshake", help="comma-separated")
    parser.add_argument("--duration", type=int, default=10, help="keepalive: wrk seconds")
    parser.add_argument("--warmup", type=int, default=2, help="keepalive: unreported seconds")
    parser.add_argument("--requests", type=int, default=2_000, help="handshake: over both ab")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy the hub during its keepalive run (raw)"
    )
    add_db_options(parser)
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"keepalive", "handshake"}:
        sys.exit("error: --modes takes keepalive and/or handshake")
    wrk = ensure_wrk() if "keepalive" in modes else ""
    ab = ensure_ab() if "handshake" in modes else ""
    session = Session()
    results: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in modes}
    with Workspace("oicp-status", args.db, args.pg_url, "hub {name}", "hub logs") as ws:
        db_url = ws.database("hub").replace("sqlite:///", "sqlite+aiosqlite:///", 1)
        pki = Pki(ws.workdir / "pki")
        hub = HubProcess(
            db_url, ws.workdir, pki, extra_args=("--log-level", "warning", "--no-access-log")
        )
        ceiling: Ceiling | None = None
        tunnels: list[Tunnel] = []
        try:
            hub.add_partner(OPERATOR, "CPO")
            cpo = hub.client(OPERATOR)
            files = pki.client_cert(OPERATOR)
            pem = ws.workdir / "client.pem"
            pem.write_bytes(files.cert.read_bytes() + files.key.read_bytes())
            bodies = []
            for i, status in enumerate(STATUSES):
                path = ws.workdir / f"body-{i}.json"
                path.write_bytes(push_body("update", status))
                bodies.append(path)
            answer = ""
            for action, status in (("insert", "Available"), *(("update", s) for s in STATUSES)):
                r = cpo.post(f"{hub.url}{PUSH_PATH}", content=push_body(action, status))
                if r.status_code != 200 or r.json().get("Result") is not True:
                    sys.exit(f"error: the push was refused: {r.status_code} {r.text[:500]}")
                answer = r.text
            ceiling = Ceiling(ws.workdir, pki, cpo, answer)
            servers = {"evroam": (hub.port, hub.url), "ceiling": (ceiling.port, ceiling.url)}
            script = wrk_script(ws.workdir)
            for mode in modes:
                for name, (port, base) in servers.items():
                    spy = None
                    if mode == "keepalive":
                        tunnel = Tunnel(port, pem, pki.ca.cert)
                        tunnels.append(tunnel)
                        url = f"http://127.0.0.1:{tunnel.port}/api/oicp{PUSH_PATH}"
                        if args.warmup:
                            run_wrk(wrk, url, script, args.connections, args.warmup)
                        if name == "evroam":
                            spy = start_profile(args.profile, hub.proc.pid)
                        result = run_wrk(wrk, url, script, args.connections, args.duration)
                        tunnel.stop()
                    else:
                        url = f"{base}{PUSH_PATH}"
                        result = run_pair(
                            ab, url, pem, bodies, args.requests, args.connections, ws.workdir, name
                        )
                    if spy is not None:
                        spy.send_signal(2)
                        spy.wait(60)
                    results[mode][name] = result
        except BaseException:
            print(f"--- log of the hub ---\n{hub.log()}", file=sys.stderr)
            if ceiling is not None:
                print(f"--- log of the ceiling ---\n{ceiling.log()}", file=sys.stderr)
            raise
        finally:
            for tunnel in tunnels:
                tunnel.stop()
            if ceiling is not None:
                ceiling.stop()
            hub.stop()
        hub_log = hub.log()
    session.print_machine(f"{args.db}, {args.connections} connections, mutual TLS")
    ok = True
    for mode, by_server in results.items():
        print(f"{mode}: {by_server['evroam']['command']}")
        head = ("requests/s", "p50 ms", "p99 ms", "requests", "failed")
        print(f"{'':10}{head[0]:>12}{head[1]:>9}{head[2]:>9}{head[3]:>10}{head[4]:>8}")
        for name, r in by_server.items():
            failed = r["failed"] + r["non_2xx"]
            print(
                f"{name:10}{r['rps']:12.1f}{r['p50_ms']:9.2f}{r['p99_ms']:9.2f}"
                f"{r['requests']:10d}{failed:8d}"
            )
            if failed:
                ok = False
                for out in r["outputs"]:
                    print(f"--- output ({mode}, {name}) ---\n{out}")
        ratio = by_server["evroam"]["rps"] / by_server["ceiling"]["rps"]
        if mode == "keepalive":
            met = ratio >= TARGET
            ok = ok and met
            verdict = f"(target >= {TARGET:.0%}) {'ok' if met else 'MISSED'}"
        else:
            verdict = "(no target: a new TLS handshake per request)"
        print(f"{mode} evroam / ceiling: {ratio:.1%} {verdict}")
    # A hub logging errors under the load is not a result, whatever the figures.
    errors = [line for line in hub_log.splitlines() if " ERROR " in line or "Traceback" in line]
    if errors:
        ok = False
        lines = hub_log[hub_log.find(errors[0]) :].splitlines()
        block = [lines[0]]
        for line in lines[1:]:
            if line[:4].isdigit():  # the next log record
                break
            block.append(line)
        print(f"the hub logged {len(errors)} errors; the first (end of its traceback):")
        print("\n".join([block[0], *block[-12:]]))
    options = ["--modes", ",".join(modes), "--duration", str(args.duration)]
    options += ["--requests", str(args.requests), *db_options(args)]
    session.print_end("oicp_status.py", options)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--serve-ceiling":
        _, _, port, cert, key, ca, answer = sys.argv
        serve_ceiling(int(port), Path(cert), Path(key), Path(ca), answer)
        sys.exit(0)
    from bench.common import run

    run(main)
