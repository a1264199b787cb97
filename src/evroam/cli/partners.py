"""``evroam partners ...``: a client of a running node's operator API.

Every command talks to the node at ``--node`` with its admin token, which can come from a
flag, a file or the environment so that it need not show in the process list. What the
node answers is mostly partner-written (names, URLs, error details); it is printed through
:mod:`evroam.cli.common`, which shows it as harmless text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from evroam.cli.common import Command, clean, console, fail, line, new_app, text
from evroam.cli.node_api import (
    JsonOpt,
    NodeOpt,
    TokenFileOpt,
    TokenOpt,
    connect,
    partner_path,
    secret,
)
from evroam.cli.partner_views import (
    fold_table,
    list_table,
    name_of,
    print_changes,
    print_invitation,
    print_json,
    show_partner,
    status_line,
)

app = new_app("Roaming partners of a running node (its operator API).")

F = TypeVar("F", bound=Callable[..., Any])


def command(name: str | None = None) -> Callable[[F], F]:
    """``app.command`` with the help layout of :class:`Command`."""
    return app.command(name, cls=Command)


PartnerArg = Annotated[
    str, typer.Argument(metavar="PARTNER", help="partner id or CC-PID (e.g. 3 or NL-ABC)")
]
NoteOpt = Annotated[
    str | None, typer.Option("--note", metavar="NOTE", help="Operator note (up to 255 chars).")
]

# ---------------------------------------------------------------------- commands


@command("list")
def list_(
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Every partner with its status."""
    data = connect(node, admin_token, admin_token_file).call("GET", "/partners")
    print_json(data) if json_ else list_table(data)


@command()
def show(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One partner: status, version, parties, endpoints."""
    path = partner_path(ref)
    data = connect(node, admin_token, admin_token_file).call("GET", path)
    print_json(data) if json_ else show_partner(data)


@command()
def invite(
    note: NoteOpt = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Issue a token A for a new partner.

    Hand it to the partner with our versions URL; it registers with both."""
    api = connect(node, admin_token, admin_token_file)
    print_invitation(api.call("POST", "/partners/invite", {"note": note}), json_)


@command()
def register(
    versions_url: Annotated[
        str,
        typer.Option("--versions-url", metavar="URL", help="The partner's versions URL."),
    ],
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="TOKEN",
            help="Token A the partner gave us (shows in the process list; a token file "
            "does not)  [env var: EVROAM_TOKEN_A]",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            metavar="FILE",
            help="Read token A from FILE (its trailing newline is ignored)  "
            "[env var: EVROAM_TOKEN_A_FILE]",
        ),
    ] = None,
    note: NoteOpt = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Register with a partner, using its token A.

    The credentials handshake, initiated by us: the partner gives its versions URL and a
    token A; we discover its endpoints and send it our credentials."""
    token_a = secret(
        token,
        token_file,
        flags=("--token", "--token-file"),
        env=("EVROAM_TOKEN_A", "EVROAM_TOKEN_A_FILE"),
        what="token A",
    )
    if not token_a:
        raise fail("no token A: give --token-file FILE or --token TOKEN, or set EVROAM_TOKEN_A", 2)
    api = connect(node, admin_token, admin_token_file)
    body = {"versions_url": versions_url, "token": token_a, "note": note}
    data = api.call("POST", "/partners/register", body)
    if json_:
        print_json(data)
        return
    line(console(), f"registered: we are now connected with {name_of(data)}")
    show_partner(data)


@command()
def update(
    ref: PartnerArg,
    note: Annotated[
        str | None,
        typer.Option(
            "--note",
            metavar="NOTE",
            help="Only set the operator note ('' clears it); no credentials are exchanged.",
        ),
    ] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Re-discover a partner and exchange new credentials.

    Reads the partner's versions again (the highest mutual one is used) and PUTs fresh
    credentials: new tokens both ways. With --note, sets the note and does nothing else.
    Prints what changed."""
    path = partner_path(ref)
    api = connect(node, admin_token, admin_token_file)
    before = None if json_ else api.call("GET", path)
    body = {"note": note or None} if note is not None else None
    after = api.call("POST", f"{path}/update", body)
    if json_ or before is None:
        print_json(after)
        return
    if note is not None:
        line(console(), f"note set: {name_of(after)}")
    else:
        line(
            console(),
            f"updated: {name_of(after)}: re-discovered its versions and exchanged new "
            "credentials; each side now holds a new token",
        )
    print_changes(before, after)


@command("rotate-token")
def rotate_token(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Give the partner a new token; it gives us a new one.

    A credentials PUT on the current version; the partner's old token stops working here."""
    path = partner_path(ref, "rotate-token")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    if json_:
        print_json(data)
        return
    line(
        console(),
        f"rotated: {name_of(data)} now holds a new token; the new token they gave us is stored",
    )
    status_line(data)


@command()
def reset(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """After a breach: revoke all tokens, issue a new token A.

    Every token of the partner stops working at once and all traffic with it stops; the
    partner registers again with the new token A."""
    path = partner_path(ref, "reset")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    print_invitation(data, json_)


@command()
def unregister(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Unregister from the partner and revoke its tokens.

    A credentials DELETE at the partner; its tokens stop working here even if the partner
    does not answer (a warning says so)."""
    path = partner_path(ref, "unregister")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    if json_:
        print_json(data)
        return
    partner = data["partner"]
    line(console(), f"unregistered: {name_of(partner)}; its tokens no longer work here")
    status_line(partner)
    if not data.get("remote_ok"):
        typer.echo(
            f"warning: the partner did not confirm: {clean(data.get('remote_error'))}", err=True
        )


@command()
def delete(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Delete a partner that is not registered.

    For an invitation never used or a partner unregistered for good; the node refuses
    (409) to delete a registered partner: unregister it first."""
    path = partner_path(ref)
    data = connect(node, admin_token, admin_token_file).call("DELETE", path)
    if json_:
        print_json(data)
        return
    line(console(), f"deleted: partner {data.get('deleted')}")


@command()
def uninvite(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Withdraw a partner's unused token A.

    It can no longer register with it. A partner that never registered is removed with
    it; one that registered before stays. Invite or reset to issue a new token A."""
    path = partner_path(ref, "uninvite")
    data = connect(node, admin_token, admin_token_file).call("POST", path)
    if json_:
        print_json(data)
        return
    kept = data.get("partner")
    if kept:
        line(console(), f"uninvited: {name_of(kept)}: its token A no longer works")
        status_line(kept)
    else:
        line(
            console(),
            f"uninvited: partner {data.get('withdrawn')}: its token A no longer works; "
            "it never registered, so it is removed",
        )


@command("client-info")
def client_info(
    ref: PartnerArg,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The parties a hub partner reported behind it.

    What the hub sent through OCPI HubClientInfo: each party with its role, its connection
    status at the hub and when that was last updated."""
    path = partner_path(ref, "client-info")
    data = connect(node, admin_token, admin_token_file).call("GET", path)
    if json_:
        print_json(data)
        return
    if not data:
        line(console(), f"partner {ref.strip()} reported no parties")
        return
    table = fold_table("party", "role", "status", "last updated", timestamps=("last updated",))
    for c in data:
        table.add_row(
            text(c.get("country_code"), "-", c.get("party_id")),
            text(c.get("role")),
            text(c.get("status")),
            text(c.get("last_updated") or "-"),
        )
    console().print(table)
