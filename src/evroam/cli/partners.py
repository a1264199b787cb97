"""``evroam partners ...``: a client of a running node's operator API."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Roaming partners of a running node.", no_args_is_help=True)

NodeOpt = Annotated[
    str | None,
    typer.Option(
        "--node", envvar="EVROAM_NODE", help="Node base URL (default http://127.0.0.1:8080)"
    ),
]
TokenOpt = Annotated[
    str | None, typer.Option("--admin-token", envvar="EVROAM_ADMIN_TOKEN", help="Admin token")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]


def _call(node: str | None, token: str | None, method: str, path: str, body: Any = None) -> Any:
    base = (node or os.environ.get("EVROAM_NODE") or "http://127.0.0.1:8080").rstrip("/")
    if not token:
        typer.echo("error: no admin token (--admin-token or EVROAM_ADMIN_TOKEN)", err=True)
        raise typer.Exit(2)
    try:
        resp = httpx.request(
            method,
            f"{base}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120.0,
        )
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach node at {base}: {exc}", err=True)
        raise typer.Exit(1) from None
    try:
        data = resp.json()
    except ValueError:
        data = {"detail": resp.text}
    if resp.status_code >= 400:
        detail = data.get("detail") if isinstance(data, dict) else data
        typer.echo(f"error ({resp.status_code}): {detail}", err=True)
        raise typer.Exit(1)
    return data


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def _table(partners: list[dict[str, Any]]) -> None:
    table = Table("id", "party", "roles", "version", "status", "last connection", "note")
    for p in partners:
        parties = sorted({f"{r['country_code']}-{r['party_id']}" for r in p["roles"]})
        table.add_row(
            str(p["id"]),
            ", ".join(parties) or "-",
            ", ".join(sorted({r["role"] for r in p["roles"]})) or "-",
            p.get("version") or "-",
            p["status"],
            p.get("last_connection") or "-",
            p.get("note") or "",
        )
    Console().print(table)


def _show(p: dict[str, Any]) -> None:
    console = Console()
    console.print(
        f"[bold]partner {p['id']}[/bold]  status {p['status']}  version {p.get('version') or '-'}"
    )
    for key in ("versions_url", "registered_at", "last_connection", "status_changed_at", "note"):
        console.print(f"  {key}: {p.get(key) or '-'}")
    for r in p["roles"]:
        console.print(f"  role {r['role']} {r['country_code']}-{r['party_id']} ({r['name']})")
    for e in p.get("endpoints", []):
        console.print(f"  endpoint {e['identifier']} {e.get('role') or ''} {e['url']}")


def _invitation(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(
            {
                "versions_url": data["versions_url"],
                "token": data["token"],
                "partner_id": data["partner"]["id"],
            }
        )
        return
    console = Console()
    console.print(f"partner id:   {data['partner']['id']}")
    console.print(f"versions URL: {data['versions_url']}")
    console.print(f"token A:      {data['token']}")
    console.print("Hand both to the partner over a secure channel; the token is not shown again.")


@app.command("list")
def list_(node: NodeOpt = None, admin_token: TokenOpt = None, json_: JsonOpt = False) -> None:
    """Every partner with its status."""
    data = _call(node, admin_token, "GET", "/partners")
    _print_json(data) if json_ else _table(data)


@app.command()
def show(
    ref: str, node: NodeOpt = None, admin_token: TokenOpt = None, json_: JsonOpt = False
) -> None:
    """One partner, by id or CC-PID."""
    data = _call(node, admin_token, "GET", f"/partners/{ref}")
    _print_json(data) if json_ else _show(data)


@app.command()
def invite(
    note: Annotated[str | None, typer.Option(help="Operator note")] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Issue a token A for a new partner."""
    data = _call(node, admin_token, "POST", "/partners/invite", {"note": note})
    _invitation(data, json_)


@app.command()
def register(
    versions_url: Annotated[str, typer.Option("--versions-url", help="The partner's versions URL")],
    token: Annotated[str, typer.Option("--token", help="Token A the partner gave us")],
    note: Annotated[str | None, typer.Option(help="Operator note")] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Register with a partner (credentials handshake, we initiate)."""
    data = _call(
        node,
        admin_token,
        "POST",
        "/partners/register",
        {"versions_url": versions_url, "token": token, "note": note},
    )
    _print_json(data) if json_ else _show(data)


@app.command()
def update(
    ref: str,
    note: Annotated[str | None, typer.Option(help="Set the operator note")] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Re-discover the partner's versions and PUT fresh credentials."""
    body = {"note": note} if note is not None else None
    data = _call(node, admin_token, "POST", f"/partners/{ref}/update", body)
    _print_json(data) if json_ else _show(data)


@app.command("rotate-token")
def rotate_token(
    ref: str, node: NodeOpt = None, admin_token: TokenOpt = None, json_: JsonOpt = False
) -> None:
    """Give the partner a new token (credentials PUT)."""
    data = _call(node, admin_token, "POST", f"/partners/{ref}/rotate-token")
    _print_json(data) if json_ else _show(data)


@app.command()
def reset(
    ref: str, node: NodeOpt = None, admin_token: TokenOpt = None, json_: JsonOpt = False
) -> None:
    """After a breach: revoke every token of the partner and issue a new token A."""
    data = _call(node, admin_token, "POST", f"/partners/{ref}/reset")
    _invitation(data, json_)


@app.command()
def unregister(
    ref: str, node: NodeOpt = None, admin_token: TokenOpt = None, json_: JsonOpt = False
) -> None:
    """Unregister from the partner (credentials DELETE) and revoke its tokens."""
    data = _call(node, admin_token, "POST", f"/partners/{ref}/unregister")
    if json_:
        _print_json(data)
        return
    _show(data["partner"])
    if not data["remote_ok"]:
        typer.echo(f"warning: the partner did not confirm: {data['remote_error']}", err=True)
