"""A partner's server app in its own process (``partner_main.py``), for the flow tests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from evroam.oicp.tls import client_ssl_context
from tests.integration.oicp_hub.support import Pki
from tests.support import free_port


class PartnerServerProcess:
    """``partner_main ROLE`` on a free loopback port with the PKI's server certificate,
    admitting client certificates of the PKI's CA only."""

    def __init__(self, role: str, workdir: Path, pki: Pki) -> None:
        self.port = free_port()
        self.base_url = f"https://127.0.0.1:{self.port}"
        self.record = workdir / f"{role}-{self.port}.jsonl"
        self.record.touch()
        self._log = open(workdir / f"{role}-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.oicp_ops.partner_main",
                role,
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
                    raise RuntimeError(f"the {role} server exited early")
                try:
                    http.post(self.base_url + "/ready", json={})
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

    def received(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The bodies the handler got, of one operation or all, in order of arrival."""
        lines = self.record.read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines if line]
        return [e["body"] for e in entries if operation is None or e["operation"] == operation]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
