"""``evroam oicp serve``: run the OICP 2.3 hub.

Two listeners in one process: partners over mutual TLS (``--host``/``--port``, default
127.0.0.1:8090), the operator API over plain HTTP (``--admin-host``/``--admin-port``,
default 127.0.0.1:8091, only with an admin token). Every flag has an
``EVROAM_OICP__*`` variable (``EVROAM_ADMIN_TOKEN``/``_FILE`` and
``EVROAM_DATABASE_URL`` for the shared ones); flags win.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from evroam.cli.common import Command, fail
from evroam.config import OicpSettings, Settings


def _settings(top: dict[str, Any], oicp: dict[str, Any]) -> Settings:
    """The configuration from the environment with the flags given on top of it."""
    try:
        settings = Settings(**{k: v for k, v in top.items() if v is not None})
        merged = {**settings.oicp.model_dump(), **{k: v for k, v in oicp.items() if v is not None}}
        return settings.model_copy(update={"oicp": OicpSettings.model_validate(merged)})
    except ValidationError as exc:
        raise fail(f"invalid configuration:\n{exc}", 2) from None


def _check_files(settings: Settings) -> None:
    o = settings.oicp
    for flag, path in (
        ("--tls-cert", o.tls_cert),
        ("--tls-key", o.tls_key),
        ("--client-ca", o.client_ca),
    ):
        if path is None:
            raise fail(
                f"{flag} FILE is required (or EVROAM_OICP__{flag[2:].upper().replace('-', '_')})", 2
            )
        if not path.is_file():
            raise fail(f"{flag}: no such file: {path}", 2)
    # The hub's own client certificate for its calls to partners: optional, but a
    # file named must exist (else the first forwarded call would fail, not the start).
    for flag, path in (
        ("--client-cert", o.client_cert),
        ("--client-key", o.client_key),
        ("--partner-ca", o.partner_ca),
    ):
        if path is not None and not path.is_file():
            raise fail(f"{flag}: no such file: {path}", 2)
    if (o.client_cert is None) != (o.client_key is None):
        raise fail("--client-cert and --client-key go together", 2)


def serve(
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL", help="Database URL (default: SQLite ./evroam.db)."),
    ] = None,
    host: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Partner listener (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="Partner listener port (default 8090).")
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(metavar="FILE", help="The hub's server certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Its private key (PEM).")
    ] = None,
    client_ca: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="CA certificate(s) partner certificates must be signed by."
        ),
    ] = None,
    cert_identity: Annotated[
        str | None,
        typer.Option(
            metavar="FIELD",
            help="Where a partner's identity is read: cn (subject CN) or san (alt. names).",
        ),
    ] = None,
    client_cert: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="The hub's client certificate for its calls to partners."
        ),
    ] = None,
    client_key: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Its private key (PEM).")
    ] = None,
    partner_ca: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="CA(s) partners' servers are verified by (default: system)."
        ),
    ] = None,
    call_timeout: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", help="How long the hub waits for a partner (then 310)."),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            help="Operator API token, 16 characters or more; the API is off without one. "
            "Shows in the process list; a token file does not.",
        ),
    ] = None,
    admin_token_file: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Read the operator API token from FILE."),
    ] = None,
    admin_host: Annotated[
        str | None,
        typer.Option(metavar="ADDRESS", help="Operator API listener (default 127.0.0.1)."),
    ] = None,
    admin_port: Annotated[
        int | None, typer.Option(metavar="PORT", help="Operator API port (default 8091).")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(metavar="LEVEL", help="debug, info, warning or error.")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Run the OICP hub and its operator API.

    Partners reach it over mutual TLS, the operator API over plain HTTP. Applies the
    database migrations first (unless EVROAM_AUTO_MIGRATE=false) and runs in the
    foreground until stopped with Ctrl-C or SIGTERM."""
    from evroam.cli.main import _configure_logging
    from evroam.storage.db import upgrade
    from evroam.web.oicp.runner import run_hub, run_on_best_loop

    settings = _settings(
        {
            "database_url": db,
            "admin_token": admin_token,
            "admin_token_file": admin_token_file,
            "log_level": log_level,
        },
        {
            "host": host,
            "port": port,
            "tls_cert": tls_cert,
            "tls_key": tls_key,
            "client_ca": client_ca,
            "cert_identity": cert_identity,
            "admin_host": admin_host,
            "admin_port": admin_port,
            "client_cert": client_cert,
            "client_key": client_key,
            "partner_ca": partner_ca,
            "call_timeout": call_timeout,
        },
    )
    _check_files(settings)
    _configure_logging(settings.log_level)
    if settings.auto_migrate:
        upgrade(settings.database_url)
    run_on_best_loop(run_hub(settings, access_log=access_log))


def register(app: typer.Typer) -> None:
    app.command("serve", cls=Command)(serve)
