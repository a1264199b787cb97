"""``evroam oicp sessions list|show`` and ``evroam oicp cdrs list``: what the hub
keeps about charging processes, through its operator API (``web/oicp/sessions.py``).

For an operator answering a partner's question about a session: who authorized it and
how, its partners' session IDs, its CDR and the notifications kept for an offline EMP.
Identifications arrive masked from the hub; everything else was written by partners
and is printed as text, control characters escaped (``cli/common.py``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import typer

from evroam.cli.common import Command, console, fail, line, new_app, text
from evroam.cli.node_api import JsonOpt, TokenFileOpt, TokenOpt
from evroam.cli.oicp.partners import HubOpt, hub_node
from evroam.cli.partner_views import fold_table, print_json
from evroam.oicp.v2_3 import ids

sessions_app = new_app("Sessions the hub keeps (its operator API).")
cdrs_app = new_app("Charge detail records the hub keeps (its operator API).")

OperatorOpt = Annotated[
    str | None, typer.Option("--operator", metavar="ID", help="Only this CPO's (OperatorID).")
]
ProviderOpt = Annotated[
    str | None, typer.Option("--provider", metavar="ID", help="Only this EMP's (ProviderID).")
]
SinceOpt = Annotated[
    datetime | None,
    typer.Option(
        "--since",
        metavar="WHEN",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
        help="Only from this time on (ISO 8601; without an offset: UTC).",
    ),
]
LimitOpt = Annotated[
    int, typer.Option("--limit", metavar="N", min=1, max=1000, help="At most N, newest first.")
]


def _query(**params: Any) -> str:
    given = {k: v for k, v in params.items() if v is not None}
    return "?" + urlencode(given) if given else ""


def _since(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def identification_text(shown: Any) -> str:
    """A masked identification in one short line: ``RFID …C4D5``, ``QR …XY-3``."""
    if not isinstance(shown, dict):
        return "-"
    kind = str(shown.get("type") or "?").removesuffix("Identification")
    values = [str(shown[k]) for k in ("UID", "EvcoID", "PrintedNumber") if shown.get(k)]
    return " ".join([kind, *values])


def _show_session(s: dict[str, Any]) -> None:
    out = console()
    line(out, "session ", s.get("session_id"), style="bold")
    line(out, "  state:              ", s.get("state"), " (", s.get("method"), ")")
    line(out, "  operator:           ", s.get("operator_id"))
    line(out, "  provider:           ", s.get("provider_id") or "-")
    line(out, "  EVSE:               ", s.get("evse_id") or "-")
    line(out, "  identification:     ", identification_text(s.get("identification")))
    line(out, "  CPO session ID:     ", s.get("cpo_partner_session_id") or "-")
    line(out, "  EMP session ID:     ", s.get("emp_partner_session_id") or "-")
    line(
        out,
        "  session start/end:  ",
        s.get("session_start") or "-",
        " / ",
        s.get("session_end") or "-",
    )
    line(out, "  made / changed:     ", s.get("created_at"), " / ", s.get("updated_at"))
    cdr = s.get("cdr")
    if isinstance(cdr, dict):
        record = cdr.get("record")
        if not isinstance(record, dict):
            record = {}
        line(
            out,
            "  CDR:                received ",
            cdr.get("received_at"),
            ", forwarded" if cdr.get("forwarded") else ", not forwarded",
            ", ",
            record.get("ConsumedEnergy", "?"),
            " kWh",
        )
    else:
        line(out, "  CDR:                -")
    notifications = s.get("notifications") or []
    if notifications:
        line(out, "  kept notifications:")
        for n in notifications:
            body = n.get("body")
            line(out, "    ", n.get("received_at"), "  ", n.get("kind"), "  ", json.dumps(body))


def list_sessions(
    operator: OperatorOpt = None,
    provider: ProviderOpt = None,
    evse: Annotated[
        str | None, typer.Option("--evse", metavar="EVSE_ID", help="Only at this EVSE.")
    ] = None,
    since: SinceOpt = None,
    limit: LimitOpt = 100,
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The hub's sessions, newest first."""
    query = _query(
        operator=operator, provider=provider, evse=evse, since=_since(since), limit=limit
    )
    data = hub_node(node, admin_token, admin_token_file).call("GET", "/oicp/sessions" + query)
    if json_:
        print_json(data)
        return
    table = fold_table("session", "state", "operator", "provider", "EVSE", "identification", "made")
    for s in data:
        table.add_row(
            text(s.get("session_id")),
            text(s.get("state"), " (", s.get("method"), ")"),
            text(s.get("operator_id")),
            text(s.get("provider_id") or "-"),
            text(s.get("evse_id") or "-"),
            text(identification_text(s.get("identification"))),
            text(s.get("created_at")),
        )
    out = console()
    out.print(table)
    line(out, f"{len(data)} sessions")


def show_session(
    session_id: Annotated[str, typer.Argument(metavar="ID", help="The hub's SessionID.")],
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One session with its CDR and the notifications kept for it."""
    session_id = session_id.strip()
    if not ids.is_session_id(session_id):
        raise fail(f"{session_id!r} is not a SessionID (a GUID)", 2)
    path = f"/oicp/sessions/{quote(session_id, safe='')}"
    data = hub_node(node, admin_token, admin_token_file).call("GET", path)
    print_json(data) if json_ else _show_session(data)


def list_cdrs(
    provider: ProviderOpt = None,
    operator: OperatorOpt = None,
    forwarded: Annotated[
        bool | None,
        typer.Option(
            "--forwarded/--not-forwarded",
            help="Only those forwarded to an online EMP, or only those kept for fetching.",
        ),
    ] = None,
    since: SinceOpt = None,
    limit: LimitOpt = 100,
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The hub's charge detail records, newest first."""
    query = _query(
        provider=provider,
        operator=operator,
        forwarded=None if forwarded is None else str(forwarded).lower(),
        since=_since(since),
        limit=limit,
    )
    data = hub_node(node, admin_token, admin_token_file).call("GET", "/oicp/cdrs" + query)
    if json_:
        print_json(data)
        return
    table = fold_table(
        "session", "operator", "provider", "EVSE", "identification", "kWh", "received", "forwarded"
    )
    for c in data:
        record = c.get("record")
        if not isinstance(record, dict):
            record = {}
        table.add_row(
            text(c.get("session_id")),
            text(c.get("operator_id") or c.get("operator")),
            text(c.get("provider_id") or c.get("provider") or "-"),
            text(c.get("evse_id")),
            text(identification_text(c.get("identification"))),
            text(record.get("ConsumedEnergy", "?")),
            text(c.get("received_at")),
            text("yes" if c.get("forwarded") else "no"),
        )
    out = console()
    out.print(table)
    line(out, f"{len(data)} CDRs")


def register(parent: typer.Typer) -> None:
    sessions_app.command("list", cls=Command)(list_sessions)
    sessions_app.command("show", cls=Command)(show_session)
    cdrs_app.command("list", cls=Command)(list_cdrs)
    parent.add_typer(sessions_app, name="sessions")
    parent.add_typer(cdrs_app, name="cdrs")
