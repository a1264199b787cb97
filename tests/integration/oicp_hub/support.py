"""A real ``evroam oicp serve`` process for tests, and partner clients for it.

The certificates are made here with ``evroam.oicp.certs`` (a development CA, the hub's
server certificate for 127.0.0.1, one client certificate per partner identity); a second
CA stands for "someone else's PKI". Partners are added through the operator API, as an
operator would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from evroam.oicp import certs
from evroam.oicp.tls import client_ssl_context
from tests.support import free_port

ADMIN_TOKEN = "oicp-admin-secret-0123456789"


class Pki:
    """The hub's CA and certificates, made once per directory."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.ca = certs.make_dev_ca(directory / "ca")
        self.server = certs.make_server_cert(self.ca, directory / "server")
        self._clients: dict[str, certs.CertFiles] = {}

    def client_cert(self, identity: str) -> certs.CertFiles:
        if identity not in self._clients:
            self._clients[identity] = certs.make_partner_cert(
                self.ca, self.dir / "clients", identity
            )
        return self._clients[identity]

    def foreign_cert(self, identity: str) -> certs.CertFiles:
        """A certificate for ``identity`` signed by another CA than the hub's."""
        other = certs.make_dev_ca(self.dir / "other-ca", common_name="someone else's CA")
        return certs.make_partner_cert(other, self.dir / "other-clients", identity)


class HubProcess:
    """``evroam oicp serve`` on free loopback ports: partners over mutual TLS at
    ``url``, the operator API at ``admin_url``."""

    def __init__(
        self,
        db_url: str,
        workdir: Path,
        pki: Pki,
        *,
        extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.pki = pki
        self.db_url = db_url
        self.port = free_port()
        self.admin_port = free_port()
        self.url = f"https://127.0.0.1:{self.port}/api/oicp"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"
        self.log_path = workdir / f"hub-{self.port}.log"
        args = [
            sys.executable,
            "-m",
            "evroam",
            "oicp",
            "serve",
            "--db",
            db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--tls-cert",
            str(pki.server.cert),
            "--tls-key",
            str(pki.server.key),
            "--client-ca",
            str(pki.ca.cert),
            "--admin-token",
            ADMIN_TOKEN,
            "--admin-host",
            "127.0.0.1",
            "--admin-port",
            str(self.admin_port),
            "--log-level",
            "info",
            *extra_args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
        env.update(extra_env or {})
        self.admin = httpx.Client(
            base_url=self.admin_url,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        )
        self._clients: list[httpx.Client] = []
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=workdir
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        probe = self.client(None)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log()}")
            try:
                if self.admin.get("/api/v1/oicp/partners").status_code == 200:
                    # The TLS listener too: a handshake without a certificate is refused
                    # by the server, which proves it listens with client auth on.
                    try:
                        probe.post(f"{self.url}/x", json={})
                    except httpx.TransportError as exc:
                        if (
                            not isinstance(exc, httpx.ConnectError)
                            or "refused" not in str(exc).lower()
                        ):
                            return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub did not start in {timeout}s:\n{self.log()}")

    def client(self, identity: str | certs.CertFiles | None) -> httpx.Client:
        """An HTTPS client trusting the hub's CA, presenting the certificate of
        ``identity`` (made by the hub's CA when given as text) or none."""
        files = self.pki.client_cert(identity) if isinstance(identity, str) else identity
        ctx = client_ssl_context(
            files.cert if files else None, files.key if files else None, self.pki.ca.cert
        )
        client = httpx.Client(verify=ctx, timeout=30)
        self._clients.append(client)
        return client

    def api(self, method: str, path: str, json: Any = None, expect: int | None = None) -> Any:
        r = self.admin.request(method, f"/api/v1{path}", json=json)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def add_partner(self, partner_id: str, *roles: str, **fields: Any) -> Any:
        body = {"partner_id": partner_id, "roles": list(roles), **fields}
        return self.api("POST", "/oicp/partners", body, expect=201)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self.admin.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
