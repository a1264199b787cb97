"""``evroam commands start|stop|reserve|cancel|unlock|list|show``: OCPI Commands through
a running node's operator API (``/api/v1/commands``).

An eMSP node sends a command to the CPO partner holding ``--party``; the node keeps it
with the CPO's answer and, later, the result the CPO POSTs back (``show``, or ``--wait``
on the sending command to follow it there). ``list`` shows both directions: what this
node sent, and, on a CPO node, what partners sent it. A token is one of the node's own
(``--token-uid``, ``--token-type``) or given whole (``--token-file``).

What a partner wrote (its messages, ids) is printed as text, escaped
(:mod:`evroam.cli.common`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

import typer

from evroam.cli.common import Command, console, fail, line, new_app, text
from evroam.cli.node_api import JsonOpt, Node, NodeOpt, TokenFileOpt, TokenOpt, connect
from evroam.cli.partner_views import fold_table, print_json

app = new_app("OCPI Commands: start, stop, reserve, cancel, unlock; what was sent and received.")

F = TypeVar("F", bound=Callable[..., Any])

#: States after which nothing more comes (``--wait`` stops there).
FINAL = {"RESULT", "EXPIRED", "FAILED", "REJECTED", "NOT_SUPPORTED", "UNKNOWN_SESSION"}
FINAL_RECEIVED = {"DONE", "TIMEOUT", "REFUSED"}


def command(name: str | None = None) -> Callable[[F], F]:
    return app.command(name, cls=Command)


PartyOpt = Annotated[
    str, typer.Option("--party", metavar="CC-PID", help="The CPO party, e.g. NL-CPO.")
]
LocationOpt = Annotated[str, typer.Option("--location", metavar="ID", help="Location id.")]
TokenUidOpt = Annotated[
    str | None,
    typer.Option("--token-uid", metavar="UID", help="One of this node's own tokens, by uid."),
]
TokenTypeOpt = Annotated[
    str, typer.Option("--token-type", metavar="TYPE", help="Its TokenType (default RFID).")
]
TokenFileArg = Annotated[
    Path | None,
    typer.Option("--token-file", metavar="FILE", help="A whole OCPI Token as JSON, instead."),
]
AuthRefOpt = Annotated[
    str | None,
    typer.Option("--authorization-reference", metavar="REF", help="Reference to send along."),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", metavar="SECONDS", help="Follow the command until its result (or give up)."
    ),
]


def _token(fields: dict[str, Any], uid: str | None, token_type: str, file: Path | None) -> None:
    if (uid is None) == (file is None):
        raise typer.BadParameter("give --token-uid or --token-file", param_hint="--token-uid")
    if uid is not None:
        fields["token_uid"] = uid
        fields["token_type"] = token_type.upper()
        return
    assert file is not None
    try:
        fields["token"] = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read a Token from {file}: {exc}", 2) from None


def _send(
    api: Node, name: str, fields: dict[str, Any], party: str, wait: float, as_json: bool
) -> None:
    data = api.call("POST", f"/commands/{name}", {"party": party.strip(), **fields})
    deadline = time.monotonic() + max(wait, 0.0)
    while (
        wait > 0
        and isinstance(data, dict)
        and data.get("state") not in FINAL
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
        data = api.call("GET", f"/commands/{quote(str(data.get('id')), safe='')}")
    print_json(data) if as_json else print_command(data)


def _value(v: Any) -> str:
    return "-" if v is None or v == "" else str(v)


def print_command(c: dict[str, Any]) -> None:
    out = console()
    sent = c.get("direction") == "sent"
    line(out, f"command {_value(c.get('id'))}", style="bold")
    rows: list[tuple[str, Any]] = [
        ("type", c.get("type")),
        ("direction", "sent by this node" if sent else "received from a partner"),
        ("state", c.get("state")),
        ("CPO", c.get("party")),
        ("eMSP", c.get("sender") if sent else c.get("requester")),
        ("session", c.get("session_id")),
    ]
    if sent:
        answer = c.get("response")
        if answer is not None and c.get("timeout") is not None:
            answer = f"{answer} (result within {c.get('timeout')} s)"
        rows += [
            ("answer", answer),
            ("answer says", c.get("response_message")),
            ("error", c.get("error")),
        ]
    rows += [
        ("result", c.get("result")),
        ("result says", c.get("result_message")),
    ]
    if not sent:
        rows.append(("late result", c.get("late_result")))
    rows += [
        ("created", c.get("created_at")),
        ("answered", c.get("responded_at")),
        ("result at", c.get("result_at")),
        ("times out", c.get("timeout_at")),
        ("expires", c.get("expires_at")),
    ]
    for label, value in rows:
        if value is not None or label in ("state", "result"):
            line(out, f"{label + ':':13}", _value(value))
    for key, label in (("request", "request"), ("result_document", "result document")):
        doc = c.get(key)
        if doc is not None:
            line(out, f"{label}:")
            for row in json.dumps(doc, indent=2, ensure_ascii=True).splitlines():
                line(out, row)


def print_commands(items: list[dict[str, Any]]) -> None:
    out = console()
    if not items:
        line(out, "no commands")
        return
    table = fold_table("id", "dir", "type", "CPO", "eMSP", "state", "answer", "result", "created")
    for c in items:
        sent = c.get("direction") == "sent"
        table.add_row(
            text(c.get("id")),
            text("sent" if sent else "received"),
            text(c.get("type")),
            text(c.get("party")),
            text(c.get("sender") if sent else c.get("requester")),
            text(c.get("state")),
            text(_value(c.get("response") if sent else "-")),
            text(_value(c.get("result"))),
            text(c.get("created_at")),
        )
    out.print(table)


@command()
def start(
    party: PartyOpt,
    location: LocationOpt,
    evse: Annotated[str | None, typer.Option("--evse", metavar="UID", help="EVSE uid.")] = None,
    connector: Annotated[
        str | None, typer.Option("--connector", metavar="ID", help="Connector id (with --evse).")
    ] = None,
    token_uid: TokenUidOpt = None,
    token_type: TokenTypeOpt = "RFID",
    token_file: TokenFileArg = None,
    authorization_reference: AuthRefOpt = None,
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """START_SESSION at a CPO's location (EVSE and connector optional)."""
    fields: dict[str, Any] = {"location_id": location}
    for key, value in (
        ("evse_uid", evse),
        ("connector_id", connector),
        ("authorization_reference", authorization_reference),
    ):
        if value is not None:
            fields[key] = value
    _token(fields, token_uid, token_type, token_file)
    api = connect(node, admin_token, admin_token_file)
    _send(api, "START_SESSION", fields, party, wait, json_)


