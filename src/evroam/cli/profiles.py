"""``evroam profiles set|get|clear|active|list|show``: OCPI ChargingProfiles through a
running node's operator API (``/api/v1/chargingprofiles``).

An eMSP (or SCSP) node sends the request for a session to the CPO holding it (``--party``,
else the CPO whose session the node holds under that id); the node keeps it with the
CPO's answer and, later, the result the CPO POSTs back (``show``, or ``--wait`` to follow
it there). ``set`` takes a whole ChargingProfile (``--profile-file``) or a constant limit
(``--limit`` in ``--unit`` W or A). ``active`` shows the latest ActiveChargingProfile the
CPO pushed. ``list`` shows both directions: what this node sent, and, on a CPO node, what
partners asked it.

What a partner wrote (its messages, ids) is printed as text, escaped
(:mod:`evroam.cli.common`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import typer

from evroam.cli import requests_view as view
from evroam.cli.common import Command, console, fail, line, new_app
from evroam.cli.node_api import JsonOpt, NodeOpt, TokenFileOpt, TokenOpt, connect
from evroam.cli.partner_views import print_json

app = new_app("OCPI ChargingProfiles: set, read and clear a session's profile; the requests.")

VIEW = view.RequestsView(
    noun="charging profile request",
    none="no charging profile requests",
    base="/chargingprofiles",
    one="/chargingprofiles/requests",
    columns=(
        *view.COLUMNS_HEAD,
        ("session", lambda r: r.get("session_id")),
        *view.PARTIES,
        view.STATE,
        *view.COLUMNS_TAIL,
    ),
    session_first=True,
)

SessionOpt = Annotated[
    str, typer.Option("--session", metavar="ID", help="The session id at the CPO.")
]
PartyOpt = Annotated[
    str | None,
    typer.Option(
        "--party", metavar="CC-PID", help="The CPO party (default: the one holding the session)."
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", metavar="SECONDS", help="Follow the request until its result (or give up)."
    ),
]


def _path(session: str, query: list[tuple[str, str]], suffix: str = "") -> str:
    path = f"/chargingprofiles/{quote(session.strip(), safe='')}{suffix}"
    return f"{path}?{urlencode(query)}" if query else path


def print_request(r: dict[str, Any]) -> None:
    view.print_request(VIEW, r)


def _profile(file: Path | None, limit: float | None, unit: str) -> dict[str, Any]:
    if (file is None) == (limit is None):
        raise typer.BadParameter("give --profile-file or --limit", param_hint="--limit")
    if file is not None:
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise fail(f"cannot read a ChargingProfile from {file}: {exc}", 2) from None
        if not isinstance(doc, dict):
            raise fail(f"{file}: a ChargingProfile is a JSON object", 2)
        return doc
    assert limit is not None
    if unit.upper() not in ("W", "A"):
        raise typer.BadParameter("W or A", param_hint="--unit")
    return {
        "charging_rate_unit": unit.upper(),
        "charging_profile_period": [{"start_period": 0, "limit": limit}],
    }


@app.command("set", cls=Command)
def set_(
    session: SessionOpt,
    party: PartyOpt = None,
    profile_file: Annotated[
        Path | None,
        typer.Option("--profile-file", metavar="FILE", help="A whole OCPI ChargingProfile (JSON)."),
    ] = None,
    limit: Annotated[
        float | None,
        typer.Option("--limit", metavar="N", help="Or: one constant limit from now on."),
    ] = None,
    unit: Annotated[
        str, typer.Option("--unit", metavar="W|A", help="Unit of --limit (default W).")
    ] = "W",
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Set a charging profile on a session (PUT SetChargingProfile)."""
    body: dict[str, Any] = {"charging_profile": _profile(profile_file, limit, unit)}
    if party is not None:
        body["party"] = party.strip()
    api = connect(node, admin_token, admin_token_file)
    view.follow(VIEW, api, api.call("POST", _path(session, []), body), wait, json_)


@app.command("get", cls=Command)
def get(
    session: SessionOpt,
    duration: Annotated[
        int,
        typer.Option("--duration", metavar="SECONDS", help="Schedule length asked (default 900)."),
    ] = 900,
    party: PartyOpt = None,
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Ask the CPO for the active charging profile of a session (GET)."""
    if duration < 1:
        raise typer.BadParameter("at least 1", param_hint="--duration")
    query = [("duration", str(duration))] + ([("party", party.strip())] if party else [])
    api = connect(node, admin_token, admin_token_file)
    view.follow(VIEW, api, api.call("GET", _path(session, query)), wait, json_)


@app.command("clear", cls=Command)
def clear(
    session: SessionOpt,
    party: PartyOpt = None,
    wait: WaitOpt = 0.0,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Clear the charging profile of a session (DELETE)."""
    query = [("party", party.strip())] if party else []
    api = connect(node, admin_token, admin_token_file)
    view.follow(VIEW, api, api.call("DELETE", _path(session, query)), wait, json_)


@app.command("active", cls=Command)
def active(
    session: SessionOpt,
    party: PartyOpt = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The latest active charging profile the CPO pushed for a session."""
    query = [("party", party.strip())] if party else []
    data = connect(node, admin_token, admin_token_file).call(
        "GET", _path(session, query, "/active")
    )
    if json_:
        print_json(data)
        return
    out = console()
    line(out, f"session {view.value(data.get('session_id'))}", style="bold")
    line(out, f"{'CPO:':13}", view.value(data.get("party")))
    line(out, f"{'received:':13}", view.value(data.get("received_at")))
    view.print_document(out, "active profile", data.get("active_profile"))


@app.command("list", cls=Command)
def list_(
    direction: Annotated[
        str | None,
        typer.Option("--direction", metavar="DIR", help="sent or received (default: both)."),
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", metavar="STATE", help="Only this state (repeat)."),
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", metavar="ID", help="Only this session's.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="Most shown.")] = 50,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Charging profile requests sent and received, newest first."""
    extra = [("session", session.strip())] if session is not None else []
    api = connect(node, admin_token, admin_token_file)
    view.list_requests(VIEW, api, direction, state, limit, json_, extra)


@app.command("show", cls=Command)
def show(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="Request id (see 'list').")],
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One charging profile request: its answer, result and documents."""
    view.show_request(VIEW, connect(node, admin_token, admin_token_file), request_id, json_)
