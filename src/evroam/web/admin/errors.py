"""Error answers of the operator API, its own handlers so OCPI's rules stay in OCPI.

Partner management answers JSON ``{"error": kind, "detail": text}``. The data paths
(``/locations``, ``/tariffs``, ``/tokens``, ``/sessions``, ``/cdrs``) mirror the OCPI
Receivers and answer the OCPI envelope, errors included, with an HTTP status an operator's
script can branch on: 400 for a refused object (2xxx), 404 for an unknown one, 502 when
something the node depends on failed (3xxx).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from evroam.core import errors as core
from evroam.ocpi.common import errors as ocpi
from evroam.ocpi.common.envelope import dump_json, envelope
from evroam.ocpi.common.handlers import map_domain_error

log = logging.getLogger("evroam.web")

# core error -> operator API HTTP status
DOMAIN_STATUS: dict[type[core.DomainError], int] = {
    core.PartnerNotFound: 404,
    core.AlreadyRegistered: 409,
    core.NotRegistered: 409,
    core.StillRegistered: 409,
    core.NoInvitation: 409,
    core.PartyChangeRefused: 409,
    core.PartyConflict: 409,
    core.InvalidInput: 422,
    core.PartnerUnreachable: 502,
    core.NoMutualVersion: 502,
    core.MissingEndpoints: 502,
}


class AdminUnauthorized(Exception):
    """Missing or wrong admin token."""


def api_error(status: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status)


DATA_PREFIXES = ("/locations", "/tariffs", "/tokens", "/sessions", "/cdrs")


def _is_data(request: Request) -> bool:
    path = request.url.path
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.startswith(DATA_PREFIXES)


def envelope_error(exc: ocpi.OcpiError) -> Response:
    if exc.http_status != 200:
        status = exc.http_status
    else:
        status = 400 if exc.status_code < 3000 else 502
    return Response(
        dump_json(envelope(None, exc.status_code, exc.message)),
        status_code=status,
        media_type="application/json",
    )


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, core.DomainError)
    if _is_data(request):
        return envelope_error(map_domain_error(exc))
    status = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(exc, cls)), 500)
    return api_error(status, type(exc).__name__, str(exc))


async def _ocpi(request: Request, exc: Exception) -> Response:
    """Body and page errors raised by the shared OCPI parsing helpers on data paths."""
    assert isinstance(exc, ocpi.OcpiError)
    if _is_data(request):
        return envelope_error(exc)
    status = exc.http_status if exc.http_status != 200 else 400
    return api_error(status, type(exc).__name__, exc.message)


async def _unauthorized(request: Request, exc: Exception) -> Response:
    response = api_error(401, "Unauthorized", "missing or wrong admin token (Bearer)")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc}: {err.get('msg')}")
    return api_error(422, "InvalidInput", "invalid field " + "; ".join(parts))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return api_error(exc.status_code, "HTTPError", str(exc.detail))


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return api_error(500, "InternalError", "internal error")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(core.DomainError, _domain)
    app.add_exception_handler(ocpi.OcpiError, _ocpi)
    app.add_exception_handler(AdminUnauthorized, _unauthorized)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _crash)
