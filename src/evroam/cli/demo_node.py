"""The two nodes of ``evroam demo``: child ``evroam serve`` processes, their operator
API, and the trace of what their push outboxes delivered.

A node is a child process of the demo (``sys.executable -m evroam serve``), its output
in ``<label>.log`` in the work directory, its admin token in a file only the user can
read. On Linux the child also asks the kernel for SIGTERM should the demo die without
stopping it (``PR_SET_PDEATHSIG``), so no node outlives the demo even after a SIGKILL.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.text import Text

from evroam.cli.common import clean

#: Seconds a node may take to start (migrations on a fresh database included).
START_TIMEOUT = 60.0


class DemoError(Exception):
    """A step of the demo that failed: printed as one line, never as a traceback."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Linux: SIGTERM this child when the demo process dies, however it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class DemoNode:
    """One ``evroam serve`` child: started, asked, stopped."""

    def __init__(
        self,
        label: str,
        party: tuple[str, str],
        role: str,
        name: str,
        port: int,
        workdir: Path,
        env: dict[str, str],
    ) -> None:
        self.label, self.party, self.role, self.name = label, party, role, name
        self.port, self.workdir = port, workdir
        self.url = f"http://127.0.0.1:{port}"
        self.token = secrets.token_urlsafe(24)
        slug = label.lower()
        self.db_path = workdir / f"{slug}.db"
        self.log_path = workdir / f"{slug}.log"
        self.token_file = workdir / f"{slug}.admin-token"
        self._env = env
        self._log: IO[bytes] | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = time.monotonic()
        # Loopback only: no proxy from the environment may see the admin token.
        self.http = httpx.Client(timeout=30.0, trust_env=False)

    @property
    def party_label(self) -> str:
        return f"{self.party[0]}-{self.party[1]}"

    @property
    def started(self) -> bool:
        return self.proc is not None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.token + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
        env.update(self._env)
        args = [
            sys.executable,
            "-m",
            "evroam",
            "serve",
            "--db",
            f"sqlite+aiosqlite:///{self.db_path}",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--admin-token-file",
            str(self.token_file),
            "--country-code",
            self.party[0],
            "--party-id",
            self.party[1],
            "--role",
            self.role,
            "--name",
            self.name,
            "--log-level",
            "info",
            "--no-access-log",
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.workdir,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )

    def wait_ready(self) -> float:
        """Seconds from the start until the operator API answers; DemoError when the
        node exits first (a port taken meanwhile named as such) or takes too long."""
        started = self.started_at
        while time.monotonic() - started < START_TIMEOUT:
            if not self.running:
                log = self.log_path.read_text(errors="replace")
                if "address already in use" in log.lower():
                    raise DemoError(f"port {self.port} is taken (the {self.label} node's port)")
                tail = "\n".join("  " + clean(row) for row in log.strip().splitlines()[-5:])
                raise DemoError(f"the {self.label} node did not start; its log ends:\n{tail}")
            try:
                r = self.http.get(f"{self.url}/api/v1/node", headers=self._auth, timeout=1)
                if r.status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise DemoError(f"the {self.label} node did not start within {START_TIMEOUT:.0f} s")

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One operator API call; its JSON answer. Anything but 2xx is a DemoError with
        the node's own message (an OCPI envelope's, or the API's detail)."""
        try:
            r = self.http.request(method, f"{self.url}/api/v1{path}", json=body, headers=self._auth)
        except httpx.HTTPError as exc:
            raise DemoError(f"{self.label} node: {method} {path}: {exc}") from None
        try:
            answer = r.json() if r.content else None
        except ValueError:
            answer = {"detail": r.text[:200]}
        if r.status_code >= 300:
            if isinstance(answer, dict):
                why = answer.get("status_message") or answer.get("detail") or answer
            else:
                why = answer
            raise DemoError(f"{self.label} node: {method} {path}: {r.status_code} {clean(why)}")
        return answer

    def data(self, method: str, path: str, body: Any = None) -> Any:
        """The ``data`` of an OCPI-envelope answer (the data paths of the operator API)."""
        answer = self.call(method, path, body)
        return answer.get("data") if isinstance(answer, dict) else None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
        self.http.close()


# ---------------------------------------------------------------------- the trace


