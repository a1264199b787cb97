"""How the ``partners`` commands print what a node answers: tables that fold instead of
cutting, URLs whole on their own lines, and every partner-written value as harmless text
(:mod:`evroam.cli.common`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer
from rich.table import Table

from evroam.cli.common import console, line, text


def print_json(data: Any) -> None:
    """JSON for scripts; non-ASCII and control characters stay escaped (``\\u001b``)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=True))


def label(p: dict[str, Any]) -> str:
    """The partner's parties, ``NL-ABC, NL-DEF``, or a note that it has none yet."""
    parties = sorted({f"{r['country_code']}-{r['party_id']}" for r in p.get("roles") or []})
    return ", ".join(parties) or "no party yet"


def name_of(p: dict[str, Any]) -> str:
    return f"partner {p.get('id')} ({label(p)})"


# Below this width a table gives no column its full width: one unfolded column could leave
# the others none (Rich then drops their text).
_UNFOLDED_TIMESTAMPS_FROM = 70


def fold_table(*columns: str, timestamps: Sequence[str] = ()) -> Table:
    """A table whose cells fold onto further lines rather than end in an ellipsis; the
    ``timestamps`` columns stay on one line when the console is wide enough. (Rich's
    ``min_width`` is not used: with folding it crops other columns' text.)"""
    wide = console().width >= _UNFOLDED_TIMESTAMPS_FROM
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=wide and column in timestamps)
    return table


def list_table(partners: Sequence[dict[str, Any]]) -> None:
    table = fold_table(
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
    line(out, name_of(p), style="bold")
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


def print_invitation(data: dict[str, Any], as_json: bool) -> None:
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


def status_line(p: dict[str, Any]) -> None:
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
