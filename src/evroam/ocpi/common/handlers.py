"""Exception handlers of the OCPI app: every answer is an envelope.

One handler per family, found through the MRO: ``OcpiError`` subclasses carry their own
codes; core ``DomainError``s are mapped to OCPI classes in one table here. What went
wrong inside the node while it used a partner's API (which URL answered what, a refused
destination) is logged by the service, never told to the caller: an attacker holding a
token A must not learn what listens behind the node.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from evroam.core import errors as core
from evroam.ocpi.common import errors as ocpi
from evroam.ocpi.common.envelope import dump_json, envelope

log = logging.getLogger("evroam.web")

# core error -> (OCPI error class, fixed message or None to pass the service's message on)
DOMAIN_MAP: dict[type[core.DomainError], tuple[type[ocpi.OcpiError], str | None]] = {
    core.PartnerNotFound: (ocpi.NotFound, None),
    core.AlreadyRegistered: (ocpi.MethodNotAllowed, None),
    core.NotRegistered: (ocpi.MethodNotAllowed, None),
    core.PartyChangeRefused: (ocpi.InvalidParameters, None),
    core.PartyConflict: (ocpi.InvalidParameters, None),
    core.InvalidInput: (ocpi.InvalidParameters, None),
    core.PartnerUnreachable: (
        ocpi.PartnerApiUnavailable,
        "unable to use your API: check the versions URL and the token in your credentials",
    ),
    core.NoMutualVersion: (
        ocpi.UnsupportedVersion,
        "your versions endpoint offers no version this node can use",
    ),
    core.MissingEndpoints: (
        ocpi.NoMatchingEndpoints,
        "your version details lack an endpoint this node needs (credentials)",
    ),
}


def map_domain_error(exc: core.DomainError) -> ocpi.OcpiError:
    for cls, (ocpi_cls, message) in DOMAIN_MAP.items():
        if isinstance(exc, cls):
            return ocpi_cls(message or str(exc))
    return ocpi.ServerError("internal error")


_FUNCTIONAL = re.compile(
    r"^/ocpi/[^/]+/(sender|receiver)/(?!hubclientinfo)[a-z]+(/([A-Za-z]{2})/([A-Za-z0-9]{3}))?"
)


def routing_for_error(request: Request) -> dict[str, str] | None:
    """Routing headers for an error answer of a functional module (digest §1.6: on every
    response of those modules): the request's swapped; where it carried none, us (our
    first party) to the party the Receiver URL names. None elsewhere, and when the URL
    names no party and the request carried none either."""
    match = _FUNCTIONAL.match(request.url.path)
    if match is None:
        return None
    h = request.headers
    ctx = getattr(request.app.state, "ocpi", None)
    ours: tuple[str, str] | None = None
    if h.get("ocpi-to-country-code") and h.get("ocpi-to-party-id"):
        ours = (h["ocpi-to-country-code"].upper(), h["ocpi-to-party-id"].upper())
    elif ctx is not None:
        ours = sorted(ctx.own_party_keys)[0]
    theirs: tuple[str, str] | None = None
    if h.get("ocpi-from-country-code") and h.get("ocpi-from-party-id"):
        theirs = (h["ocpi-from-country-code"].upper(), h["ocpi-from-party-id"].upper())
    elif match.group(1) == "receiver" and match.group(3):
        theirs = (match.group(3).upper(), match.group(4).upper())
    if ours is None or theirs is None:
        return None
    return {
        "OCPI-from-country-code": ours[0],
        "OCPI-from-party-id": ours[1],
        "OCPI-to-country-code": theirs[0],
        "OCPI-to-party-id": theirs[1],
    }


def error_response(exc: ocpi.OcpiError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        dump_json(envelope(None, exc.status_code, exc.message)),
        status_code=exc.http_status,
        media_type="application/json",
        headers=headers,
    )


async def _ocpi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ocpi.OcpiError)
    return error_response(exc, routing_for_error(request))


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, core.DomainError)
    return error_response(map_domain_error(exc), routing_for_error(request))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return error_response(
            ocpi.MalformedJson("request body is not valid JSON"), routing_for_error(request)
        )
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc}: {err.get('msg')}")
    return error_response(
        ocpi.InvalidParameters("invalid field " + "; ".join(parts)), routing_for_error(request)
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = 2000 if exc.status_code < 500 else 3000
    detail = "no such OCPI endpoint" if exc.status_code == 404 else str(exc.detail)
    return Response(
        dump_json(envelope(None, code, detail)),
        status_code=exc.status_code,
        media_type="application/json",
        headers=exc.headers,
    )


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(ocpi.ServerError("internal error"))


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ocpi.OcpiError, _ocpi_error)
    app.add_exception_handler(core.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _crash)