def elapsed_ms(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    a = datetime.fromisoformat(start.replace("Z", "+00:00"))
    b = datetime.fromisoformat(end.replace("Z", "+00:00"))
    return (b - a).total_seconds() * 1000


def money(price: Any, digits: int = 2) -> str:
    """An OCPI Price as ``0.59 excl. VAT (0.71 incl.)``; ``-`` when absent."""
    if not isinstance(price, dict):
        return "-"
    excl, incl = price.get("excl_vat"), price.get("incl_vat")
    text = f"{float(excl):.{digits}f} excl. VAT" if isinstance(excl, int | float) else "-"
    if isinstance(incl, int | float):
        text += f" ({float(incl):.{digits}f} incl.)"
    return text


def summary(module: str, method: str, body: Any) -> str:
    """What a pushed message carried, in a few words."""
    if not isinstance(body, dict):
        return ""
    if module == "commands":
        return f"CommandResult {body.get('result')}"
    if module == "locations":
        if "evses" in body:
            return f"Location {body.get('name') or body.get('id')}, {len(body['evses'])} EVSEs"
        if "status" in body:
            return f"EVSE status {body['status']}"
        return ", ".join(sorted(body))
    if module == "tariffs":
        return f"Tariff {body.get('id')} ({body.get('currency')})"
    if module == "tokens":
        return f"Token {body.get('uid')} ({body.get('type')}, valid={body.get('valid')})"
    if module == "sessions":
        parts = [str(body["status"])] if "status" in body else []
        if "kwh" in body:
            parts.append(f"{float(body['kwh']):.3f} kWh")
        if "total_cost" in body:
            parts.append(money(body["total_cost"]))
        return "Session " + ", ".join(parts)
    if module == "cdrs":
        energy = body.get("total_energy")
        kwh = f"{float(energy):.3f} kWh, " if isinstance(energy, int | float) else ""
        return f"CDR {kwh}{money(body.get('total_cost'))}"
    return ""


class Trace:
    """Prints each message a node's outbox delivered (or gave up on), once, with the
    time the delivery took (queued to delivered, the node's own timestamps)."""

    def __init__(self, out: Console, nodes: list[tuple[DemoNode, DemoNode]]) -> None:
        self.out = out
        self.nodes = nodes  # (sender, its partner)
        self.started = time.monotonic()
        self.floor = {n.label: 0 for n, _ in nodes}
        self.shown: set[tuple[str, int]] = set()
        self.delivered = {n.label: 0 for n, _ in nodes}

    def say(self, who: str, what: str, detail: str = "", took_ms: float | None = None) -> None:
        """One line: seconds since the start, who did it, what, and how long it took."""
        clock = f"{time.monotonic() - self.started:6.2f}s"
        parts = Text(no_wrap=False)
        parts.append(clock + "  ", style="dim")
        parts.append(f"{clean(who):13}", style="bold cyan")
        parts.append(clean(what), style="bold")
        if detail:
            parts.append("  " + clean(detail))
        if took_ms is not None:
            parts.append(f"  ({took_ms:.0f} ms)", style="dim")
        self.out.print(parts, soft_wrap=True)

    def follow(self) -> None:
        """Show what the outboxes delivered since the last look."""
        for node, partner in self.nodes:
            if not node.running:
                raise DemoError(f"the {node.label} node stopped")
            floor = self.floor[node.label]
            entries = node.call("GET", f"/outbox/entries?after={floor}&limit=1000") or []
            contiguous = True
            for e in entries:
                key = (node.label, int(e["id"]))
                state = e.get("state")
                if key not in self.shown and state in ("delivered", "dead", "held"):
                    self._show(node, partner, e)
                    self.shown.add(key)
                if contiguous and key in self.shown:
                    self.floor[node.label] = int(e["id"])
                else:
                    contiguous = False

    def _show(self, node: DemoNode, partner: DemoNode, e: dict[str, Any]) -> None:
        full = node.call("GET", f"/outbox/entries/{int(e['id'])}")
        module, method = str(e.get("module")), str(e.get("method"))
        if e.get("url"):
            target = f"POST {module} result"
        else:
            target = "/".join([f"{method} {module}", *(str(p) for p in e.get("path") or [])])
        what = summary(module, method, full.get("body"))
        if e.get("state") == "delivered":
            self.delivered[node.label] += 1
            took = elapsed_ms(e.get("created_at"), e.get("delivered_at"))
            self.say(f"{node.label} -> {partner.label}", target, what, took)
        else:
            why = e.get("last_error") or e.get("held_reason") or e.get("state")
            self.say(f"{node.label} -> {partner.label}", target, f"NOT DELIVERED: {why}")
