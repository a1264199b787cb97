"""``evroam oicp serve``'s process: the partner listener (mutual TLS) and the operator
API listener (plain HTTP), two uvicorn servers in one process and one event loop,
sharing one engine and one unit-of-work factory.

uvicorn's servers each take over SIGINT/SIGTERM for themselves, and the second would
silence the first; here the signals are handled once and stop both. If one listener
cannot start (its port is taken), uvicorn ends the process with status 1, so the hub
never runs half-configured.

The partner listener never reads ``X-Forwarded-For``: the allowlist is checked against
the TCP peer, which a client cannot choose. Put no proxy in front that terminates TLS:
the client certificate is the credential.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from typing import Any

import uvicorn

from evroam.config import Settings
from evroam.oicp import tls
from evroam.oicp.v2_3.hub.calls import PartnerCalls
from evroam.storage.db import create_engine, session_factory
from evroam.storage.uow import SqlUnitOfWorkFactory
from evroam.web.oicp.app import build_operator_app, build_partner_app, caller_directory

log = logging.getLogger("evroam.oicp")


class _Listener(uvicorn.Server):
    """A uvicorn server that leaves the signals to :func:`run_hub`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_on_best_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop where it is installed (``uvicorn[standard]`` brings it,
    and ``evroam serve`` runs on it through uvicorn's ``loop="auto"``), else on
    asyncio's own loop. The hub runs its two servers itself, so it picks the loop here."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


async def run_hub(settings: Settings, *, access_log: bool = True) -> None:
    """Serve until SIGINT or SIGTERM. Migrations have been applied by the caller."""
    oicp = settings.oicp
    if oicp.tls_cert is None or oicp.tls_key is None or oicp.client_ca is None:
        raise ValueError("the hub needs tls_cert, tls_key and client_ca")
    engine = create_engine(settings.database_url)
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    calls = PartnerCalls.from_settings(oicp)
    callers = caller_directory(settings, uow)
    common: dict[str, Any] = {
        "lifespan": "off",
        "proxy_headers": False,
        "server_header": False,
        "log_level": settings.log_level.lower(),
        "access_log": access_log,
        # A client holding a keep-alive connection open must not hold up a stop.
        "timeout_graceful_shutdown": 10,
    }
    servers = [
        _Listener(
            uvicorn.Config(
                build_partner_app(settings, uow, calls, callers),
                host=oicp.host,
                port=oicp.port,
                **common,
                **tls.uvicorn_tls_kwargs(oicp.tls_cert, oicp.tls_key, oicp.client_ca),
            )
        )
    ]
    if settings.admin_token is not None:
        servers.append(
            _Listener(
                uvicorn.Config(
                    build_operator_app(settings, uow, callers),
                    host=oicp.admin_host,
                    port=oicp.admin_port,
                    **common,
                )
            )
        )
    else:
        log.warning("no admin token: the operator API (partner management) is off")

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        await asyncio.gather(*(s.serve() for s in servers))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await calls.aclose()
        await engine.dispose()
