"""The CPO server process and the CLI as a subprocess, for the partner tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from evroam.oicp.tls import client_ssl_context
from tests.integration.oicp_hub.support import Pki
from tests.support import free_port


class ServerProcess:
    """``python -m MODULE PORT CERT KEY CA RECORD`` (plus ``extra`` before PORT) on a
    free loopback port with the PKI's server certificate, admitting client certificates
    of the PKI's CA only; ready once it answers a request over mutual TLS. What its
    handler received is appended to ``record``, one JSON line each."""

    def __init__(
        self, name: str, module: str, workdir: Path, pki: Pki, extra: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"https://127.0.0.1:{self.port}"
        self.record = workdir / f"{name}-{self.port}.jsonl"
        self.record.touch()
        self._log = open(workdir / f"{name}-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                module,
                *extra,
                str(self.port),
                str(pki.server.cert),
                str(pki.server.key),
                str(pki.ca.cert),
                str(self.record),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        probe = pki.client_cert("readiness-probe")
        ctx = client_ssl_context(probe.cert, probe.key, pki.ca.cert)
        deadline = time.monotonic() + 30
        with httpx.Client(verify=ctx, timeout=5) as http:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the {name} server exited early")
                try:
                    http.post(self.base_url + "/ready", json={})
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

    def lines(self) -> list[dict[str, Any]]:
        """Every record line, in order of arrival."""
        text = self.record.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in text if line]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class CpoServerProcess(ServerProcess):
    """``cpo_server_main``: the CPO server app around the recording handler."""

    def __init__(self, workdir: Path, pki: Pki) -> None:
        super().__init__("cpo", "tests.integration.oicp_partner.cpo_server_main", workdir, pki)

    def received(self) -> list[dict[str, Any]]:
        return self.lines()


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``evroam oicp client ARGS`` in its own process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    return subprocess.run(
        [sys.executable, "-m", "evroam", "oicp", "client", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {}), "COLUMNS": "200"},
    )
