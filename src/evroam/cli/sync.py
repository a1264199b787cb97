"""``evroam sync PARTNER [MODULE...] [--since DATETIME]``: pull a partner's Sender lists
into a running node and store them as if the partner had pushed them (issue 8).

The node does the work (``POST /api/v1/partners/{ref}/sync`` starts a background job,
``web/admin/sync.py`` says why); this command starts it and polls the job, drawing one
progress bar per module from the counts the node reports (the partner's
``X-Total-Count`` is the bar's end when it sent one), then prints the summary. Reasons
of refused objects quote the partner (ids, field names): printed as text, escaped.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from evroam.cli.common import console, fail, line, text
from evroam.cli.node_api import (
    JsonOpt,
    Node,
    NodeOpt,
    TokenFileOpt,
    TokenOpt,
    connect,
    partner_path,
)
from evroam.cli.partner_views import fold_table, print_json

MODULES = ("tariffs", "locations", "sessions", "cdrs", "tokens")
#: Seconds between two looks at the job: first often (small syncs end at once), then less.
POLL_FIRST, POLL_MAX = 0.2, 1.0


def parse_since(raw: str) -> datetime:
    """``--since``: an ISO 8601 date-time (``2026-11-20T10:00:00Z``, ``2026-11-20 10:00``)
    or a date (its midnight); without a time zone, UTC."""
    value = raw.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise fail(
            f"--since {raw!r} is not a date-time: give e.g. 2026-11-20T10:00:00Z or 2026-11-20",
            2,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_modules(modules: list[str]) -> list[str]:
    out = []
    for name in modules:
        if name.lower() not in MODULES:
            raise fail(f"{name!r} is not a module to sync: one of {', '.join(MODULES)}", 2)
        out.append(name.lower())
    return out


def follow(api: Node, path: str, job: dict[str, Any], progress: Progress | None) -> dict[str, Any]:
    """Poll the job until it ends, moving the bars; the finished job."""
    tasks: dict[str, TaskID] = {}
    pause = POLL_FIRST
    while True:
        if progress is not None:
            for m in job.get("modules") or []:
                name = str(m.get("module"))
                if name not in tasks:
                    tasks[name] = progress.add_task(name, total=None)
                received = int(m.get("received") or 0)
                total = m.get("total")
                if m.get("done"):
                    end: int | None = received
                else:
                    end = max(total, received) if isinstance(total, int) else None
                progress.update(tasks[name], completed=received, total=end)
        if job.get("state") != "running":
            return job
        time.sleep(pause)
        pause = min(pause * 1.5, POLL_MAX)
        job = api.call("GET", f"{path}/{job['id']}")


def print_summary(job: dict[str, Any]) -> None:
    out = console()
    line(out, f"sync from {job.get('partner')}: {job.get('state')}", style="bold")
    table = fold_table("module", "pages", "received", "stored", "unchanged", "refused", "error")
    for m in job.get("modules") or []:
        table.add_row(
            text(m.get("module")),
            text(m.get("pages")),
            text(m.get("received")),
            text(m.get("stored")),
            text(m.get("unchanged")),
            text(m.get("refused")),
            text(m.get("error") or ""),
        )
    out.print(table)
    for m in job.get("modules") or []:
        reasons = m.get("reasons") or []
        for reason in reasons:
            line(out, f"  refused {m.get('module')}: {reason}")
        more = int(m.get("refused") or 0) - len(reasons)
        if more > 0:
            line(out, f"  ... and {more} more {m.get('module')} refused (see the node's log)")
    if job.get("failure"):
        line(out, f"failed: {job['failure']}")


def sync(
    ref: Annotated[
        str, typer.Argument(metavar="PARTNER", help="partner id or CC-PID (e.g. 3 or NL-ABC)")
    ],
    modules: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="MODULE...",
            help="Modules to pull: " + ", ".join(MODULES) + " (default: every module the "
            "partner's roles send to ours that it offers).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATETIME",
            help="Only objects changed at or after this time (e.g. 2026-11-20T10:00:00Z; "
            "UTC unless a zone is given).",
        ),
    ] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Pull a partner's Sender lists to catch up on missed changes.

    Every page (following Link to the end) is stored exactly as if the partner had
    pushed it: objects of a party the partner does not hold, objects older than ours
    and invalid ones change nothing and are counted. Exit status 1 when a module
    could not be pulled to the end."""
    body: dict[str, Any] = {"modules": check_modules(modules or [])}
    if since is not None:
        body["since"] = parse_since(since).isoformat()
    api = connect(node, admin_token, admin_token_file)
    path = partner_path(ref, "sync")
    job = api.call("POST", path, body)
    if json_:
        job = follow(api, path, job, None)
        print_json(job)
    else:
        with Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            console=console(stderr=True),
            transient=True,
        ) as progress:
            job = follow(api, path, job, progress)
        print_summary(job)
    if job.get("state") != "done":
        raise typer.Exit(1)
