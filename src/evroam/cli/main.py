"""``evroam serve``, ``evroam db upgrade`` and ``evroam partners ...``.

``serve`` and ``db`` work on this machine's configuration; ``partners`` talks to a running
node's operator API (``--node``/``EVROAM_NODE``, and the admin token from
``--admin-token-file``/``EVROAM_ADMIN_TOKEN_FILE`` or ``--admin-token``/``EVROAM_ADMIN_TOKEN``),
so it works the same against a node on another host.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from evroam import __version__
from evroam.cli import commands as commands_cli
from evroam.cli import data as data_cli
from evroam.cli import demo as demo_cli
from evroam.cli import oicp as oicp_cli
from evroam.cli import outbox as outbox_cli
from evroam.cli import partners as partners_cli
from evroam.cli import profiles as profiles_cli
from evroam.cli import sync as sync_cli
from evroam.cli.common import Command, new_app
from evroam.config import PartyConfig, Settings
from evroam.core.types import Role

app = new_app("evroam: an open-source EV-roaming platform (OCPI 2.2.1).")
db_app = new_app("Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(partners_cli.app, name="partners")
app.add_typer(data_cli.app, name="data")
app.add_typer(outbox_cli.app, name="outbox")
app.add_typer(commands_cli.app, name="commands")
app.add_typer(profiles_cli.app, name="profiles")
app.add_typer(oicp_cli.app, name="oicp")
app.command("worker", cls=Command)(outbox_cli.worker)
app.command("sync", cls=Command)(sync_cli.sync)
app.command("demo", cls=Command)(demo_cli.demo)

F = TypeVar("F", bound=Callable[..., Any])


def _command(typer_app: typer.Typer, name: str | None = None) -> Callable[[F], F]:
    """``typer_app.command`` with the help layout of :class:`Command`."""
    return typer_app.command(name, cls=Command)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"evroam {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """evroam: an open-source EV-roaming platform (OCPI 2.2.1)."""


def _settings(**overrides: Any) -> Settings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        typer.echo(f"error: invalid configuration:\n{exc}", err=True)
        raise typer.Exit(2) from None


def _parties(
    country_codes: list[str], party_ids: list[str], roles: list[str], names: list[str]
) -> list[PartyConfig] | None:
    """Zip the repeated flags; one country code/party id with several roles means one party
    holding each role (e.g. ``--country-code NL --party-id ABC --role CPO --role EMSP``)."""
    if not (country_codes or party_ids or roles):
        return None
    if not (country_codes and party_ids and roles):
        typer.echo("error: --country-code, --party-id and --role go together", err=True)
        raise typer.Exit(2)
    if len(country_codes) != len(party_ids):
        typer.echo("error: give as many --country-code as --party-id", err=True)
        raise typer.Exit(2)
    pairs = list(zip(country_codes, party_ids, strict=True))
    if len(pairs) == 1:
        triples = [(pairs[0][0], pairs[0][1], r) for r in roles]
    elif len(roles) == len(pairs):
        triples = [(c, p, r) for (c, p), r in zip(pairs, roles, strict=True)]
    else:
        typer.echo("error: give one --role per party, or several roles for one party", err=True)
        raise typer.Exit(2)
    out = []
    for i, (cc, pid, role) in enumerate(triples):
        name = names[min(i, len(names) - 1)] if names else "evroam node"
        try:
            out.append(
                PartyConfig(country_code=cc, party_id=pid, role=Role(role.upper()), name=name)
            )
        except ValueError as exc:  # pydantic's ValidationError is one too
            typer.echo(f"error: invalid party {cc}-{pid} {role}: {exc}", err=True)
            raise typer.Exit(2) from None
    return out


def _configure_logging(level: str) -> None:
    from evroam.core.logctx import RequestIdFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(partner)s] %(message)s"
        )
    )
    root = logging.getLogger("evroam")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


@_command(app)
def serve(
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL", help="Database URL (default: SQLite ./evroam.db)."),
    ] = None,
    host: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Listen address (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="Listen port (default 8080).")
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="Base URL partners reach us at (default http://HOST:PORT)."
        ),
    ] = None,
    country_code: Annotated[
        list[str] | None,
        typer.Option(
            "--country-code",
            metavar="CC",
            help="Our party's country code, e.g. NL (repeat for several parties).",
        ),
    ] = None,
    party_id: Annotated[
        list[str] | None,
        typer.Option(
            "--party-id",
            metavar="PID",
            help="Our party's id, three letters or digits (one per --country-code).",
        ),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            metavar="ROLE",
            help="CPO, EMSP, HUB, NSP, NAP, SCSP or OTHER (repeat: one per party, or "
            "several for one party).",
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option("--name", metavar="NAME", help="Business name of the party (one per party)."),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            help="Operator API token, 16 characters or more; the API is off when no token "
            "is set. Shows in the process list; a token file does not.",
        ),
    ] = None,
    admin_token_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Read the operator API token from FILE (its trailing newline is ignored).",
        ),
    ] = None,
    liveness_interval: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS", help="Seconds before a silent partner is pinged; 0 = never."
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(metavar="LEVEL", help="debug, info, warning or error.")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Run a node: serve OCPI and the operator API.

    Applies the database migrations first (unless EVROAM_AUTO_MIGRATE=false). The node runs
    in the foreground until stopped with Ctrl-C."""
    import uvicorn

    from evroam.storage.db import upgrade
    from evroam.web.app import create_app

    settings = _settings(
        database_url=db,
        host=host,
        port=port,
        public_url=public_url,
        parties=_parties(country_code or [], party_id or [], role or [], name or []),
        admin_token=admin_token,
        admin_token_file=admin_token_file,
        liveness_interval=liveness_interval,
        log_level=log_level,
    )
    _configure_logging(settings.log_level)
    if settings.auto_migrate:
        upgrade(settings.database_url)
    # Migrations ran above; the app need not run them again.
    settings = settings.model_copy(update={"auto_migrate": False})
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=access_log,
        proxy_headers=True,
    )


@_command(db_app, "upgrade")
def db_upgrade(
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL", help="Database URL (default: SQLite ./evroam.db)."),
    ] = None,
    revision: Annotated[str, typer.Option(metavar="REVISION", help="Target revision.")] = "head",
) -> None:
    """Apply the schema migrations."""
    from evroam.storage.db import upgrade

    settings = _settings(database_url=db)
    upgrade(settings.database_url, revision)
    typer.echo(f"database at revision {revision}")
