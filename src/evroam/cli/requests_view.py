"""What ``evroam commands`` and ``evroam profiles`` share: printing a kept request (one,
or a table of them), following one with ``--wait`` until nothing more comes, and the
``list``/``show`` calls to the operator API.

Both modules' requests have one shape in the operator API (``web/admin/requests.py``);
only the words and the table's columns differ, so each names a :class:`RequestsView`.
What a partner wrote (its messages, ids) is printed as text, escaped
(:mod:`evroam.cli.common`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import typer
from rich.console import Console

from evroam.cli.common import console, line, text
from evroam.cli.node_api import Node
from evroam.cli.partner_views import fold_table, print_json

#: Sent states after which nothing more comes (``--wait`` stops there).
FINAL = frozenset(
    {"RESULT", "EXPIRED", "FAILED", "REJECTED", "NOT_SUPPORTED", "UNKNOWN_SESSION", "TOO_OFTEN"}
)

Item = dict[str, Any]
#: A list column: its heading and what it shows of an item.
Column = tuple[str, Callable[[Item], Any]]


def value(v: Any) -> str:
    return "-" if v is None or v == "" else str(v)


def _sent(r: Item) -> bool:
    return r.get("direction") == "sent"


def _emsp(r: Item) -> Any:
    return r.get("sender") if _sent(r) else r.get("requester")


#: Columns both lists have, in their order (a kind inserts its own after ``type``).
COLUMNS_HEAD: tuple[Column, ...] = (
    ("id", lambda r: r.get("id")),
    ("dir", lambda r: "sent" if _sent(r) else "received"),
    ("type", lambda r: r.get("type")),
)
PARTIES: tuple[Column, ...] = (("CPO", lambda r: r.get("party")), ("eMSP", _emsp))
STATE: Column = ("state", lambda r: r.get("state"))
ANSWER: Column = ("answer", lambda r: value(r.get("response") if _sent(r) else "-"))
COLUMNS_TAIL: tuple[Column, ...] = (
    ("result", lambda r: value(r.get("result"))),
    ("created", lambda r: r.get("created_at")),
)


@dataclass(frozen=True, slots=True)
class RequestsView:
    """One kind's words and paths: ``noun`` heads a shown request, ``none`` is printed for
    an empty list; ``base`` is its operator API (list), ``one`` the path of one request
    by id; ``columns`` the list's; ``session_first``: show the session before the
    parties (a profile request is about a session)."""

    noun: str
    none: str
    base: str
    one: str
    columns: tuple[Column, ...]
    session_first: bool = False

    def path(self, request_id: str) -> str:
        return f"{self.one}/{quote(request_id.strip(), safe='')}"


def print_document(out: Console, label: str, doc: Any) -> None:
    line(out, f"{label}:")
    for row in json.dumps(doc, indent=2, ensure_ascii=True).splitlines():
        line(out, row)


def print_request(view: RequestsView, r: Item) -> None:
    out = console()
    sent = _sent(r)
    line(out, f"{view.noun} {value(r.get('id'))}", style="bold")
    session = ("session", r.get("session_id"))
    parties = [("CPO", r.get("party")), ("eMSP", _emsp(r))]
    rows: list[tuple[str, Any]] = [
        ("type", r.get("type")),
        ("direction", "sent by this node" if sent else "received from a partner"),
        ("state", r.get("state")),
        *([session, *parties] if view.session_first else [*parties, session]),
    ]
    if sent:
        answer = r.get("response")
        if answer == "ACCEPTED" and r.get("timeout") is not None:
            answer = f"{answer} (result within {r.get('timeout')} s)"
        rows += [
            ("answer", answer),
            ("answer says", r.get("response_message")),
            ("error", r.get("error")),
        ]
    rows += [("result", r.get("result")), ("result says", r.get("result_message"))]
    if not sent:
        rows.append(("late result", r.get("late_result")))
    rows += [
        ("created", r.get("created_at")),
        ("answered", r.get("responded_at")),
        ("result at", r.get("result_at")),
        ("times out", r.get("timeout_at")),
        ("expires", r.get("expires_at")),
    ]
    for label, shown in rows:
        if shown is not None or label in ("state", "result"):
            line(out, f"{label + ':':13}", value(shown))
    for key, label in (("request", "request"), ("result_document", "result document")):
        if r.get(key) is not None:
            print_document(out, label, r[key])


def print_requests(view: RequestsView, items: list[Item]) -> None:
    out = console()
    if not items:
        line(out, view.none)
        return
    table = fold_table(*(heading for heading, _ in view.columns))
    for r in items:
        table.add_row(*(text(shows(r)) for _, shows in view.columns))
    out.print(table)


def follow(view: RequestsView, api: Node, data: Any, wait: float, as_json: bool) -> None:
    """Print the request the node answered, after following it for up to ``wait``
    seconds until it reaches a state after which nothing more comes."""
    deadline = time.monotonic() + max(wait, 0.0)
    while (
        wait > 0
        and isinstance(data, dict)
        and data.get("state") not in FINAL
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
        data = api.call("GET", view.path(str(data.get("id"))))
    print_json(data) if as_json else print_request(view, data)
    if refused(data):
        raise typer.Exit(1)


def refused(data: Any) -> bool:
    """Whether the request came to nothing: the CPO did not take it, it failed or
    expired, or its result is not ACCEPTED (a script's exit status; still pending is
    not a refusal)."""
    if not isinstance(data, dict):
        return False
    state = data.get("state")
    if state == "RESULT":
        return data.get("result") != "ACCEPTED"
    return state in FINAL


def list_requests(
    view: RequestsView,
    api: Node,
    direction: str | None,
    states: Sequence[str] | None,
    limit: int,
    as_json: bool,
    extra: Sequence[tuple[str, str]] = (),
) -> None:
    """``list``: newest first, at most ``limit`` (1-1000); ``extra``: the kind's filters."""
    if direction is not None and direction.lower() not in ("sent", "received"):
        raise typer.BadParameter("sent or received", param_hint="--direction")
    params: list[tuple[str, str]] = [("limit", str(max(1, min(limit, 1000))))]
    if direction is not None:
        params.append(("direction", direction.lower()))
    params += extra
    params += [("state", s.upper()) for s in states or []]
    data = api.call("GET", f"{view.base}?{urlencode(params)}")
    print_json(data) if as_json else print_requests(view, data)


def show_request(view: RequestsView, api: Node, request_id: str, as_json: bool) -> None:
    data = api.call("GET", view.path(request_id))
    print_json(data) if as_json else print_request(view, data)
