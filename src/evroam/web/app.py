"""``create_app(settings)``: the node's ASGI app. Builds the engine, HTTP client and services
at start-up (lifespan), never at import, and tears them down at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from evroam import __version__
from evroam.config import Settings
from evroam.ocpi import routes as ocpi_routes
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.partner_api import OcpiPartnerApi
from evroam.ocpi.versions import VERSIONS
from evroam.services.partners import PartnerService
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory
from evroam.web import errors
from evroam.web.admin.routes import AdminUnauthorized, admin_unauthorized_handler, build_router
from evroam.web.auth import AuthCache
from evroam.web.middleware import OcpiTransportMiddleware
from evroam.web.node import Node

log = logging.getLogger("evroam")


async def _liveness_loop(node: Node) -> None:
    """Ping silent partners (GET versions) so status follows reality: OFFLINE / CONNECTED."""
    interval = node.settings.liveness_interval
    tick = min(max(interval / 5, 0.5), 60.0)
    while True:
        await asyncio.sleep(tick)
        try:
            changed = await node.partners.check_liveness(timedelta(seconds=interval))
            if changed:
                node.auth_cache.clear()
        except Exception:  # a failing check must not kill the loop
            log.exception("liveness check failed")


def _telemetry_off() -> dict[str, Any]:
    """Newer FastAPI releases check OpenTelemetry providers on every request (three
    environment lookups, ~8 µs: a third of a version-details answer). evroam configures no
    OpenTelemetry, so the check is switched off where the option exists."""
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await upgrade_async(settings.database_url)
        engine = create_engine(settings.database_url)
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.partner_timeout, connect=10.0),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        deviations = DeviationLog()
        ocpi_client = OcpiClient(http, deviations)
        cache = AuthCache()
        uow = SqlUnitOfWorkFactory(session_factory(engine))
        service = PartnerService(
            uow,
            OcpiPartnerApi(ocpi_client),
            own_parties=settings.own_parties,
            versions_url=f"{settings.base_url}/ocpi/versions",
            supported_versions=list(VERSIONS),
            on_tokens_changed=cache.clear,
        )
        node = Node(settings, engine, uow, http, ocpi_client, service, cache, deviations)
        app.state.node = node
        if settings.public_url is None and settings.host not in ("127.0.0.1", "localhost", "::1"):
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
            "evroam %s: OCPI versions at %s/ocpi/versions, parties %s",
            __version__,
            settings.base_url,
            ", ".join(f"{p.label} {p.role.value}" for p in settings.own_parties),
        )
        task = None
        if settings.liveness_interval > 0:
            task = asyncio.create_task(_liveness_loop(node))
        try:
            yield
        finally:
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await http.aclose()
            await engine.dispose()

    app = FastAPI(
        **_telemetry_off(),
        title="evroam",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/v1/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        redirect_slashes=False,
    )
    errors.install(app)
    app.add_exception_handler(AdminUnauthorized, admin_unauthorized_handler)
    ocpi_routes.mount(app, settings)
    if settings.admin_token is not None:
        app.include_router(build_router())
    app.add_middleware(OcpiTransportMiddleware, documents=ocpi_routes.version_documents(settings))
    return app
