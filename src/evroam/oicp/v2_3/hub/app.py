"""``create_hub_app``: the partner-facing ASGI app of the OICP 2.3 hub, at ``/api/oicp``.

Every answer is JSON, and every refusal an ``eRoamingAcknowledgement`` with
``Result: false`` (OICP 2.3 §"Error handling": each message gets at least an
acknowledgement):

=============================================  ==========  =====
what                                           HTTP        code
=============================================  ==========  =====
a business refusal (``OicpError``, the         200         its own (017, 018, 022, ...)
core refusals of ``core/oicp.py``)
certificate of no partner, address not         403         017
allowed (``deps.py``)
body not JSON / not the operation's shape      400         022, what was wrong in
                                                           ``AdditionalInfo``
body larger than ``max_body_bytes``            413         022
unknown path / wrong method                    404 / 405   022
anything unexpected                            500         001, nothing about the inside
=============================================  ==========  =====

Routers come from ``hub.ROUTERS``; the app itself knows no operation.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.types import Scope, Send

from evroam.core import oicp as core
from evroam.core import oicp_sessions as sessions
from evroam.ocpi.common.limits import BodyLimitMiddleware
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import HubContext
from evroam.oicp.v2_3.errors import (
    DataError,
    EvseNotHubjectCompatible,
    InconsistentEvcoId,
    InconsistentEvseId,
    OicpError,
    PartnerNotFound,
    SessionIsInvalid,
    UnauthorizedAccess,
    UnknownEvseId,
)
from evroam.oicp.v2_3.hub import ROUTERS
from evroam.oicp.v2_3.paths import BASE_PATH

log = logging.getLogger("evroam.oicp")

#: Where the hub serves, as Hubject does (digest §1.1).
PREFIX = BASE_PATH

# Meaning-level refusal -> OICP error (found through the MRO, most specific first).
REFUSALS: tuple[tuple[type[core.OicpRefusal], type[OicpError]], ...] = (
    (core.NotActingForSelf, UnauthorizedAccess),
    (core.ForeignEvse, InconsistentEvseId),
    (core.InvalidRequest, DataError),
    (core.UnsupportedFilter, DataError),
    (sessions.UnknownSession, SessionIsInvalid),
    (sessions.NoSuchPartner, PartnerNotFound),
    (sessions.ForeignEvco, InconsistentEvcoId),
    (sessions.UnknownEvse, UnknownEvseId),
    (sessions.EvseNotCompatible, EvseNotHubjectCompatible),
)


def _answer(exc: OicpError) -> JSONResponse:
    return JSONResponse(exc.acknowledgement(), status_code=exc.http_status)


async def _oicp_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OicpError)
    # The code and kind only: AdditionalInfo may list a partner's EvcoIDs or UIDs.
    kind = type(exc).__name__
    log.info("refused %s %s: %s (%s)", request.method, request.url.path, exc.code.value, kind)
    return _answer(exc)


async def _refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, core.OicpRefusal)
    wire = next((w for c, w in REFUSALS if isinstance(exc, c)), DataError)
    return await _oicp_error(request, wire(str(exc) or None))


async def _validation(request: Request, exc: Exception) -> Response:
    # Path parameters only: bodies are parsed by deps.parse_body.
    assert isinstance(exc, RequestValidationError)
    parts = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
    return _answer(DataError("; ".join(parts[:5]), http_status=400))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    info = {404: "no such operation", 405: "OICP operations are POST only"}.get(
        exc.status_code, str(exc.detail)
    )
    response = _answer(DataError(info, http_status=exc.status_code))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _gone(request: Request, exc: Exception) -> Response:
    # The client closed the connection before its body was read (its timeout, a load
    # generator stopping): nothing failed here and nobody reads the answer. As an
    # unhandled error it logged two tracebacks per request under load
    # (bench/oicp_status.py). Registered for the class, so it is handled here and not
    # re-raised to the server as ``_crash``'s errors are.
    log.info("client went away during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _answer(OicpError(code=Code.SYSTEM_ERROR, http_status=500))


class OicpBodyLimit(BodyLimitMiddleware):
    """The shared body bound, answering with an acknowledgement (022) instead of the
    OCPI or operator API error bodies."""

    async def refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        log.warning("refused %s %r: %s (HTTP %d)", scope["method"], scope["path"], message, status)
        body = JSONResponse(DataError(message).acknowledgement()).body
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_hub_app(hub: HubContext, *, max_body_bytes: int) -> FastAPI:
    """The partner-facing app: every router of ``ROUTERS`` under ``/api/oicp``, the
    error answers of the module docstring, bodies bounded to ``max_body_bytes``. No
    documentation routes: partners read the OICP specification."""
    app = FastAPI(
        title="evroam OICP 2.3 hub",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.state.hub = hub
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)
    app.add_exception_handler(OicpError, _oicp_error)
    app.add_exception_handler(core.OicpRefusal, _refusal)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ClientDisconnect, _gone)
    app.add_exception_handler(Exception, _crash)
    app.add_middleware(OicpBodyLimit, max_bytes=max_body_bytes)
    return app


__all__ = ["PREFIX", "HubContext", "create_hub_app"]
