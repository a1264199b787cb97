"""The operator API of a running node, as the ``partners`` commands call it: which node,
with which admin token (flag, file or environment), and partner references checked before
they become part of a URL."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer

from evroam.cli.common import fail, read_secret_file

DEFAULT_NODE = "http://127.0.0.1:8080"

# Options every command that talks to a node takes.
NodeOpt = Annotated[
    str | None,
    typer.Option(
        "--node",
        envvar="EVROAM_NODE",
        metavar="URL",
        help=f"Base URL of the node to manage (default {DEFAULT_NODE}).",
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--admin-token",
        metavar="TOKEN",
        help="The node's admin token (shows in the process list; a token file does not)  "
        "[env var: EVROAM_ADMIN_TOKEN]",
    ),
]
TokenFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--admin-token-file",
        metavar="FILE",
        help="Read the admin token from FILE (its trailing newline is ignored)  "
        "[env var: EVROAM_ADMIN_TOKEN_FILE]",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the node's answer as JSON.")]

# What the node's resolver understands: a numeric id, or a party as CC-PID (OCPI writes CC*PID).
_REF = re.compile(r"[0-9]+|[A-Za-z]{2}[-*][A-Za-z0-9]{3}")


def make_client() -> httpx.Client:
    """The HTTP client of every call; the unit tests replace it with a mock transport."""
    return httpx.Client(timeout=120.0)


def secret(
    value: str | None,
    file: Path | None,
    *,
    flags: tuple[str, str],
    env: tuple[str, str],
    what: str,
) -> str | None:
    """A secret from a flag, a file flag, an environment variable or a file named there.

    The command line beats the environment. Two sources on the same level are refused
    rather than guessed between: the operator could be using a token they did not mean.
    """
    if value is not None and file is not None:
        raise fail(f"give {flags[0]} or {flags[1]}, not both", 2)
    if value is not None:
        return value
    if file is not None:
        return read_secret_file(file, what)
    env_value, env_file = os.environ.get(env[0]), os.environ.get(env[1])
    if env_value and env_file:
        raise fail(f"{env[0]} and {env[1]} are both set; unset one", 2)
    if env_value:
        return env_value
    if env_file:
        return read_secret_file(Path(env_file), what)
    return None


def partner_path(ref: str, action: str | None = None) -> str:
    """The API path of a partner. The reference is checked and URL-encoded, so that what
    the operator typed (or pasted from a partner's message) cannot point the request at
    another endpoint: the node decodes ``%2F`` before routing, so encoding alone would not
    stop ``1/reset``."""
    ref = ref.strip()
    if not _REF.fullmatch(ref):
        raise fail(f"{ref!r} is not a partner: give its id (e.g. 3) or a party (e.g. NL-ABC)", 2)
    path = f"/partners/{quote(ref, safe='')}"
    return f"{path}/{action}" if action else path


def _detail(data: Any) -> str:
    """The error detail of an answer: an OCPI envelope (the data paths) as ``OCPI <code>:
    <message>``, FastAPI's validation errors as ``field: message``."""
    if isinstance(data, dict) and "status_code" in data and "detail" not in data:
        return f"OCPI {data.get('status_code')}: {data.get('status_message') or 'no message'}"
    detail = data.get("detail", data) if isinstance(data, dict) else data
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = [str(x) for x in item.get("loc", []) if x != "body"]
                parts.append(f"{'.'.join(loc)}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


@dataclass(frozen=True)
class Node:
    """The node the command manages: its base URL and admin token."""

    base: str
    token: str

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One operator API call; the decoded JSON answer (None for an empty one). Any
        failure is printed on stderr and ends the command with status 1."""
        try:
            with make_client() as client:
                resp = client.request(
                    method,
                    f"{self.base}/api/v1{path}",
                    json=body,
                    headers={"Authorization": f"Bearer {self.token}"},
                )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise fail(f"cannot reach node at {self.base}: {exc}") from None
        if not resp.content:
            data: Any = None
        else:
            try:
                data = resp.json()
            except ValueError:
                data = {"detail": resp.text}
        if resp.status_code >= 400:
            raise fail(f"({resp.status_code}) {_detail(data)}")
        return data


def connect(node: str | None, admin_token: str | None, admin_token_file: Path | None) -> Node:
    """The node to talk to, with its admin token from the flags or the environment."""
    token = secret(
        admin_token,
        admin_token_file,
        flags=("--admin-token", "--admin-token-file"),
        env=("EVROAM_ADMIN_TOKEN", "EVROAM_ADMIN_TOKEN_FILE"),
        what="admin token",
    )
    if not token:
        raise fail(
            "no admin token: give --admin-token-file FILE or --admin-token TOKEN, or set "
            "EVROAM_ADMIN_TOKEN_FILE or EVROAM_ADMIN_TOKEN",
            2,
        )
    if not (token.isascii() and token.isprintable()):
        raise fail("the admin token must be printable ASCII (a header cannot carry more)", 2)
    return Node((node or DEFAULT_NODE).rstrip("/"), token)
