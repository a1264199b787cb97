"""The OCPI edge as its own ASGI app, mounted at ``/ocpi`` by ``web/app.py``.

It carries what belongs to OCPI only: the transport middleware (trailing slashes,
X-Request-ID/X-Correlation-ID, the version documents), the OCPI error envelope, and one
router per enabled interface of every enabled version, all read from the version
packages' ``MODULES``. The operator API (and later OICP) are separate apps with their
own error handling, so nothing of OCPI leaks into them.

``GET /ocpi/versions`` and ``GET /ocpi/{version}`` are static documents served by the
transport middleware; they accept token A as well as a full token (they must work before
registration completes, OCPI 2.2.1 versions §"Interfaces").
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from evroam.config import Settings
from evroam.core.rules import sort_versions
from evroam.core.types import Role
from evroam.ocpi.common.fastlane import FastLaneMiddleware, direct_routes
from evroam.ocpi.common.handlers import install_handlers
from evroam.ocpi.common.limits import BodyLimitMiddleware
from evroam.ocpi.common.module import Interface
from evroam.ocpi.common.transport import OcpiTransportMiddleware
from evroam.ocpi.versions import VERSIONS, package


def node_roles(settings: Settings) -> set[Role]:
    return {p.role for p in settings.parties}


def enabled_interfaces(settings: Settings, version: str) -> list[Interface]:
    roles = node_roles(settings)
    return [i for m in package(version).MODULES for i in m.interfaces(roles)]


def version_details(settings: Settings, version: str) -> dict[str, Any]:
    base = f"{settings.base_url}/ocpi/{version}"
    return {
        "version": version,
        "endpoints": [
            {"identifier": i.module.value, "role": i.role.value, "url": f"{base}/{i.path}"}
            for i in enabled_interfaces(settings, version)
        ],
    }


def version_documents(settings: Settings) -> dict[str, Any]:
    """Path -> ``data`` of the versions endpoint and of each version's details."""
    ordered = sort_versions(VERSIONS)
    docs: dict[str, Any] = {
        "/ocpi/versions": [{"version": v, "url": f"{settings.base_url}/ocpi/{v}"} for v in ordered]
    }
    for version in ordered:
        docs[f"/ocpi/{version}"] = version_details(settings, version)
    return docs


def telemetry_off() -> dict[str, Any]:
    """Newer FastAPI releases check OpenTelemetry providers on every request (three
    environment lookups, ~8 µs: a third of a version-details answer). evroam configures no
    OpenTelemetry, so the check is switched off where the option exists."""
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


def build_ocpi_app(settings: Settings) -> FastAPI:
    """The OCPI app; its ``state.ocpi`` (an ``OcpiContext``) is set at start-up."""
    app = FastAPI(
        **telemetry_off(),
        title="evroam OCPI",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.ocpi = None
    install_handlers(app)
    for version in sort_versions(VERSIONS):
        for interface in enabled_interfaces(settings, version):
            app.include_router(interface.router, prefix=f"/{version}/{interface.path}")
    return app


def ocpi_edge(app: FastAPI, settings: Settings) -> ASGIApp:
    """What is mounted at ``/ocpi``: the transport middleware (request IDs, trailing
    slashes, the version documents), which hands the routes of the simple shape to the
    fast lane (``common/fastlane.py``: the body read under the limit, the route called
    directly) and everything else to the body limit and then ``app``. A 413 carries
    X-Request-ID on both paths.

    Plain ASGI wrappers around the FastAPI app rather than its own middleware stack: a
    request on the fast lane then skips FastAPI's outer layers (error, telemetry and
    body-size middlewares) and their ``send`` wrappers as well, which cost a fifth of a
    real-time authorization (profiles of ``bench/functional.py``)."""
    mounted = [
        (f"/{version}/{interface.path}", interface.router.routes)
        for version in sort_versions(VERSIONS)
        for interface in enabled_interfaces(settings, version)
    ]
    limited = BodyLimitMiddleware(app, max_bytes=settings.max_body_bytes)
    lane = FastLaneMiddleware(app, direct_routes(mounted), app.exception_handlers, limited)
    return OcpiTransportMiddleware(
        limited, documents=version_documents(settings), owner=app, lane=lane
    )
