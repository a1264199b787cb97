"""Machinery the benchmark scripts share: loopback servers, databases, one run's workspace.

Imported as ``common``: the scripts' own directory is on ``sys.path`` both when a script
runs as ``bench/<name>.py`` and when uvicorn imports one with ``--app-dir bench``. Nothing
runs at import.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import NoReturn

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
ADMIN_TOKEN = "bench-admin-token"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432"


# ---------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without ``EVROAM_*`` and ``BENCH_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVROAM_", "BENCH_"))}
    env.update(extra)
    return env


class Server:
    """A server subprocess on a loopback port, output to a log file, stopped by ``stop``.

    Ready once ``GET ready_path`` answers ``ready_status``; a server that fails to get
    there is stopped before the error is raised.
    """

    def __init__(
        self,
        name: str,
        args: list[str],
        port: int,
        workdir: Path,
        env: dict[str, str],
        ready_status: int,
        ready_path: str,
        log_name: str | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / f"{log_name or name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=workdir
        )
        try:
            self._wait_ready(ready_path, ready_status)
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise

    def _wait_ready(self, path: str, status: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}{path}", timeout=1).status_code == status:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {timeout}s:\n{self.log()}")

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


def start_node(
    db_url: str,
    workdir: Path,
    country_code: str,
    party_id: str,
    role: str,
    name: str = "evroam",
    log_name: str | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    """``python -m evroam serve`` (operator API on ``ADMIN_TOKEN``), ready when
    ``/ocpi/versions`` answers 401; warning level and no access log, so logging does not
    dominate the figures. ``env``: ``EVROAM_*`` settings added to a clean environment."""
    port = free_port()
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
        str(port),
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
    return Server(
        name, args, port, workdir, clean_env(**(env or {})), 401, "/ocpi/versions", log_name
    )


def start_uvicorn_app(
    name: str,
    factory: str,
    workdir: Path,
    env: dict[str, str],
    ready_path: str,
    status: int,
    port: int | None = None,
) -> Server:
    """``python -m uvicorn --factory`` on ``factory`` (``module:function`` under bench/), on
    ``port`` (a free one when None), ``env`` added to a clean environment.

    Same uvicorn settings as ``evroam serve``: auto loop/http (uvloop and httptools when
    installed, as with ``uvicorn[standard]``), proxy headers on, warning level, no access log."""
    port = free_port() if port is None else port
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--app-dir",
        str(BENCH_DIR),
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "auto",
        "--http",
        "auto",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return Server(name, args, port, workdir, clean_env(**env), status, ready_path)


def record_profile(pid: int, out: str, seconds: int, fmt: str = "raw") -> subprocess.Popen[bytes]:
    """py-spy recording process ``pid`` for ``seconds`` into ``out`` (``fmt``: raw,
    speedscope or flamegraph); the figures of that run then include the sampler's cost.
    Wait on the returned process before reading ``out``."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "-o",
            str(Path(out).resolve()),
            "-f",
            fmt,
            "-p",
            str(pid),
            "-d",
            str(seconds),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


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
    """Databases ``evroam_bench_<random>_<suffix>`` on one server, all dropped by ``drop_all``."""

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


# ---------------------------------------------------------------------- one run


class Workspace:
    """A run's temporary directory, servers and databases (``with Workspace(...) as ws``).

    Append every server to ``servers``. On leaving, all of them are stopped and the
    PostgreSQL databases dropped, whatever happened. When an error escapes, the servers'
    logs are printed to stderr (headed ``--- log of <log_heading> ---``, formatted with
    ``name`` and ``url``) and the directory is kept; otherwise it is removed.
    """

    def __init__(self, script: str, db: str, pg_url: str, log_heading: str, kept: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"evroam-bench-{script}-"))
        self.pg = PgDatabases(pg_url) if db == "postgres" else None
        self.servers: list[Server] = []
        self._log_heading = log_heading
        self._kept = kept

    def database(self, name: str) -> str:
        """A fresh database: PostgreSQL ``<prefix>_<name>``, or SQLite ``<workdir>/<name>.db``."""
        if self.pg is not None:
            return self.pg.create(name)
        return f"sqlite:///{self.workdir}/{name}.db"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if isinstance(exc, Exception):
                for server in self.servers:
                    heading = self._log_heading.format(name=server.name, url=server.url)
                    print(f"--- log of {heading} ---\n{server.log()}", file=sys.stderr)
                print(f"{self._kept} kept in {self.workdir}", file=sys.stderr)
        finally:
            for server in self.servers:
                server.stop()
            if self.pg is not None:
                self.pg.drop_all()
        if exc is None:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------------- report


def add_db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg-url", default=PG_DEFAULT, help=f"PostgreSQL server (default {PG_DEFAULT})"
    )


def db_options(args: argparse.Namespace) -> list[str]:
    """``--db`` (and ``--pg-url`` when not the default) as given, for the rerun command."""
    options = ["--db", args.db]
    if args.db == "postgres" and args.pg_url != PG_DEFAULT:
        options += ["--pg-url", args.pg_url]
    return options


class Session:
    """Wall clock and load average at the start: the machine is shared, and other work on
    it skews the figures."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.load_before = os.getloadavg()[0]

    def print_machine(self, detail: str) -> None:
        print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {detail})")
        print(
            f"load average before the run: {self.load_before:.2f} "
            "(other work on the machine skews figures)"
        )

    def print_end(self, script: str, options: list[str]) -> None:
        """Time taken, and the command that reruns ``bench/<script>`` with ``options``."""
        python = sys.executable
        if Path(python).absolute() == (ROOT / ".venv" / "bin" / "python").absolute():
            python = ".venv/bin/python"
        cmd = [python, f"bench/{script}", *options]
        print(f"took {time.perf_counter() - self.started:.1f} s")
        print(f"rerun: cd {shlex.quote(str(ROOT))} && {shlex.join(cmd)}")


def run(main: Callable[[], int]) -> NoReturn:
    """Exit 0 when the target is met, 1 when not, 2 when the run itself failed."""
    try:
        code = main()
    except SystemExit as exc:
        if isinstance(exc.code, str):  # sys.exit("error: ...") from a setup step
            print(exc.code, file=sys.stderr)
            sys.exit(2)
        raise
    except Exception:
        traceback.print_exc()
        print("benchmark failed: no figures", file=sys.stderr)
        sys.exit(2)
    sys.exit(code)
