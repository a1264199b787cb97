"""``evroam demo``: a whole roaming charging session between two evroam nodes, watched
from their operator APIs.

What it does, and why this way:

* Two real ``evroam serve`` processes (a CPO with the simulated chargers,
  ``EVROAM_BACKEND__KIND=simulator`` asking the eMSP for real-time authorization, and an
  eMSP), each on its own SQLite database in one work directory, children of this
  process: one process tree, stopped on exit, on Ctrl-C, on SIGTERM and when a step
  fails (and, on Linux, by the kernel should this process die without cleaning up).
  Nothing of the user's ``EVROAM_*`` environment reaches them, so the demo is the same
  on every machine.
* Everything goes through the operator API, exactly as an operator would drive a node:
  the credentials handshake (token A, then B and C), the CPO's tariff and Locations, the
  eMSP's tokens, START_SESSION and STOP_SESSION. What the demo prints is read back from
  the same APIs (commands, sessions, CDRs, EVSE status, and the push outbox, whose
  entries say which node sent which message to whom, and how long delivery took), so
  the demo shows what the nodes did, not what it expects them to do.
* The admin tokens are random per run, kept in files (not in the process list) and
  printed at the end, when both nodes are left running for the user to explore.

Printing: a Rich console with markup off (:mod:`evroam.cli.common`), every value a node
answered passed through :func:`~evroam.cli.common.text`. Failures are one ``error:``
line and exit status 1, never a traceback; the work directory (with the nodes' logs) is
then kept.
"""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from evroam.cli import demo_data as data
from evroam.cli.common import console, fail, line
from evroam.cli.demo_node import DemoError, DemoNode
from evroam.cli.demo_run import run_demo, show_running

#: Seconds between the simulator's session updates (the demo waits for a few).
STEP_SECONDS = 1.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """A signal ends the demo like Ctrl-C does: the nodes are stopped on the way out."""
    raise KeyboardInterrupt


def _port(port: int, flag: str) -> int:
    """``port`` if it is free on loopback (0: any free port). Checked before a node is
    started so a taken port is named with its flag, not found in a child's log."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise DemoError(
                f"port {port} is taken: stop what uses it, or pick another with {flag}"
            ) from None
        return int(s.getsockname()[1])


def _workdir(path: Path | None) -> tuple[Path, bool]:
    if path is None:
        return Path(tempfile.mkdtemp(prefix="evroam-demo-")), True
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    taken = [p.name for p in (path / "cpo.db", path / "emsp.db") if p.exists()]
    if taken:
        raise DemoError(
            f"{path} already holds a demo ({', '.join(taken)}): give an empty directory"
        )
    return path, False


def demo(
    exit_: Annotated[
        bool, typer.Option("--exit", help="Stop both nodes when the session is done.")
    ] = False,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="Work directory for the databases, logs and admin tokens (default: a new "
            "temporary one, removed at the end).",
        ),
    ] = None,
    cpo_port: Annotated[
        int, typer.Option("--cpo-port", metavar="N", help="CPO node port (0: any free one).")
    ] = 8081,
    emsp_port: Annotated[
        int, typer.Option("--emsp-port", metavar="N", help="eMSP node port (0: any free one).")
    ] = 8082,
) -> None:
    """Watch a whole roaming charging session between two local nodes.

    Starts a CPO node with simulated chargers and an eMSP node (SQLite, loopback),
    registers them with each other, loads Locations, a tariff and tokens, and runs one
    session: START_SESSION, real-time authorization, status changes, session updates,
    STOP_SESSION, the CDR. Then both nodes keep running, with their URLs and admin tokens
    printed, until Ctrl-C (--exit: stop at once)."""
    out = console()
    if cpo_port == emsp_port and cpo_port != 0:
        raise fail("--cpo-port and --emsp-port must differ", 2)
    # Ctrl-C, a kill and a closed terminal all stop the nodes on the way out (SIGINT is
    # set too: a shell starts background jobs with it ignored).
    caught = [signal.SIGINT, signal.SIGTERM] + (
        [signal.SIGHUP] if hasattr(signal, "SIGHUP") else []
    )
    previous = {sig: signal.signal(sig, _interrupt) for sig in caught}
    nodes: list[DemoNode] = []
    workdir: Path | None = None
    temporary = done = False
    code = 0
    try:
        ports = _port(cpo_port, "--cpo-port"), _port(emsp_port, "--emsp-port")
        workdir, temporary = _workdir(directory)
        cpo = DemoNode(
            "CPO",
            data.CPO_PARTY,
            "CPO",
            data.CPO_NAME,
            ports[0],
            workdir,
            {
                "EVROAM_BACKEND__KIND": "simulator",
                "EVROAM_BACKEND__STEP_SECONDS": str(STEP_SECONDS),
                "EVROAM_BACKEND__AUTHORIZE": "true",
            },
        )
        emsp = DemoNode("eMSP", data.EMSP_PARTY, "EMSP", data.EMSP_NAME, ports[1], workdir, {})
        nodes += [cpo, emsp]
        run_demo(out, cpo, emsp)
        done = True
        if not exit_:
            show_running(out, cpo, emsp, temporary)
            while all(n.running for n in nodes):
                time.sleep(0.5)
            dead = [n.label for n in nodes if not n.running]
            raise DemoError(f"the {' and '.join(dead)} node stopped (see its log)")
    except KeyboardInterrupt:
        line(out, "")
        line(out, "stopping the nodes ...")
        code = 0 if done else 130
    except DemoError as exc:
        typer.echo(f"error: {exc}", err=True)
        code = 1
    finally:
        for node in nodes:
            node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if workdir is not None:
            if code == 0 and temporary:
                shutil.rmtree(workdir, ignore_errors=True)
            elif code != 0 and any(n.started for n in nodes):
                typer.echo(f"the nodes' logs are in {workdir}", err=True)
            elif code != 0 and temporary:
                shutil.rmtree(workdir, ignore_errors=True)
    if code:
        raise typer.Exit(code)
