"""The OICP hub's EVSE data (issue 9): a PushEvseData fullLoad of 50,000 generated,
valid EVSEs, then a PullEvseData of all of them in pages of 2,000; seconds and records/s
each way, and the hub's peak resident memory.

The hub is a real ``evroam oicp serve`` over mutual TLS on loopback with certificates
from a development CA made for the run (the test suite's ``HubProcess`` and ``Pki``),
its database fresh (SQLite file, or a PostgreSQL database created and dropped). One
operator (DE*BEN) pushes, one provider (DE-EMP) pulls, each with its client certificate.
The push is timed from sending the body to the acknowledgement (parsing, the POI check
of every record, one transaction); the pull from the first page's request to the last
page's answer, pages one after another as a Hubject client loops (digest §5). Peak RSS
is ``VmHWM`` of the hub process (``/proc/<pid>/status``) after both.

Targets: fullLoad applied in under 5 s; pull at least 20,000 records/s; RSS under 300 MB.

    .venv/bin/python bench/oicp_data.py [--evses 50000] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Session, Workspace, add_db_options, db_options, run  # noqa: E402
from tests.integration.oicp_hub.support import HubProcess, Pki  # noqa: E402
from tests.unit.oicp.records import complete_record  # noqa: E402

OPERATOR = "DE*BEN"
PROVIDER = "DE-EMP"
PAGE_SIZE = 2000
PUSH_TARGET_S = 5.0
PULL_TARGET_RPS = 20_000
RSS_TARGET_MB = 300


def records(count: int) -> list[dict[str, Any]]:
    """``count`` valid, distinct records spread over Germany."""
    base = complete_record()
    out = []
    for i in range(count):
        r = dict(base)
        r["EvseID"] = f"{OPERATOR}*E{i:07d}"
        lat = 47.3 + (i % 500) * 0.01
        lon = 6.0 + (i // 500 % 900) * 0.01
        geo = {"Latitude": f"{lat:.6f}", "Longitude": f"{lon:.6f}"}
        r["GeoCoordinates"] = {"DecimalDegree": geo}
        out.append(r)
    return out


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_profile(path: str | None, pid: int) -> subprocess.Popen[bytes] | None:
    """py-spy recording ``pid`` into ``path`` until :func:`stop_profile` (its figures
    then include the sampler's cost)."""
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
    time.sleep(1)  # attached before the timed part
    return spy


def stop_profile(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
        spy.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evses", type=int, default=50_000)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the hub with py-spy (raw collapsed stacks) from the push to the last page",
    )
    add_db_options(parser)
    args = parser.parse_args()
    session = Session()
    with Workspace("oicp-data", args.db, args.pg_url, "hub {name}", "hub logs") as ws:
        db_url = ws.database("hub").replace("sqlite:///", "sqlite+aiosqlite:///", 1)
        body = json.dumps(
            {
                "ActionType": "fullLoad",
                "OperatorEvseData": {
                    "OperatorID": OPERATOR,
                    "OperatorName": "Bench",
                    "EvseDataRecord": records(args.evses),
                },
            }
        ).encode()
        hub = HubProcess(
            db_url,
            ws.workdir,
            Pki(ws.workdir / "pki"),
            extra_env={"EVROAM_OICP__MAX_BODY_BYTES": str(len(body) + 1024)},
        )
        try:
            hub.add_partner(OPERATOR, "CPO")
            hub.add_partner(PROVIDER, "EMP")
            cpo = hub.client(OPERATOR)
            emp = hub.client(PROVIDER)
            cpo.timeout = emp.timeout = 600
            spy = start_profile(args.profile, hub.proc.pid)
            started = time.perf_counter()
            r = cpo.post(
                f"{hub.url}/evsepush/v23/operators/{OPERATOR}/data-records",
                content=body,
                headers={"content-type": "application/json"},
            )
            push_s = time.perf_counter() - started
            if r.status_code != 200 or r.json().get("Result") is not True:
                sys.exit(f"error: the push was refused: {r.status_code} {r.text[:500]}")
            pulled = 0
            page = 0
            started = time.perf_counter()
            while True:
                r = emp.post(
                    f"{hub.url}/evsepull/v23/providers/{PROVIDER}/data-records"
                    f"?page={page}&size={PAGE_SIZE}",
                    json={"ProviderID": PROVIDER, "GeoCoordinatesResponseFormat": "Google"},
                )
                if r.status_code != 200:
                    sys.exit(f"error: pull page {page}: {r.status_code} {r.text[:500]}")
                data = r.json()
                pulled += len(data["content"])
                if data["last"]:
                    break
                page += 1
            pull_s = time.perf_counter() - started
            stop_profile(spy)
            rss = peak_rss_mb(hub.proc.pid)
        except BaseException:
            print(f"--- log of the hub ---\n{hub.log()}", file=sys.stderr)
            raise
        finally:
            hub.stop()
    if pulled != args.evses:
        sys.exit(f"error: pulled {pulled} records, pushed {args.evses}")
    session.print_machine(f"{args.db}, {args.evses} EVSEs, body {len(body) / 1e6:.1f} MB")
    push_ok = push_s < PUSH_TARGET_S
    pull_rps = pulled / pull_s
    pull_ok = pull_rps >= PULL_TARGET_RPS
    rss_ok = rss < RSS_TARGET_MB
    print(
        f"push fullLoad: {push_s:.2f} s, {args.evses / push_s:,.0f} records/s "
        f"(target < {PUSH_TARGET_S:.0f} s) {'ok' if push_ok else 'MISSED'}"
    )
    print(
        f"pull, pages of {PAGE_SIZE}: {pull_s:.2f} s, {pull_rps:,.0f} records/s "
        f"(target >= {PULL_TARGET_RPS:,}) {'ok' if pull_ok else 'MISSED'}"
    )
    print(f"hub peak RSS: {rss:.0f} MB (target < {RSS_TARGET_MB}) {'ok' if rss_ok else 'MISSED'}")
    session.print_end("oicp_data.py", ["--evses", str(args.evses), *db_options(args)])
    return 0 if push_ok and pull_ok and rss_ok else 1


if __name__ == "__main__":
    run(main)
