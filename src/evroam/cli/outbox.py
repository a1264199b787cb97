"""``evroam outbox list|show|retry|drop`` (a running node's operator API) and ``evroam
worker`` (a delivery process on this machine's configuration).

``list`` prints the queues per partner and module (depth by state, the oldest entry's
age, deliveries of the last minute), then the entries that need an operator: dead
letters with the partner's answer and held ones with the reason (``--state`` picks
other states). What a partner answered is its own text: printed as text, escaped
(:mod:`evroam.cli.common`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

import typer

from evroam.cli.common import Command, console, line, new_app, text
from evroam.cli.node_api import JsonOpt, NodeOpt, TokenFileOpt, TokenOpt, connect, partner_path
from evroam.cli.partner_views import fold_table, print_json

app = new_app("What partners are owed: the push outbox of a running node.")

F = TypeVar("F", bound=Callable[..., Any])

STATES = ("pending", "sending", "delivered", "dead", "held")


def command(name: str | None = None) -> Callable[[F], F]:
    return app.command(name, cls=Command)


EntryArg = Annotated[int, typer.Argument(metavar="ID", help="Outbox entry id (see 'list').")]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _answer(e: dict[str, Any]) -> str:
    parts = []
    if e.get("last_http_status") is not None:
        parts.append(f"HTTP {e['last_http_status']}")
    if e.get("last_ocpi_status") is not None:
        parts.append(f"OCPI {e['last_ocpi_status']}")
    head = ", ".join(parts)
    detail = e.get("held_reason") or e.get("last_error") or ""
    return f"{head}: {detail}" if head and detail else head or detail or "-"


def _target(e: dict[str, Any]) -> str:
    if e.get("url"):  # a URL the partner gave (a command's response_url)
        return f"{e.get('module', '')} {e['url']}"
    path = "/".join([e.get("module", ""), *e.get("path", [])])
    query = "&".join(f"{k}={v}" for k, v in (e.get("query") or {}).items())
    return f"{path}?{query}" if query else path


def print_overview(data: dict[str, Any]) -> None:
    out = console()
    queues = data.get("queues") or []
    if not queues:
        line(out, "the outbox is empty")
    else:
        table = fold_table(
            "partner", "module", "pending", "sending", "dead", "held", "oldest", "last min"
        )
        for q in queues:
            table.add_row(
                text(q.get("partner"), " (", q.get("partner_id"), ")"),
                text(q.get("module")),
                text(q.get("pending")),
                text(q.get("sending")),
                text(q.get("dead")),
                text(q.get("held")),
                text(_age(q.get("oldest_age_seconds"))),
                text(q.get("delivered_last_minute")),
            )
        out.print(table)
    line(
        out,
        f"{data.get('pending', 0)} to send, {data.get('dead', 0)} dead, "
        f"{data.get('held', 0)} held; {data.get('delivered_last_minute', 0)} delivered "
        "in the last minute",
    )


def print_entries(entries: list[dict[str, Any]]) -> None:
    if not entries:
        return
    table = fold_table("id", "partner", "method", "target", "state", "tries", "answer")
    for e in entries:
        table.add_row(
            text(e.get("id")),
            text(e.get("to_party"), " (", e.get("partner_id"), ")"),
            text(e.get("method")),
            text(_target(e)),
            text(e.get("state")),
            text(e.get("attempts")),
            text(_answer(e)),
        )
    console().print(table)


def print_entry(e: dict[str, Any]) -> None:
    out = console()
    line(out, f"outbox entry {e.get('id')}", style="bold")
    for label, value in (
        ("partner", f"{e.get('to_party')} (partner {e.get('partner_id')})"),
        ("from", e.get("from_party")),
        ("call", f"{e.get('method')} {_target(e)} (OCPI {e.get('version')})"),
        ("state", e.get("state")),
        ("attempts", e.get("attempts")),
        ("next attempt", e.get("next_attempt_at")),
        ("created", e.get("created_at")),
        ("delivered", e.get("delivered_at") or "-"),
        ("held because", e.get("held_reason") or "-"),
        ("last answer", _answer({**e, "held_reason": None})),
    ):
        line(out, f"{label + ':':14}", value)
    line(out, "body:")
    body = e.get("body")
    line(out, "-" if body is None else json.dumps(body, indent=2, ensure_ascii=True))


@command("list")
def list_(
    partner: Annotated[
        str | None, typer.Option("--partner", metavar="PARTNER", help="Partner id or CC-PID.")
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            metavar="STATE",
            help="Entries in this state (repeat): pending, sending, delivered, dead, held. "
            "Default: dead and held.",
        ),
    ] = None,
    module: Annotated[
        str | None, typer.Option("--module", metavar="MODULE", help="e.g. locations.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="Most entries shown.")] = 50,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Queues per partner and module; the dead and held entries."""
    states = [s.lower() for s in state or ["dead", "held"]]
    for s in states:
        if s not in STATES:
            raise typer.BadParameter(f"{s!r}: one of {', '.join(STATES)}", param_hint="--state")
    api = connect(node, admin_token, admin_token_file)
    params = [("state", s) for s in states] + [("limit", str(max(1, min(limit, 1000))))]
    if partner is not None:
        partner_path(partner)  # checked like every partner reference
        params.append(("partner", partner.strip()))
    if module is not None:
        params.append(("module", module.lower()))
    overview = api.call("GET", "/outbox")
    entries = api.call("GET", f"/outbox/entries?{urlencode(params)}")
    if json_:
        print_json({"overview": overview, "entries": entries})
        return
    print_overview(overview)
    print_entries(entries)


