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
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from evroam import __version__
from evroam.config import Settings
from evroam.core.credentials_tokens import secrets_equal
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


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    secret = get_admin_context(request).settings.admin_token
    if (
        secret is None
        or credentials is None
        or not secrets_equal(credentials.credentials, secret.get_secret_value())
    ):
        raise AdminUnauthorized()


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
    guarded = [Depends(require_admin)]
    app.include_router(_node_router(), dependencies=guarded)
    app.include_router(partners.router, dependencies=guarded)
    app.include_router(sync.router, dependencies=guarded)
    app.include_router(tokens.router, dependencies=guarded)
    app.include_router(sessions.router, dependencies=guarded)
    app.include_router(locations.router, dependencies=guarded)
    app.include_router(cdrs.router, dependencies=guarded)
    app.include_router(tariffs.router, dependencies=guarded)
    app.include_router(outbox.router, dependencies=guarded)
    app.include_router(commands.router, dependencies=guarded)
    app.include_router(chargingprofiles.router, dependencies=guarded)
    # Guarded by the charge-point backend's own secret, not the admin token.
    app.include_router(backend.router)
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
