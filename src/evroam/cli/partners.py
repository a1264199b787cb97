"""``evroam partners ...``: a client of a running node's operator API.

Every command talks to the node at ``--node`` with its admin token, which can come from a
flag, a file or the environment so that it need not show in the process list. What the
node answers is mostly partner-written (names, URLs, error details); it is printed through
:mod:`evroam.cli.common`, which shows it as harmless text.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import httpx
import typer
from rich.table import Table

from evroam.cli.common import Command, clean, console, fail, line, new_app, read_secret_file, text

app = new_app("Roaming partners of a running node (its operator API).")

F = TypeVar("F", bound=Callable[..., Any])


def command(name: str | None = None) -> Callable[[F], F]:
    """``app.command`` with the help layout of :class:`Command`."""
    return app.command(name, cls=Command)


DEFAULT_NODE = "http://127.0.0.1:8080"

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
PartnerArg = Annotated[
    str, typer.Argument(metavar="PARTNER", help="partner id or CC-PID (e.g. 3 or NL-ABC)")
]
NoteOpt = Annotated[
    str | None, typer.Option("--note", metavar="NOTE", help="Operator note (up to 255 chars).")
]

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
    """The error detail of an answer; FastAPI's validation errors as ``field: message``."""
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


# ---------------------------------------------------------------------- output for people


def print_json(data: Any) -> None:
    """JSON for scripts; non-ASCII and control characters stay escaped (``\\u001b``)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=True))


def label(p: dict[str, Any]) -> str:
    """The partner's parties, ``NL-ABC, NL-DEF``, or a note that it has none yet."""
    parties = sorted({f"{r['country_code']}-{r['party_id']}" for r in p.get("roles") or []})
    return ", ".join(parties) or "no party yet"


def _name(p: dict[str, Any]) -> str:
    return f"partner {p.get('id')} ({label(p)})"


# Below this width a table gives no column its full width: one unfolded column could leave
# the others none (Rich then drops their text).
_UNFOLDED_TIMESTAMPS_FROM = 70


def _fold_table(*columns: str, timestamps: Sequence[str] = ()) -> Table:
    """A table whose cells fold onto further lines rather than end in an ellipsis; the
    ``timestamps`` columns stay on one line when the console is wide enough. (Rich's
    ``min_width`` is not used: with folding it crops other columns' text.)"""
    wide = console().width >= _UNFOLDED_TIMESTAMPS_FROM
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=wide and column in timestamps)
    return table


def _list_table(partners: Sequence[dict[str, Any]]) -> None:
    table = _fold_table(
        "id",
        "party",
        "roles",
        "version",
        "status",
        "last connection",
        "note",
        timestamps=("last connection",),
    )
    for p in partners:
        table.add_row(
            text(p.get("id")),
            text(label(p) if p.get("roles") else "-"),
            text(", ".join(sorted({r["role"] for r in p.get("roles") or []})) or "-"),
            text(p.get("version") or "-"),
            text(p.get("status")),
            text(p.get("last_connection") or "-"),
            text(p.get("note") or ""),
        )
    console().print(table)


def show_partner(p: dict[str, Any]) -> None:
    """Every field of a partner, one per line; each URL whole on a line of its own."""
    out = console()
    line(out, _name(p), style="bold")
    registered = p.get("registered")
    how = (
        ("yes, we registered with them" if p.get("initiated_by_us") else "yes, they registered")
        if registered
        else "no"
    )
    fields: list[tuple[str, Any]] = [
        ("status", p.get("status")),
        ("version", p.get("version") or "-"),
        ("registered", how),
        ("registered at", p.get("registered_at") or "-"),
        ("last connection", p.get("last_connection") or "-"),
        ("status changed at", p.get("status_changed_at") or "-"),
    ]
    if p.get("pending_since"):
        fields.append(("pending since", p["pending_since"]))
    fields += [("created at", p.get("created_at") or "-"), ("note", p.get("note") or "-")]
    if p.get("notice"):
        fields.append(("notice", p["notice"]))
    width = max(len(key) for key, _ in fields)
    for key, value in fields:
        line(out, f"  {key + ':':<{width + 1}}  ", value)
    for r in p.get("roles") or []:
        line(out, f"  party {r['country_code']}-{r['party_id']} {r['role']}: ", r.get("name"))
        if r.get("website"):
            line(out, "    website:")
            line(out, "      ", r["website"])
    line(out, "  versions URL:")
    line(out, "    ", p.get("versions_url") or "-")
    endpoints = p.get("endpoints") or []
    if endpoints:
        line(out, "  endpoints:")
    for e in endpoints:
        line(out, f"    {e.get('identifier')} {e.get('role') or ''}".rstrip())
        line(out, "      ", e.get("url"))