@command()
def stop(
    party: PartyOpt,
    session: Annotated[str, typer.Option("--session", metavar="ID", help="The session id.")],
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """STOP_SESSION of a session at a CPO."""
    api = connect(node, admin_token, admin_token_file)
    _send(api, "STOP_SESSION", {"session_id": session}, party, wait, json_)


@command()
def reserve(
    party: PartyOpt,
    location: LocationOpt,
    reservation: Annotated[
        str, typer.Option("--reservation-id", metavar="ID", help="Your id of the reservation.")
    ],
    minutes: Annotated[
        int, typer.Option("--minutes", metavar="N", help="How long it holds (default 30).")
    ] = 30,
    evse: Annotated[str | None, typer.Option("--evse", metavar="UID", help="EVSE uid.")] = None,
    token_uid: TokenUidOpt = None,
    token_type: TokenTypeOpt = "RFID",
    token_file: TokenFileArg = None,
    authorization_reference: AuthRefOpt = None,
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """RESERVE_NOW an EVSE (or any of the location's) for a token, from now on."""
    if minutes < 1:
        raise typer.BadParameter("at least 1", param_hint="--minutes")
    expiry = datetime.now(UTC) + timedelta(minutes=minutes)
    fields: dict[str, Any] = {
        "location_id": location,
        "reservation_id": reservation,
        "expiry_date": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if evse is not None:
        fields["evse_uid"] = evse
    if authorization_reference is not None:
        fields["authorization_reference"] = authorization_reference
    _token(fields, token_uid, token_type, token_file)
    api = connect(node, admin_token, admin_token_file)
    _send(api, "RESERVE_NOW", fields, party, wait, json_)


@command()
def cancel(
    party: PartyOpt,
    reservation: Annotated[
        str, typer.Option("--reservation-id", metavar="ID", help="The reservation to cancel.")
    ],
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """CANCEL_RESERVATION of a reservation made with RESERVE_NOW."""
    api = connect(node, admin_token, admin_token_file)
    _send(api, "CANCEL_RESERVATION", {"reservation_id": reservation}, party, wait, json_)


@command()
def unlock(
    party: PartyOpt,
    location: LocationOpt,
    evse: Annotated[str, typer.Option("--evse", metavar="UID", help="EVSE uid.")],
    connector: Annotated[str, typer.Option("--connector", metavar="ID", help="Connector id.")],
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """UNLOCK_CONNECTOR (help desk only: never on a driver's request)."""
    fields = {"location_id": location, "evse_uid": evse, "connector_id": connector}
    api = connect(node, admin_token, admin_token_file)
    _send(api, "UNLOCK_CONNECTOR", fields, party, wait, json_)


@command("list")
def list_(
    direction: Annotated[
        str | None,
        typer.Option("--direction", metavar="DIR", help="sent or received (default: both)."),
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", metavar="STATE", help="Only this state (repeat)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="Most shown.")] = 50,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Commands sent and received, newest first."""
    if direction is not None and direction.lower() not in ("sent", "received"):
        raise typer.BadParameter("sent or received", param_hint="--direction")
    params: list[tuple[str, str]] = [("limit", str(max(1, min(limit, 1000))))]
    if direction is not None:
        params.append(("direction", direction.lower()))
    params += [("state", s.upper()) for s in state or []]
    data = connect(node, admin_token, admin_token_file).call(
        "GET", f"/commands?{urlencode(params)}"
    )
    print_json(data) if json_ else print_commands(data)


@command()
def show(
    command_id: Annotated[str, typer.Argument(metavar="ID", help="Command id (see 'list').")],
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One command: its answer, result and documents."""
    path = f"/commands/{quote(command_id.strip(), safe='')}"
    data = connect(node, admin_token, admin_token_file).call("GET", path)
    print_json(data) if json_ else print_command(data)
