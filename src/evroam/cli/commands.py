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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from evroam.cli import requests_view as view
from evroam.cli.common import Command, fail, new_app
from evroam.cli.node_api import JsonOpt, Node, NodeOpt, TokenFileOpt, TokenOpt, connect

app = new_app("OCPI Commands: start, stop, reserve, cancel, unlock; what was sent and received.")

F = TypeVar("F", bound=Callable[..., Any])

VIEW = view.RequestsView(
    noun="command",
    none="no commands",
    base="/commands",
    one="/commands",
    columns=(*view.COLUMNS_HEAD, *view.PARTIES, view.STATE, view.ANSWER, *view.COLUMNS_TAIL),
)


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
    view.follow(VIEW, api, data, wait, as_json)


def print_command(c: dict[str, Any]) -> None:
    view.print_request(VIEW, c)


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
    api = connect(node, admin_token, admin_token_file)
    view.list_requests(VIEW, api, direction, state, limit, json_)


@command()
def show(
    command_id: Annotated[str, typer.Argument(metavar="ID", help="Command id (see 'list').")],
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One command: its answer, result and documents."""
    view.show_request(VIEW, connect(node, admin_token, admin_token_file), command_id, json_)
