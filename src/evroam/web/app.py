"""``create_app(settings)``: the node's ASGI app, pure wiring.

Each protocol edge is its own app, mounted at its prefix, with its own middleware and
error handling: OCPI at ``/ocpi`` (``ocpi/app.py``), the operator API at ``/api/v1``
(``web/admin/app.py``, only with an admin token); the OICP hub is a process of its own
(``evroam oicp serve``, ``web/oicp/``). Each app bounds request bodies itself
(``ocpi/common/limits.py``). The root only runs the lifespan, which builds the engine,
the HTTP clients and the services at start-up (never at import) and tears them down at
shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
from sqlalchemy.engine import make_url
from starlette.datastructures import State
from starlette.responses import JSONResponse
from starlette.routing import Router
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send

from evroam import __version__
from evroam.backends import make_backend, node_reports
from evroam.config import Settings
from evroam.core.rules import sort_versions
from evroam.core.types import ModuleId
from evroam.ocpi import v2_2_1
from evroam.ocpi.app import build_ocpi_app, ocpi_edge
from evroam.ocpi.common.auth import AuthCache, Authenticator
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.context import OcpiContext
from evroam.ocpi.common.destination import DestinationPolicy, GuardedTransport
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.partner_api import OcpiPartnerApi
from evroam.ocpi.v2_2_1.chargingprofiles import convert as profiles_wire
from evroam.ocpi.v2_2_1.chargingprofiles.client import OcpiChargingProfilesApi
from evroam.ocpi.v2_2_1.commands.client import OcpiCommandsApi
from evroam.ocpi.versions import VERSIONS
from evroam.push.outbox import Outbox
from evroam.push.runner import listen, push_client
from evroam.push.worker import PushWorker
from evroam.services.callbacks import Callbacks
from evroam.services.chargingprofiles import ChargingProfilesService, ProfileValidators
from evroam.services.commands import CommandsService
from evroam.services.context import PartnerContext
from evroam.services.liveness import Liveness
from evroam.services.partner_services import PartnerServices
from evroam.services.sync import SyncSchedule
from evroam.services.tokens import TokensService, load_authorization_hook
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory
from evroam.web.admin.app import admin_edge, build_admin_app
from evroam.web.admin.context import AdminContext

log = logging.getLogger("evroam")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Seconds between two rounds of the request watchdog (``services/callbacks.py``): a
#: command's TIMEOUT goes out at most this late (timeouts are 5 s and more).
WATCHDOG_INTERVAL = 1.0


def safe_url(url: str) -> str:
    """The database URL as it may be logged: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is not logged at all
        return "<unparsable database URL>"


async def liveness_loop(liveness: Liveness, interval: float, on_change: Callable[[], None]) -> None:
    """Ping silent partners (GET versions) so status follows reality: OFFLINE / CONNECTED."""
    tick = min(max(interval / 5, 0.5), 60.0)
    while True:
        await asyncio.sleep(tick)
        try:
            if await liveness.check(timedelta(seconds=interval)):
                on_change()
        except Exception:  # a failing check must not kill the loop
            log.exception("liveness check failed")


class Edges:
    """The root ASGI app: hands each request to the protocol edge owning its path prefix.

    A plain prefix check rather than a Starlette app with ``Mount`` routes: the OCPI
    version documents, which every partner polls, are answered by the OCPI app's own
    middleware, and a root router and middleware stack in front of them cost a fifth of
    their throughput (``bench/version_details.py``). As ``Mount`` does, the edge app gets
    its prefix in ``root_path`` and routes on the rest of the path. The lifespan runs
    through a Starlette ``Router``, so ``app.router.lifespan_context(app)`` works as with
    any Starlette app.
    """

    def __init__(self, edges: list[tuple[str, ASGIApp]], lifespan: Lifespan[Edges]) -> None:
        self.edges = edges
        self.router = Router(lifespan=lifespan)
        self.state = State()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            for prefix, app in self.edges:
                if path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("", "/"):
                    root = scope.get("root_path", "")
                    await app({**scope, "root_path": root + prefix}, receive, send)
                    return
            if scope["type"] == "http":
                await JSONResponse({"error": "NotFound", "detail": "no such endpoint"}, 404)(
                    scope, receive, send
                )
            return
        scope["app"] = self
        await self.router(scope, receive, send)