def _invitation(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "versions_url": data["versions_url"],
                "token": data["token"],
                "partner_id": data["partner"]["id"],
            }
        )
        return
    out = console()
    line(out, "partner id: ", data["partner"]["id"])
    line(out, "versions URL:")
    line(out, "  ", data["versions_url"])
    line(out, "token A:")
    line(out, "  ", data["token"])
    line(out, "Hand both to the partner over a secure channel; the token is not shown again.")


def _status_line(p: dict[str, Any]) -> None:
    line(console(), f"  status {p.get('status')}, version {p.get('version') or '-'}")


def _quoted(value: Any) -> str:
    return "(none)" if value is None else f'"{value}"'


def print_changes(before: dict[str, Any], after: dict[str, Any]) -> None:
    """What an update changed: status, version, note, parties' names and websites, and
    endpoints added, removed or moved (each URL on a line of its own)."""
    out = console()
    changed = False

    def say(*parts: object) -> None:
        nonlocal changed
        changed = True
        line(out, *parts)

    for key in ("status", "version"):
        if before.get(key) != after.get(key):
            say(f"  {key}: {before.get(key) or '-'} -> {after.get(key) or '-'}")
    if before.get("note") != after.get("note"):
        say(f"  note: {_quoted(before.get('note'))} -> {_quoted(after.get('note'))}")

    def party_key(r: dict[str, Any]) -> str:
        return f"{r['country_code']}-{r['party_id']} {r['role']}"

    old_parties = {party_key(r): r for r in before.get("roles") or []}
    for key, r in {party_key(r): r for r in after.get("roles") or []}.items():
        old = old_parties.get(key, {})
        if old.get("name") != r.get("name"):
            say(f"  party {key} name: {_quoted(old.get('name'))} -> {_quoted(r.get('name'))}")
        if old.get("website") != r.get("website"):
            say(f"  party {key} website now:")
            line(out, "    ", r.get("website") or "(none)")

    def endpoint_map(p: dict[str, Any]) -> dict[str, str]:
        return {
            f"{e.get('identifier')} {e.get('role') or ''}".rstrip(): str(e.get("url"))
            for e in p.get("endpoints") or []
        }

    old_eps, new_eps = endpoint_map(before), endpoint_map(after)
    for key in sorted(old_eps.keys() | new_eps.keys()):
        if key not in old_eps:
            say(f"  endpoint added: {key}")
            line(out, "    ", new_eps[key])
        elif key not in new_eps:
            say(f"  endpoint removed: {key}")
            line(out, "    ", old_eps[key])
        elif old_eps[key] != new_eps[key]:
            say(f"  endpoint moved: {key}, now at:")
            line(out, "    ", new_eps[key])
    if not changed:
        line(
            out,
            f"  nothing else changed: status {after.get('status')}, "
            f"version {after.get('version') or '-'}, {len(new_eps)} endpoints",
        )


# ---------------------------------------------------------------------- commands


