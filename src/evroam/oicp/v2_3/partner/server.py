"""What the CPO and EMP server apps share: a Starlette app answering some of the hub's own
paths (digest §1.1 "Hub → partner calls use the same path"), every body parsed into its
wire model before the application's handler sees it, and every failure answered in the
operation's own shape.

=============================================  ==========  =====
what                                           HTTP        code
=============================================  ==========  =====
the handler's answer                           200         its own
the handler raised an ``OicpError``            its own     its own (e.g. 603, 320)
(a business refusal: usually 200)
body not JSON / not the operation's shape,     400         022, what was wrong in
a path ID that is not an ID                                ``AdditionalInfo``
an Identification the operation does not       200         022
admit, body ID not the path's
body larger than ``max_body_bytes``            413         022
unknown path / wrong method                    404 / 405   022
the handler failed or answered nonsense        500         001, nothing about the inside
=============================================  ==========  =====

"The operation's own shape": AuthorizeStart/Stop are answered with
``AuthorizationStatus: NotAuthorized`` and the code (the hub reads that shape, an
acknowledgement would be "not an OICP answer" to it); every other operation with an
acknowledgement with ``Result: false``.

Authentication is the TLS layer's: run the app behind
:func:`evroam.oicp.tls.uvicorn_tls_kwargs` with the hub's CA as ``client_ca``, so only
the hub's client certificate gets a connection (digest §6). Log lines name the
operation and the outcome, never a body (bodies carry identifications).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope, Send

from evroam.ocpi.common.limits import BodyLimitMiddleware
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import describe
from evroam.oicp.v2_3.errors import DataError, OicpError
from evroam.oicp.v2_3.models.common import Acknowledgement, PartnerSessions, StatusCode
from evroam.oicp.v2_3.models.identification import Identification, identification_problem
from evroam.oicp.v2_3.paths import OperationName, operation

log = logging.getLogger("evroam.oicp.partner")

#: Default bound of a request body: the largest message a partner server receives is a
#: CDR with ten signed metering values, some tens of kilobytes.
MAX_BODY_BYTES = 1_000_000

Handler = Callable[[Any], Awaitable[BaseModel]]


@dataclass(frozen=True, slots=True)
class Served:
    """One operation the app answers: how to read its body, which handler gets it, and
    what the handler must answer (its type)."""

    name: OperationName
    read: Callable[[Any], Any]
    handler: Handler
    answer: type[BaseModel]
    authorization: bool = False


def acknowledge(
    request: PartnerSessions | None = None,
    *,
    cpo_partner_session_id: str | None = None,
    emp_partner_session_id: str | None = None,
) -> Acknowledgement:
    """A positive acknowledgement echoing the request's ``SessionID`` and partner
    session IDs (digest §3), with the ones given added."""
    body: dict[str, Any] = {"Result": True, "StatusCode": StatusCode.of(Code.SUCCESS)}
    if request is not None:
        body["SessionID"] = getattr(request, "SessionID", None)
        body["CPOPartnerSessionID"] = request.CPOPartnerSessionID
        body["EMPPartnerSessionID"] = request.EMPPartnerSessionID
    if cpo_partner_session_id is not None:
        body["CPOPartnerSessionID"] = cpo_partner_session_id
    if emp_partner_session_id is not None:
        body["EMPPartnerSessionID"] = emp_partner_session_id
    return Acknowledgement.model_validate(body)


def _refusal(served: Served | None, exc: OicpError) -> JSONResponse:
    if served is not None and served.authorization:
        body = {"AuthorizationStatus": "NotAuthorized", "StatusCode": exc.status_code()}
    else:
        body = exc.acknowledgement()
    return JSONResponse(body, status_code=exc.http_status)


def _check(served: Served, path_params: dict[str, str], parsed: Any) -> None:
    """The path ID must be an ID of the operation's kind and, where the body names the
    same party, the body's; an Identification must be one the operation admits."""
    op = operation(served.name)
    if op.id_param is None:
        return
    path_id = path_params.get(op.id_param, "")
    is_id = ids.is_operator_id if op.id_param == "operatorID" else ids.is_provider_id
    if not is_id(path_id):
        raise DataError(f"{path_id[:20]!r} in the path is not an {op.id_param}", http_status=400)
    field = op.id_field[0] if op.id_field and len(op.id_field) == 1 else None
    body_id = getattr(parsed, field, None) if field else None
    if isinstance(body_id, str) and ids.canonical(body_id) != ids.canonical(path_id):
        raise DataError(f"the body's {field} is not the path's")
    identification = getattr(parsed, "Identification", None)
    if op.identification is not None and isinstance(identification, Identification):
        problem = identification_problem(op.identification, identification)
        if problem:
            raise DataError(problem)


def _endpoint(served: Served) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            raw = await request.body()
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):
                raise DataError("the body is not JSON", http_status=400) from None
            if not isinstance(data, dict):
                raise DataError("the body must be a JSON object", http_status=400)
            parsed = served.read(data)
            _check(served, dict(request.path_params), parsed)
        except OicpError as exc:
            log.info("refused %s: %s %s", served.name, exc.code.value, exc)
            return _refusal(served, exc)
        try:
            answer = await served.handler(parsed)
            if not isinstance(answer, served.answer):
                raise TypeError(f"the handler answered {type(answer).__name__}")
            wire = answer.model_dump(mode="json", by_alias=True, exclude_none=True)
        except OicpError as exc:
            log.info("%s refused by the handler: %s", served.name, exc.code.value)
            return _refusal(served, exc)
        except Exception:
            log.exception("the %s handler failed", served.name)
            return _refusal(served, OicpError(code=Code.SYSTEM_ERROR, http_status=500))
        log.info("%s answered", served.name)
        return JSONResponse(wire)

    return endpoint


def reader(model: type[BaseModel]) -> Callable[[Any], Any]:
    """Parse a body as ``model``, or 400/022 saying what was wrong."""

    def read(data: Any) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise DataError(describe(exc), http_status=400) from None

    return read


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    info = {404: "no such operation", 405: "OICP operations are POST only"}.get(status, "refused")
    return _refusal(None, DataError(info, http_status=status))


class _BodyLimit(BodyLimitMiddleware):
    """The shared body bound, answering with an acknowledgement (022)."""

    async def refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        body = json.dumps(DataError(message).acknowledgement()).encode()
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


def build_app(served: Sequence[Served], *, max_body_bytes: int, title: str) -> Starlette:
    """A Starlette app answering ``served`` at their paths (``/api/oicp/...``)."""
    routes = [
        Route(operation(s.name).path, _endpoint(s), methods=["POST"], name=s.name.value)
        for s in served
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _not_found},
        middleware=[],
    )
    app.state.title = title
    app.add_middleware(_BodyLimit, max_bytes=max_body_bytes)
    return app