@command()
def show(
    entry_id: EntryArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One entry: its call, body, attempts and the partner's last answer."""
    data = connect(node, admin_token, admin_token_file).call("GET", f"/outbox/entries/{entry_id}")
    print_json(data) if json_ else print_entry(data)


@command()
def retry(
    entry_id: Annotated[
        int | None,
        typer.Argument(metavar="ID", help="Outbox entry id (see 'list'); or give --partner."),
    ] = None,
    partner: Annotated[
        str | None,
        typer.Option(
            "--partner", metavar="PARTNER", help="Every dead letter of this partner (id or CC-PID)."
        ),
    ] = None,
    module: Annotated[
        str | None,
        typer.Option("--module", metavar="MODULE", help="With --partner: only this module."),
    ] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Send a dead letter (or a partner's) again now; later ones follow."""
    if (entry_id is None) == (partner is None):
        raise typer.BadParameter("give an entry ID or --partner, not both", param_hint="ID")
    api = connect(node, admin_token, admin_token_file)
    if partner is not None:
        partner_path(partner)  # checked like every partner reference
        params = [("partner", partner.strip())] + ([("module", module.lower())] if module else [])
        data = api.call("POST", f"/outbox/retry?{urlencode(params)}")
        message = f"{data.get('retried', 0)} dead letters will be sent again now"
    else:
        data = api.call("POST", f"/outbox/entries/{entry_id}/retry")
        message = f"outbox entry {entry_id} will be sent again now"
    print_json(data) if json_ else line(console(), message)


@command()
def drop(
    entry_id: EntryArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
) -> None:
    """Give up an entry: the partner never gets it; later ones flow."""
    connect(node, admin_token, admin_token_file).call("DELETE", f"/outbox/entries/{entry_id}")
    line(console(), f"outbox entry {entry_id} dropped")


def worker(
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL", help="Database URL (default: SQLite ./evroam.db)."),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(metavar="LEVEL", help="debug, info, warning or error.")
    ] = None,
) -> None:
    """Deliver the push outbox of this database's nodes until stopped.

    Any number of workers (and nodes) may share one database; on PostgreSQL they never
    send an entry twice. Run nodes with EVROAM_PUSH__WORKER=false to leave all delivery
    to workers. Settings as for serve (EVROAM_PUSH__*, EVROAM_PARTNER_TIMEOUT...)."""
    import asyncio
    import contextlib
    import signal

    from evroam.cli.main import _configure_logging, _settings
    from evroam.push.runner import run_worker
    from evroam.storage.db import upgrade

    settings = _settings(database_url=db, log_level=log_level)
    _configure_logging(settings.log_level)
    if settings.auto_migrate:
        upgrade(settings.database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(main())
