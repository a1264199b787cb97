"""Mutual TLS over real sockets: a uvicorn process started with ``uvicorn_tls_kwargs``
(``tls_app.py``) on 127.0.0.1, and httpx clients holding certificates made by
``oicp/certs.py``. What the server saw is read back from its answers and its request
count, not from the code under test."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evroam.oicp import certs
from evroam.oicp.tls import client_ssl_context
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[3]


class TlsServer:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.ca = certs.make_dev_ca(workdir)
        self.hub = certs.make_server_cert(self.ca, workdir)
        self.partner = certs.make_partner_cert(self.ca, workdir, "DE*ABC")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.oicp_tls.tls_app",
                "--port",
                str(self.port),
                "--cert",
                str(self.hub.cert),
                "--key",
                str(self.hub.key),
                "--ca",
                str(self.ca.cert),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.http = self.client(self.partner)
        self._wait_ready()

    def client(self, files: certs.CertFiles | None, **kwargs: Any) -> httpx.Client:
        ctx = client_ssl_context(
            files.cert if files else None, files.key if files else None, self.ca.cert
        )
        return httpx.Client(verify=ctx, timeout=10, **kwargs)

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if self.http.get(f"{self.url}/count").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log()}")

    def count(self) -> int:
        return int(self.http.get(f"{self.url}/count").json()["requests"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """One server for the module: no test changes its state (the request count only
    grows, and tests compare it before and after)."""
    srv = TlsServer(tmp_path_factory.mktemp("tls"))
    try:
        yield srv
    finally:
        srv.stop()


def test_a_partner_certificate_gets_its_identity_back_in_cn_and_san(server: TlsServer) -> None:
    answer = server.http.get(f"{server.url}/whoami").json()
    assert answer["cn"] == ["DE*ABC"]
    assert answer["san"] == ["DE*ABC"]
    assert answer["client_cert_name"] == "CN=DE*ABC"
    assert answer["chain_length"] == 1
    assert answer["tls_version"] == 0x0304
    assert isinstance(answer["cipher_suite"], int) and 0 < answer["cipher_suite"] <= 0xFFFF


def test_a_din_operator_id_and_a_provider_id_are_seen_as_given(server: TlsServer) -> None:
    for identity in ("+49*810", "DE-8PS"):
        files = certs.make_partner_cert(server.ca, server.dir, identity)
        with server.client(files) as client:
            answer = client.get(f"{server.url}/whoami").json()
        assert (answer["cn"], answer["san"]) == ([identity], [identity])


def test_the_server_certificate_verifies_for_its_address_and_its_name(server: TlsServer) -> None:
    with server.client(server.partner) as client:
        by_name = client.get(f"https://localhost:{server.port}/whoami")
    assert by_name.json()["cn"] == ["DE*ABC"]


def test_tls_12_clients_are_identified_too(server: TlsServer) -> None:
    ctx = client_ssl_context(server.partner.cert, server.partner.key, server.ca.cert)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with httpx.Client(verify=ctx, timeout=10) as client:
        answer = client.get(f"{server.url}/whoami").json()
    assert answer["tls_version"] == 0x0303 and answer["cn"] == ["DE*ABC"]


def test_two_requests_on_one_keep_alive_connection_both_see_the_identity(
    server: TlsServer,
) -> None:
    with server.client(server.partner) as client:
        # The first request empties its copy of the extension; the second, on the same
        # connection, still gets the connection's certificate.
        first = client.get(f"{server.url}/whoami?clobber=1").json()
        second = client.get(f"{server.url}/whoami").json()
    assert first["client_port"] == second["client_port"]  # one connection
    assert first["cn"] == second["cn"] == ["DE*ABC"]
    assert second["client_cert_name"] == "CN=DE*ABC" and second["chain_length"] == 1


def refused(server: TlsServer, files: certs.CertFiles | None) -> None:
    before = server.count()
    with server.client(files) as client, pytest.raises(httpx.TransportError):
        client.get(f"{server.url}/whoami")
    assert server.count() == before, "the app saw the request"


def test_without_a_client_certificate_the_handshake_is_refused(server: TlsServer) -> None:
    refused(server, None)


def test_a_certificate_from_another_ca_is_refused(server: TlsServer, tmp_path: Path) -> None:
    other_ca = certs.make_dev_ca(tmp_path)
    stranger = certs.make_partner_cert(other_ca, tmp_path, "DE*ABC")
    refused(server, stranger)


@pytest.mark.parametrize("who", ["nobody", "stranger"])
def test_tls_12_handshakes_fail_at_once_without_a_trusted_certificate(
    server: TlsServer, tmp_path: Path, who: str
) -> None:
    """With TLS 1.2 the server judges the client certificate inside the handshake, so the
    refusal comes from the handshake itself, before any byte of HTTP."""
    ctx = ssl.create_default_context(cafile=str(server.ca.cert))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if who == "stranger":
        other_ca = certs.make_dev_ca(tmp_path)
        stranger = certs.make_partner_cert(other_ca, tmp_path, "DE*ABC")
        ctx.load_cert_chain(str(stranger.cert), str(stranger.key))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                pass
