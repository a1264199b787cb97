"""The OICP hub's two apps, pure wiring: the partner-facing app (``oicp/v2_3/hub``) and
the operator API for OICP partners, each served by its own listener (``runner.py``).

The operator API is guarded as the node's is (``web/admin/app.py``): ``Authorization:
Bearer <admin token>``, compared in constant time; without an admin token it does not
exist. It has its own listener, on loopback by default and without TLS, so the
partner-facing port serves partners only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from starlette.responses import Response

from evroam import __version__
from evroam.config import Settings
from evroam.core.credentials_tokens import secrets_equal
from evroam.core.ports import OicpUnitOfWorkFactory
from evroam.ocpi.common.limits import BodyLimitMiddleware
from evroam.oicp.v2_3.deps import CallerDirectory, HubContext
from evroam.oicp.v2_3.hub.app import create_hub_app
from evroam.oicp.v2_3.hub.calls import PartnerCalls
from evroam.web.admin.errors import AdminUnauthorized, api_error
from evroam.web.oicp import admin, poi, sessions

_bearer = HTTPBearer(auto_error=False, description="The hub's admin token")


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    secret: SecretStr | None = getattr(request.app.state, "admin_token", None)
    if (
        secret is None
        or credentials is None
        or not secrets_equal(credentials.credentials, secret.get_secret_value())
    ):
        raise AdminUnauthorized()


async def _unauthorized(request: Request, exc: Exception) -> Response:
    response = api_error(401, "Unauthorized", "missing or wrong admin token (Bearer)")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def build_partner_app(
    settings: Settings,
    uow: OicpUnitOfWorkFactory,
    calls: PartnerCalls | None = None,
    callers: CallerDirectory | None = None,
) -> FastAPI:
    """The app partners call over mutual TLS, at ``/api/oicp``; ``calls`` is the hub's
    client for its calls to partners (made from the settings when not given; whoever
    serves the app closes it: ``runner.py``); ``callers`` the certificate lookup shared
    with the operator API (:func:`caller_directory`), which clears it on changes."""
    if callers is None:
        callers = caller_directory(settings, uow)
    hub = HubContext(uow=uow, cert_identity=settings.oicp.cert_identity, callers=callers)
    app = create_hub_app(hub, max_body_bytes=settings.oicp.max_body_bytes)
    app.state.oicp_calls = calls if calls is not None else PartnerCalls.from_settings(settings.oicp)
    return app


def caller_directory(settings: Settings, uow: OicpUnitOfWorkFactory) -> CallerDirectory:
    """One per hub process: given to both apps, so a partner change through the operator
    API is seen by the next partner request."""
    return CallerDirectory(uow, ttl=settings.oicp.caller_cache_seconds)


def build_operator_app(
    settings: Settings, uow: OicpUnitOfWorkFactory, callers: CallerDirectory | None = None
) -> FastAPI:
    """The operator API at ``/api/v1`` (``/api/v1/oicp/partners``, ``.../sessions``,
    ``.../cdrs``, ``.../operators/{id}/poi``); needs the admin token in ``settings``.
    ``callers``: the partner app's certificate lookup, cleared on every partner change."""
    if settings.admin_token is None:
        raise ValueError("the operator API needs an admin token")
    app = FastAPI(
        title="evroam OICP hub operator API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        redirect_slashes=False,
    )
    app.state.admin_token = settings.admin_token
    app.state.oicp_admin = admin.OicpAdminContext(
        uow=uow, partners_changed=callers.clear if callers is not None else _nothing
    )
    admin.install_handlers(app)
    app.add_exception_handler(AdminUnauthorized, _unauthorized)
    app.include_router(admin.router, prefix="/api/v1", dependencies=[Depends(require_admin)])
    app.include_router(poi.router, prefix="/api/v1", dependencies=[Depends(require_admin)])
    app.include_router(sessions.router, prefix="/api/v1", dependencies=[Depends(require_admin)])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app


def _nothing() -> None:
    """No partner app in this process to tell of a partner change."""
