"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request).

* Trailing slashes are dropped before routing, so ``/ocpi/versions/`` and
  ``/ocpi/versions`` are the same endpoint, answered directly rather than redirected:
  several partner platforms do not follow redirects on POST.
* Every response carries ``X-Request-ID`` (echoed, or made up when the caller sent
  none) and ``X-Correlation-ID`` (echoed, or new), as OCPI 2.2.1 transport §"Unique
  message IDs" requires; the IDs are also put in a context variable for the logs.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SAFE_ID = re.compile(rb"^[\x21-\x7E]{1,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class OcpiHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = dict(scope)
            scope["path"] = path.rstrip("/") or "/"
            if scope.get("raw_path"):
                scope["raw_path"] = scope["raw_path"].rstrip(b"/") or b"/"
        request_id = correlation_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _SAFE_ID.match(value):
                request_id = value
            elif name == b"x-correlation-id" and _SAFE_ID.match(value):
                correlation_id = value
        request_id = request_id or str(uuid.uuid4()).encode()
        correlation_id = correlation_id or str(uuid.uuid4()).encode()
        token = request_id_var.set(request_id.decode())

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id))
                headers.append((b"x-correlation-id", correlation_id))
                message = dict(message)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            request_id_var.reset(token)
