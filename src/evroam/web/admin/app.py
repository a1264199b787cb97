"""The operator API as its own ASGI app, mounted at ``/api/v1`` only when an admin token
is configured (otherwise neither the API nor its documentation exists).

Every route but the documentation needs ``Authorization: Bearer <admin token>``, compared
in constant time. The OpenAPI document declares that Bearer scheme, so the docs page can
authorise; the page loads Swagger UI from files shipped with the package
(``swagger-ui-bundle``), never from a CDN: operators run nodes without internet access.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from swagger_ui_bundle import swagger_ui_path

from evroam import __version__
from evroam.config import Settings
from evroam.core.credentials_tokens import secrets_equal
from evroam.ocpi.common.fastlane import FastLaneMiddleware, direct_routes
from evroam.ocpi.common.limits import BodyLimitMiddleware
from evroam.web.admin import (
    backend,
    cdrs,
    chargingprofiles,
    commands,
    locations,
    outbox,
    partners,
    sessions,
    sync,
    tariffs,
    tokens,
)
from evroam.web.admin.context import AdminDep, get_admin_context
from evroam.web.admin.errors import AdminUnauthorized, install_handlers

_bearer = HTTPBearer(auto_error=False, description="The node's admin token")


def check_admin_token(request: Request, token: str | None) -> None:
    """The one admin check, for both paths below: the node's admin token, compared in
    constant time."""
    secret = get_admin_context(request).settings.admin_token
    if secret is None or token is None or not secrets_equal(token, secret.get_secret_value()):
        raise AdminUnauthorized()


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    """The guard of every operator route, as FastAPI resolves it (the ``Security``
    scheme is what declares the Bearer scheme in the OpenAPI document)."""
    check_admin_token(request, credentials.credentials if credentials is not None else None)


async def require_admin_direct(request: Request) -> None:
    """``require_admin`` for the fast lane: the header read as ``HTTPBearer`` reads it
    (scheme ``Bearer`` in any case, then the rest after one space), same check."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    usable = bool(scheme and token) and scheme.lower() == "bearer"
    check_admin_token(request, token if usable else None)


def _node_router() -> APIRouter:
    router = APIRouter(tags=["node"])

    @router.get("/node", summary="This node: parties, URLs, versions")
    async def node_info(ctx: AdminDep) -> Any:
        pctx = ctx.partners.ctx
        return {
            "versions_url": pctx.versions_url,
            "parties": [
                {
                    "country_code": p.country_code,
                    "party_id": p.party_id,
                    "role": p.role.value,
                    "name": p.business_details.name,
                }
                for p in pctx.own_parties
            ],
            "versions": list(pctx.supported_versions),
        }

    return router


_NODE_ROUTER = _node_router()


def _routers() -> list[tuple[APIRouter, bool]]:
    """The operator API's routers in the order they are matched, each with whether the
    admin token guards it (the backend's reports carry the backend's own secret)."""
    return [
        (_NODE_ROUTER, True),
        (partners.router, True),
        (sync.router, True),
        (tokens.router, True),
        (sessions.router, True),
        (locations.router, True),
        (cdrs.router, True),
        (tariffs.router, True),
        (outbox.router, True),
        (commands.router, True),
        (chargingprofiles.router, True),
        (backend.router, False),
    ]


def admin_edge(app: FastAPI, settings: Settings) -> ASGIApp:
    """What is mounted at ``/api/v1``: the fast lane (``ocpi/common/fastlane.py``) in
    front of ``app``, for the routes of the simple shape (path parameters, the request,
    the context; an EVSE status PATCH, a token PATCH, a GET of one object), with the
    admin guard run as ``require_admin_direct``. Why: FastAPI's matching through a dozen
    included routers, its dependency solving and its middleware stack cost more than
    half of an operator-API PATCH (``bench/push.py --case write-path`` profiles:
    ~1 ms of CPU per request of which route matching alone was a fifth). Everything
    else, and every route FastAPI would match first, goes to ``app`` unchanged."""
    guard = [Depends(require_admin)]
    table = direct_routes(
        [("", router.routes, guard if guarded else []) for router, guarded in _routers()],
        substitutes={require_admin: require_admin_direct},
    )
    limited = BodyLimitMiddleware(app, max_bytes=settings.max_body_bytes)
    return FastLaneMiddleware(app, table, app.exception_handlers, limited)


def build_admin_app(settings: Settings) -> FastAPI:
    """The operator API; its ``state.admin`` (an ``AdminContext``) is set at start-up."""
    app = FastAPI(
        title="evroam operator API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        redirect_slashes=False,
    )
    app.state.admin = None
    app.state.commands = None
    app.state.chargingprofiles = None
    install_handlers(app)
    for router, guarded in _routers():
        app.include_router(router, dependencies=[Depends(require_admin)] if guarded else [])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="evroam operator API",
            swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
        )

    return app
