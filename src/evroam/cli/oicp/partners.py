"""``evroam oicp partners ...``: the hub's OICP partners, through its operator API.

The commands talk to the hub's admin listener (``--node``, default
http://127.0.0.1:8091, or ``EVROAM_OICP_NODE``) with the admin token from a flag, a
file or the environment, as ``evroam partners`` does (``cli/node_api.py``). Partner
names and endpoints were typed by someone else: they are printed as text, control
characters escaped (``cli/common.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from evroam.cli.common import Command, console, fail, line, new_app, text
from evroam.cli.node_api import JsonOpt, Node, TokenFileOpt, TokenOpt, connect
from evroam.cli.partner_views import fold_table, print_json
from evroam.oicp.v2_3 import ids

DEFAULT_HUB_ADMIN = "http://127.0.0.1:8091"

app = new_app("OICP partners of a running hub (its operator API).")

HubOpt = Annotated[
    str | None,
    typer.Option(
        "--node",
        envvar="EVROAM_OICP_NODE",
        metavar="URL",
        help=f"The hub's operator API (default {DEFAULT_HUB_ADMIN}).",
    ),
]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="The partner's OperatorID or ProviderID.")]
AllowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-ip",
        metavar="ADDR_OR_CIDR",
        help="An address or CIDR block the partner may call from (repeat); none: any.",
    ),
]


def hub_node(node: str | None, token: str | None, token_file: Path | None) -> Node:
    return connect(node or DEFAULT_HUB_ADMIN, token, token_file)


def _path(partner_id: str) -> str:
    """The API path of a partner; the ID is checked first, so nothing typed can point
    the request at another endpoint."""
    partner_id = partner_id.strip()
    if not (ids.is_operator_id(partner_id) or ids.is_provider_id(partner_id)):
        raise fail(f"{partner_id!r} is not an OperatorID or ProviderID (e.g. DE*ABC)", 2)
    return f"/oicp/partners/{quote(partner_id, safe='')}"


def _show(p: dict[str, Any]) -> None:
    out = console()
    line(out, "partner ", p.get("partner_id"), style="bold")
    line(out, "  roles:            ", ", ".join(p.get("roles") or []))
    line(out, "  canonical ID:     ", p.get("canonical_id"))
    line(out, "  certificate:      ", p.get("cert_identity"))
    networks = p.get("allowed_networks") or []
    line(out, "  allowed networks: ", ", ".join(networks) if networks else "any address")
    line(out, "  endpoint:         ", p.get("endpoint") or "-")
    line(out, "  name:             ", p.get("name") or "-")
    line(out, "  added:            ", p.get("created_at") or "-")
    line(out, "  changed:          ", p.get("updated_at") or "-")


def add(
    partner_id: IdArg,
    role: Annotated[
        list[str],
        typer.Option("--role", metavar="CPO|EMP", help="CPO, EMP, or both (repeat)."),
    ],
    cert_identity: Annotated[
        str | None,
        typer.Option(
            metavar="IDENTITY", help="Identity its client certificate carries (default: the ID)."
        ),
    ] = None,
    allow_ip: AllowOpt = None,
    endpoint: Annotated[
        str | None, typer.Option(metavar="URL", help="Base URL the hub calls it at.")
    ] = None,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="A name to show.")] = None,
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a CPO and/or EMP partner."""
    roles = sorted({r.strip().upper() for r in role})
    bad = [r for r in roles if r not in ("CPO", "EMP")]
    if bad:
        raise fail(f"--role: {', '.join(bad)} is not CPO or EMP", 2)
    body = {
        "partner_id": partner_id.strip(),
        "roles": roles,
        "cert_identity": cert_identity,
        "allowed_networks": allow_ip or [],
        "endpoint": endpoint,
        "name": name,
    }
    data = hub_node(node, admin_token, admin_token_file).call("POST", "/oicp/partners", body)
    if json_:
        print_json(data)
    else:
        _show(data)


def list_(
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Every partner of the hub."""
    data = hub_node(node, admin_token, admin_token_file).call("GET", "/oicp/partners")
    if json_:
        print_json(data)
        return
    table = fold_table("ID", "roles", "certificate", "allowed networks", "name")
    for p in data:
        table.add_row(
            text(p.get("partner_id")),
            text(", ".join(p.get("roles") or [])),
            text(p.get("cert_identity")),
            text(", ".join(p.get("allowed_networks") or []) or "any"),
            text(p.get("name") or ""),
        )
    console().print(table)


def show(
    partner_id: IdArg,
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One partner with its access rules."""
    path = _path(partner_id)
    data = hub_node(node, admin_token, admin_token_file).call("GET", path)
    print_json(data) if json_ else _show(data)


def update(
    partner_id: IdArg,
    allow_ip: AllowOpt = None,
    any_ip: Annotated[
        bool, typer.Option("--any-ip", help="Clear the allowlist: any address.")
    ] = False,
    cert_identity: Annotated[
        str | None, typer.Option(metavar="IDENTITY", help="New certificate identity.")
    ] = None,
    endpoint: Annotated[str | None, typer.Option(metavar="URL", help="New endpoint.")] = None,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="New name.")] = None,
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a partner's allowlist, identity, endpoint or name.

    The allowlist is replaced by the --allow-ip given (--any-ip clears it)."""
    if allow_ip and any_ip:
        raise fail("give --allow-ip or --any-ip, not both", 2)
    body: dict[str, Any] = {}
    if allow_ip or any_ip:
        body["allowed_networks"] = allow_ip or []
    for key, value in (("cert_identity", cert_identity), ("endpoint", endpoint), ("name", name)):
        if value is not None:
            body[key] = value
    if not body:
        raise fail(
            "nothing to change: give --allow-ip, --any-ip, --cert-identity, --endpoint or --name", 2
        )
    path = _path(partner_id)
    data = hub_node(node, admin_token, admin_token_file).call("PATCH", path, body)
    print_json(data) if json_ else _show(data)


def remove(
    partner_id: IdArg,
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Remove a partner and the EVSE statuses it pushed."""
    path = _path(partner_id)
    hub_node(node, admin_token, admin_token_file).call("DELETE", path)
    if json_:
        print_json({"removed": partner_id.strip()})
    else:
        line(console(), "removed ", partner_id.strip())


def register(parent: typer.Typer) -> None:
    for name, command in (
        ("add", add),
        ("list", list_),
        ("show", show),
        ("update", update),
        ("remove", remove),
    ):
        app.command(name, cls=Command)(command)
    parent.add_typer(app, name="partners")