@command("list")
def list_(
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Every partner with its status."""
    data = connect(node, admin_token, admin_token_file).call("GET", "/partners")
    print_json(data) if json_ else _list_table(data)


@command()
def show(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One partner: status, version, parties, endpoints."""
    path = partner_path(ref)
    data = connect(node, admin_token, admin_token_file).call("GET", path)
    print_json(data) if json_ else show_partner(data)


@command()
def invite(
    note: NoteOpt = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Issue a token A for a new partner.

    Hand it to the partner with our versions URL; it registers with both."""
    api = connect(node, admin_token, admin_token_file)
    _invitation(api.call("POST", "/partners/invite", {"note": note}), json_)


@command()
def register(
    versions_url: Annotated[
        str,
        typer.Option("--versions-url", metavar="URL", help="The partner's versions URL."),
    ],
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="TOKEN",
            help="Token A the partner gave us (shows in the process list; a token file "
            "does not)  [env var: EVROAM_TOKEN_A]",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            metavar="FILE",
            help="Read token A from FILE (its trailing newline is ignored)  "
            "[env var: EVROAM_TOKEN_A_FILE]",
        ),
    ] = None,
    note: NoteOpt = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Register with a partner, using its token A.

    The credentials handshake, initiated by us: the partner gives its versions URL and a
    token A; we discover its endpoints and send it our credentials."""
    token_a = secret(
        token,
        token_file,
        flags=("--token", "--token-file"),
        env=("EVROAM_TOKEN_A", "EVROAM_TOKEN_A_FILE"),
        what="token A",
    )
    if not token_a:
        raise fail("no token A: give --token-file FILE or --token TOKEN, or set EVROAM_TOKEN_A", 2)
    api = connect(node, admin_token, admin_token_file)
    body = {"versions_url": versions_url, "token": token_a, "note": note}
    data = api.call("POST", "/partners/register", body)
    if json_:
        print_json(data)
        return
    line(console(), f"registered: we are now connected with {_name(data)}")
    show_partner(data)


@command()
def update(
    ref: PartnerArg,
    note: Annotated[
        str | None,
        typer.Option(
            "--note",
            metavar="NOTE",
            help="Only set the operator note ('' clears it); no credentials are exchanged.",
        ),
    ] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Re-discover a partner and exchange new credentials.

    Reads the partner's versions again (the highest mutual one is used) and PUTs fresh
    credentials: new tokens both ways. With --note, sets the note and does nothing else.
    Prints what changed."""
    path = partner_path(ref)
    api = connect(node, admin_token, admin_token_file)
    before = None if json_ else api.call("GET", path)
    body = {"note": note or None} if note is not None else None
    after = api.call("POST", f"{path}/update", body)
    if json_ or before is None:
        print_json(after)
        return
    if note is not None:
        line(console(), f"note set: {_name(after)}")
    else:
        line(
            console(),
            f"updated: {_name(after)}: re-discovered its versions and exchanged new "
            "credentials; each side now holds a new token",
        )
    print_changes(before, after)


@command("rotate-token")
def rotate_token(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Give the partner a new token; it gives us a new one.

    A credentials PUT on the current version; the partner's old token stops working here."""
    path = partner_path(ref, "rotate-token")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    if json_:
        print_json(data)
        return
    line(
        console(),
        f"rotated: {_name(data)} now holds a new token; the new token they gave us is stored",
    )
    _status_line(data)


@command()
def reset(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """After a breach: revoke all tokens, issue a new token A.

    Every token of the partner stops working at once and all traffic with it stops; the
    partner registers again with the new token A."""
    path = partner_path(ref, "reset")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    _invitation(data, json_)


@command()
def unregister(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Unregister from the partner and revoke its tokens.

    A credentials DELETE at the partner; its tokens stop working here even if the partner
    does not answer (a warning says so)."""
    path = partner_path(ref, "unregister")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    if json_:
        print_json(data)
        return
    partner = data["partner"]
    line(console(), f"unregistered: {_name(partner)}; its tokens no longer work here")
    _status_line(partner)
    if not data.get("remote_ok"):
        typer.echo(
            f"warning: the partner did not confirm: {clean(data.get('remote_error'))}", err=True
        )


@command()
def delete(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Delete a partner that is not registered.

    For an invitation never used or a partner unregistered for good; the node refuses
    (409) to delete a registered partner: unregister it first."""
    path = partner_path(ref)
    data = connect(node, admin_token, admin_token_file).call("DELETE", path)
    if json_:
        print_json(data)
        return
    line(console(), f"deleted: partner {data.get('deleted')}")


@command()
def uninvite(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Withdraw a partner's unused token A.

    It can no longer register with it. A partner that never registered is removed with
    it; one that registered before stays. Invite or reset to issue a new token A."""
    path = partner_path(ref, "uninvite")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    if json_:
        print_json(data)
        return
    kept = data.get("partner")
    if kept:
        line(console(), f"uninvited: {_name(kept)}: its token A no longer works")
        _status_line(kept)
    else:
        line(
            console(),
            f"uninvited: partner {data.get('withdrawn')}: its token A no longer works; "
            "it never registered, so it is removed",
        )


@command("client-info")
def client_info(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The parties a hub partner reported behind it.

    What the hub sent through OCPI HubClientInfo: each party with its role, its connection
    status at the hub and when that was last updated."""
    path = partner_path(ref, "client-info")
    data = connect(node, admin_token, admin_token_file).call("GET", path)
    if json_:
        print_json(data)
        return
    if not data:
        line(console(), f"partner {ref.strip()} reported no parties")
        return
    table = _fold_table("party", "role", "status", "last updated", timestamps=("last updated",))
    for c in data:
        table.add_row(
            text(c.get("country_code"), "-", c.get("party_id")),
            text(c.get("role")),
            text(c.get("status")),
            text(c.get("last_updated") or "-"),
        )
    console().print(table)
