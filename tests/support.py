"""Test support: databases on both backends and real ``evroam serve`` processes.

PostgreSQL: the server on 127.0.0.1:5432 (``EVROAM_TEST_PG_URL`` overrides), trust auth;
each call of ``PgDatabases.create`` makes a fresh database named after this test run, and
all of them are dropped when the run ends.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

PG_ADMIN_URL = os.environ.get("EVROAM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def pg_unavailable_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why not (shown as the skip reason)."""
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed"

    async def probe() -> None:
        conn = await asyncpg.connect(_pg_dsn(PG_ADMIN_URL), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure means: no usable server here
        return f"no PostgreSQL at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}"
    return None


class PgDatabases:
    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.created: list[str] = []

    def _exec(self, sql: str) -> None:
        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(_pg_dsn(PG_ADMIN_URL), timeout=5)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run())

    def create(self) -> str:
        name = f"evroam_test_{self.run_id}_{uuid.uuid4().hex[:8]}"
        self._exec(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)

    def drop_all(self) -> None:
        """Drop this run's databases from a detached process on one connection.

        Why detached: each DROP DATABASE forces a checkpoint, so a worker that created
        a hundred databases spent 7-14 s in its last teardown, at the end of the suite
        where nothing else runs beside it. Best effort: a leftover test database is
        harmless (its name says which run made it)."""
        if not self.created:
            return
        script = (
            "import asyncio, sys, asyncpg\n"
            "async def main():\n"
            "    conn = await asyncpg.connect(sys.argv[1], timeout=5)\n"
            "    for name in sys.argv[2:]:\n"
            "        try:\n"
            "            await conn.execute(f'DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)')\n"
            "        except Exception:\n"
            "            pass\n"
            "    await conn.close()\n"
            "asyncio.run(main())\n"
        )
        # sh starts the dropper in the background and exits at once: waited for here,
        # so no child is left unreaped by this process.
        subprocess.run(
            ["sh", "-c", '"$@" >/dev/null 2>&1 </dev/null &', "sh", sys.executable, "-c", script]
            + [_pg_dsn(PG_ADMIN_URL), *self.created],
            check=False,
            start_new_session=True,
        )
        self.created.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NodeProcess:
    """A real ``evroam serve`` in its own process, on a loopback port."""

    def __init__(
        self,
        db_url: str,
        workdir: Path,
        *,
        country_code: str,
        party_id: str,
        roles: tuple[str, ...] = ("CPO",),
        admin_token: str = "admin-secret-0123456789",
        extra_env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.admin_token = admin_token
        self.db_url = db_url
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
        env.update(extra_env or {})
        # One client per node: a new httpx client per request costs ~30 ms (CA bundle load).
        self.http = httpx.Client(timeout=60)
        # A port found free may be taken by another test worker's node before ours binds
        # it (pytest-xdist runs workers side by side): then start again on another one.
        for attempt in range(3):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.log_path = workdir / f"node-{country_code}{party_id}-{self.port}.log"
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
                admin_token,
                "--log-level",
                "info",
                "--country-code",
                country_code,
                "--party-id",
                party_id,
            ]
            for role in roles:
                args += ["--role", role]
            args += list(extra_args)
            self._launch = (args, env, workdir)  # restart() starts the same node again
            self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
            self.proc = subprocess.Popen(
                args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=workdir
            )
            try:
                self._wait_ready()
                return
            except RuntimeError:
                self._log.close()
                if attempt == 2 or "address already in use" not in self.log().lower():
                    self.http.close()
                    raise

    def kill(self) -> None:
        """SIGKILL: the node gets no chance to finish anything, as in a crash."""
        self.proc.kill()
        self.proc.wait(5)

    def restart(self) -> None:
        """Starts the stopped or killed node again, on the same port (its partners hold
        URLs with it) and database; its log goes on in the same file."""
        assert self.proc.poll() is not None, "still running"
        args, env, workdir = self._launch
        if self.http.is_closed:
            self.http = httpx.Client(timeout=60)
        if self._log.closed:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=workdir
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited early:\n{self.log()}")
            try:
                r = self.http.get(f"{self.url}/ocpi/versions", timeout=1)
                if r.status_code == 401:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"node did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    def api(self, method: str, path: str, json: Any = None, expect: int | None = None) -> Any:
        r = self.http.request(
            method,
            f"{self.url}/api/v1{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=60,
        )
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def register_with(self, other: NodeProcess) -> None:
        """The handshake through both operator APIs: ``other`` invites, this node registers
        with the token A it issued (both answers checked)."""
        invite = other.api("POST", "/partners/invite", {}, expect=201)
        self.api(
            "POST",
            "/partners/register",
            {"versions_url": invite["versions_url"], "token": invite["token"]},
            expect=201,
        )

    def ocpi(
        self, method: str, path: str, token: str | None, *, raw_token: bool = False, **kwargs: Any
    ) -> httpx.Response:
        import base64

        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            value = token if raw_token else base64.b64encode(token.encode()).decode()
            headers["Authorization"] = f"Token {value}"
        url = path if path.startswith("http") else f"{self.url}{path}"
        return self.http.request(method, url, headers=headers, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        self.http.close()
