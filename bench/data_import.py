"""Seconds for ``evroam data import locations`` of 100,000 locations (2 EVSEs each) into
a fresh node, through the operator API, as an operator runs it.

Target: under 60 s.

    .venv/bin/python bench/data_import.py [--count 100000] [--db postgres]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import common
from common import ADMIN_TOKEN
from evroam.cli.data import BATCH_CONCURRENCY, BATCH_OBJECTS
from functional import location

TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    common.add_db_options(parser)
    parser.add_argument(
        "--profile", help="record the node with py-spy during the import into this file (raw)"
    )
    args = parser.parse_args()
    session = common.Session()
    with common.Workspace(
        "import", args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and database"
    ) as ws:
        node = common.start_node(ws.database("node"), ws.workdir, "NL", "CPO", "CPO")
        ws.servers.append(node)
        data = ws.workdir / "locations.jsonl"
        with data.open("w") as out:
            for i in range(args.count):
                out.write(json.dumps(location("NL", "CPO", f"L{i:07d}")) + "\n")
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "-f",
                    "raw",
                    "-o",
                    str(Path(args.profile).resolve()),
                    "-p",
                    str(node.proc.pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "evroam",
                "data",
                "import",
                "locations",
                str(data),
                "--node",
                node.url,
                "--json",
            ],
            capture_output=True,
            text=True,
            env=common.clean_env(EVROAM_ADMIN_TOKEN=ADMIN_TOKEN),
            check=False,
        )
        seconds = time.perf_counter() - start
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        if done.returncode != 0:
            raise RuntimeError(
                f"import failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        report = json.loads(done.stdout)
    print(f"data import: {args.count} locations (2 EVSEs each), {args.db}")
    session.print_machine(
        f"evroam data import: batches of up to {BATCH_OBJECTS} locations, "
        f"{BATCH_CONCURRENCY} in flight"
    )
    print(f"  imported     {report['imported']} (refused {len(report['failed'])})")
    print(f"  took         {seconds:.1f} s   ({args.count / seconds:,.0f} locations/s)")
    met = seconds < TARGET_SECONDS and report["imported"] == args.count
    print(f"target: under {TARGET_SECONDS:.0f} s: {'MET' if met else 'NOT MET'}")
    session.print_end("data_import.py", ["--count", str(args.count), *common.db_options(args)])
    return 0 if met else 1


if __name__ == "__main__":
    common.run(main)
