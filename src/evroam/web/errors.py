"""Exception handlers: every OCPI answer is an envelope, every operator-API error is JSON.

One handler per family, found through the MRO: ``OcpiError`` subclasses carry their own
codes; core ``DomainError``s are mapped here once, for OCPI and for the operator API.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from evroam.core import errors as core
from evroam.ocpi.common import errors as ocpi
from evroam.ocpi.common.envelope import describe_validation_error, dump_json, envelope

log = logging.getLogger("evroam.web")

# core error -> (OCPI error class, operator API HTTP status)
DOMAIN_MAP: dict[type[core.DomainError], tuple[type[ocpi.OcpiError], int]] = {
    core.PartnerNotFound: (ocpi.NotFound, 404),
    core.AlreadyRegistered: (ocpi.MethodNotAllowed, 409),
    core.NotRegistered: (ocpi.MethodNotAllowed, 409),
    core.PartyChangeRefused: (ocpi.InvalidParameters, 409),
    core.PartyConflict: (ocpi.InvalidParameters, 409),
    core.InvalidInput: (ocpi.InvalidParameters, 422),
    core.PartnerUnreachable: (ocpi.PartnerApiUnavailable, 502),
    core.NoMutualVersion: (ocpi.UnsupportedVersion, 502),
    core.MissingEndpoints: (ocpi.NoMatchingEndpoints, 502),
}


def is_ocpi(request: Request) -> bool:
    return request.url.path.startswith("/ocpi")


def ocpi_error_response(exc: ocpi.OcpiError) -> Response:
    return Response(
        dump_json(envelope(None, exc.status_code, exc.message)),
        status_code=exc.http_status,
        media_type="application/json",
    )


def api_error(status: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status)


def _map_domain(exc: core.DomainError) -> tuple[type[ocpi.OcpiError], int]:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_MAP:
            return DOMAIN_MAP[cls]
    return ocpi.ServerError, 500


def install(app: FastAPI) -> None:
    @app.exception_handler(ocpi.OcpiError)
    async def _ocpi(request: Request, exc: ocpi.OcpiError) -> Response:
        if not is_ocpi(request):
            return api_error(
                exc.http_status if exc.http_status != 200 else 400, type(exc).__name__, exc.message
            )
        return ocpi_error_response(exc)

    @app.exception_handler(core.DomainError)
    async def _domain(request: Request, exc: core.DomainError) -> Response:
        ocpi_cls, api_status = _map_domain(exc)
        if is_ocpi(request):
            return ocpi_error_response(ocpi_cls(str(exc)))
        return api_error(api_status, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors()[:5]:
            loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            parts.append(f"{loc}: {err.get('msg')}")
        message = "invalid field " + "; ".join(parts)
        if is_ocpi(request):
            if any(e.get("type") == "json_invalid" for e in exc.errors()):
                return ocpi_error_response(ocpi.MalformedJson("request body is not valid JSON"))
            return ocpi_error_response(ocpi.InvalidParameters(message))
        return api_error(422, "InvalidInput", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_ocpi(request):
            code = 2000 if exc.status_code < 500 else 3000
            detail = "no such OCPI endpoint" if exc.status_code == 404 else str(exc.detail)
            return Response(
                dump_json(envelope(None, code, detail)),
                status_code=exc.status_code,
                media_type="application/json",
                headers=exc.headers,
            )
        return api_error(exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if is_ocpi(request):
            return ocpi_error_response(ocpi.ServerError("internal error"))
        return api_error(500, "InternalError", "internal error")


__all__ = ["install", "describe_validation_error"]