def create_app(settings: Settings) -> Edges:
    ocpi_app = build_ocpi_app(settings)
    admin_app = build_admin_app(settings) if settings.admin_token is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Edges) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await upgrade_async(settings.database_url)
        engine = create_engine(settings.database_url)
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.partner_timeout, connect=10.0),
            follow_redirects=False,
            transport=GuardedTransport(
                DestinationPolicy.from_settings(
                    settings.allow_private_destinations, settings.base_url
                ),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            ),
        )
        uow = SqlUnitOfWorkFactory(session_factory(engine))
        deviations = DeviationLog(uow)
        await deviations.load()
        cache = AuthCache()
        client = OcpiClient(http, deviations)
        partner_api = OcpiPartnerApi(client)
        outbox = Outbox()
        services = PartnerServices.create(
            PartnerContext(
                uow=uow,
                api=partner_api,
                own_parties=tuple(settings.own_parties),
                versions_url=f"{settings.base_url}/ocpi/versions",
                supported_versions=tuple(sort_versions(VERSIONS)),
                tokens_changed=cache.clear,
                token_a_ttl=timedelta(days=settings.token_a_days),
                max_registration_attempts=settings.max_registration_attempts,
                outbox=outbox,
            ),
            SyncSchedule(
                after_offline=settings.sync.after_offline,
                margin=timedelta(seconds=settings.sync.margin),
            ),
        )
        await services.handshake.resolve_interrupted()
        ocpi_app.state.ocpi = OcpiContext(settings, services, Authenticator(uow, cache))
        # A wrong authorization hook fails the start, not the first authorization.
        ocpi_app.state.tokens_service = TokensService(
            services.ctx, load_authorization_hook(settings.authorization_hook)
        )
        if admin_app is not None:
            admin_app.state.admin = AdminContext(settings, services)
        app.state.services = services
        # Commands both ways, and the chargers behind a CPO node (issue 10).
        backend = make_backend(settings)

        def sender_base(module: ModuleId) -> str:
            """Where this node's Sender of ``module`` takes results (response_url)."""
            return f"{settings.base_url}/ocpi/{v2_2_1.VERSION}/sender/{module.value}"

        callbacks = Callbacks(services.ctx)
        commands = CommandsService(
            services.ctx,
            timeout=settings.commands.timeout,
            expire_after=settings.commands.expire_after,
            response_base=sender_base(ModuleId.COMMANDS),
            api=OcpiCommandsApi(client),
            backend=backend,
            callbacks=callbacks,
        )
        profiles = ChargingProfilesService(
            services.ctx,
            ProfileValidators(profiles_wire.parse_active, profiles_wire.result_document),
            timeout=settings.commands.timeout,
            expire_after=settings.commands.expire_after,
            response_base=sender_base(ModuleId.CHARGING_PROFILES),
            api=OcpiChargingProfilesApi(client),
            backend=backend,
            callbacks=callbacks,
        )
        ocpi_app.state.commands = commands
        ocpi_app.state.chargingprofiles = profiles
        if admin_app is not None:
            admin_app.state.commands = commands
            admin_app.state.chargingprofiles = profiles
        if backend is not None:
            reports = node_reports(
                services,
                partner_api,
                command_result=commands.report_result,
                profile_result=profiles.report_result,
                active_profile_changed=profiles.active_profile_changed,
            )
            if admin_app is not None:
                admin_app.state.backend_reports = reports
            await backend.start(reports)
        app.state.backend = backend
        # Delivery of the push outbox; woken by the writer's commits (push/worker.py).
        pusher = push_client(settings, http, deviations)
        push_worker = PushWorker(uow, pusher, settings.push, on_status_change=cache.clear)
        outbox.on_wake(push_worker.wake)
        app.state.push_worker = push_worker
        push_task = asyncio.create_task(push_worker.run()) if settings.push.worker else None
        # PostgreSQL: other processes on the database (a second node, a CLI import) wake
        # this worker through NOTIFY; its own commits wake it directly.
        listening = contextlib.AsyncExitStack()
        if push_task is not None:
            await listen(engine, push_worker.wake, listening)
        _log_start(settings)
        # Commands the chargers did not answer in time get TIMEOUT; sent ones expire.
        watchdog = asyncio.create_task(callbacks.run(WATCHDOG_INTERVAL))
        task = None
        if settings.liveness_interval > 0:
            task = asyncio.create_task(
                liveness_loop(services.liveness, settings.liveness_interval, cache.clear)
            )
        # Everything built so far (modules, models, the app) lives as long as the process:
        # out of the collector's sight, full collections no longer walk it on every pass
        # (they showed as stalls of tens of milliseconds in p99 latencies).
        gc.freeze()
        try:
            yield
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
            if backend is not None:
                await backend.close()
            await listening.aclose()
            if push_task is not None:
                push_task.cancel()
                await asyncio.gather(push_task, return_exceptions=True)
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.sync.close()
            await pusher.wire.aclose()
            await http.aclose()
            await engine.dispose()

    edges: list[tuple[str, ASGIApp]] = [("/ocpi", ocpi_edge(ocpi_app, settings))]
    if admin_app is not None:
        edges.append(("/api/v1", admin_edge(admin_app, settings)))
    return Edges(edges, lifespan)


def _log_start(settings: Settings) -> None:
    if settings.public_url is None and settings.host not in LOOPBACK_HOSTS:
        log.warning(
            "no public URL set (EVROAM_PUBLIC_URL): partners are told %s, which only "
            "works on this machine",
            settings.base_url,
        )
    if settings.admin_token is None:
        log.warning("operator API is off: no admin token configured (EVROAM_ADMIN_TOKEN)")
    else:
        log.info("operator API on %s/api/v1 (docs: /api/v1/docs)", settings.base_url)
    log.info(
        "evroam %s: OCPI versions at %s/ocpi/versions, parties %s, database %s",
        __version__,
        settings.base_url,
        ", ".join(f"{p.label} {p.role.value}" for p in settings.own_parties),
        safe_url(settings.database_url),
    )
