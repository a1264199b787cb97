"""``evroam demo`` as a user runs it: a real subprocess, from the repository's Python.

What is checked independently of the code under test: the two nodes' SQLite databases
are read directly after the demo ended (``ocpi_object``: a row without ``partner_id``
is the node's own object, one with it was received from that partner), and the CDR's
cost is worked out here from the tariff the CPO stored, not from the demo's or the
simulator's arithmetic. Leftover processes are looked for in ``/proc`` by the work
directory on their command line. SQLite only: the demo runs on SQLite by definition.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

DEMO_TIMEOUT = 120


def demo(workdir: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    return subprocess.Popen(
        [sys.executable, "-m", "evroam", "demo", "--dir", str(workdir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=workdir.parent,
        start_new_session=True,  # killed as a group should the test fail midway
    )


def finish(proc: subprocess.Popen[str], timeout: float = DEMO_TIMEOUT) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the demo did not end in {timeout} s:\n{out}\n{err}")


def processes_in(workdir: Path) -> list[str]:
    """Command lines of running processes that name ``workdir`` (the demo's nodes do:
    their database and token file live there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except (OSError, IndexError):
            continue
        if str(workdir) in cmdline and state != "Z":
            found.append(cmdline)
    return found


def objects(db: Path, module: str, *, own: bool) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT document FROM ocpi_object WHERE module = ? AND partner_id IS "
            + ("NULL" if own else "NOT NULL"),
            (module,),
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def tariff_price(tariff: dict[str, Any], energy_kwh: float) -> float:
    """The tariff's price excl. VAT of a session that charged ``energy_kwh``: its FLAT
    components once, its ENERGY components on the energy rounded up to their step (Wh)."""
    total = 0.0
    for element in tariff["elements"]:
        for c in element["price_components"]:
            if c["type"] == "FLAT":
                total += c["price"]
            elif c["type"] == "ENERGY":
                step = c["step_size"]
                billed_wh = math.ceil(round(energy_kwh * 1000, 6) / step) * step
                total += c["price"] * billed_wh / 1000
            else:
                raise AssertionError(f"the test does not price {c['type']}")
    return total


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_demo_runs_a_session_to_its_cdr_and_leaves_both_databases_holding_it(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "demo"
    proc = demo(workdir, "--exit", "--cpo-port", "0", "--emsp-port", "0")
    out, err = finish(proc)
    assert proc.returncode == 0, f"{out}\n{err}"
    assert "Traceback" not in err and "error" not in err, err
    assert "CDR vs tariff     matches" in out, out
    assert processes_in(workdir) == []

    cpo, emsp = workdir / "cpo.db", workdir / "emsp.db"
    [session] = objects(cpo, "sessions", own=True)
    [received] = objects(emsp, "sessions", own=False)
    assert session["id"] == received["id"]
    assert session["status"] == received["status"] == "COMPLETED"
    assert received["auth_method"] == "COMMAND"
    # The simulator asked the eMSP before it started: the session carries its answer.
    assert received.get("authorization_reference")
    assert received["kwh"] > 0

    [cdr] = objects(cpo, "cdrs", own=True)
    [cdr_received] = objects(emsp, "cdrs", own=False)
    assert cdr["id"] == cdr_received["id"] and cdr_received["session_id"] == session["id"]
    [tariff] = objects(cpo, "tariffs", own=True)
    expected = tariff_price(tariff, cdr_received["total_energy"])
    # The CDR states its energy to 0.1 Wh: the Wh it was billed for may be one more.
    one_wh = max(c["price"] for e in tariff["elements"] for c in e["price_components"]) / 1000
    assert abs(cdr_received["total_cost"]["excl_vat"] - expected) <= one_wh + 1e-4, (
        cdr_received,
        expected,
    )
    assert cdr_received["total_cost"] == received["total_cost"]
    # Both nodes' commands: the eMSP sent two, each with the CPO's ACCEPTED result.
    with sqlite3.connect(emsp) as conn:
        sent = conn.execute("SELECT type, result FROM sent_request ORDER BY created_at").fetchall()
    assert sent == [("START_SESSION", "ACCEPTED"), ("STOP_SESSION", "ACCEPTED")]


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_a_taken_port_is_a_clear_error_with_nothing_started(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = demo(workdir, "--exit", "--cpo-port", "0", "--emsp-port", str(port))
        out, err = finish(proc, 30)
    assert proc.returncode == 1, f"{out}\n{err}"
    assert f"error: port {port} is taken" in err and "--emsp-port" in err
    assert "Traceback" not in err
    assert processes_in(workdir) == []
    assert not (workdir / "cpo.db").exists()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_a_demo_stopped_midway_stops_both_nodes(tmp_path: Path) -> None:
    """SIGTERM while the session runs: the demo ends (not 0) and takes its nodes with it."""
    workdir = tmp_path / "demo"
    proc = demo(workdir, "--exit", "--cpo-port", "0", "--emsp-port", "0")
    try:
        deadline = time.monotonic() + 60
        while len([c for c in processes_in(workdir) if " serve " in c]) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "no nodes started"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc, 30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, f"{out}\n{err}"
    assert "Traceback" not in err
    assert processes_in(workdir) == []
