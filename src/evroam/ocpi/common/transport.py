"""The OCPI transport layer, as one pure ASGI middleware (no BaseHTTPMiddleware: it costs
a task per request), installed on the OCPI app only (``ocpi/app.py``): the operator API
and other protocols keep their own conventions.

* Trailing slashes are dropped before routing, so ``/ocpi/versions/`` and
  ``/ocpi/versions`` are the same endpoint, answered directly rather than redirected:
  several partner platforms do not follow redirects on POST.
* Every response carries ``X-Request-ID`` (echoed, or made up when the caller sent
  none) and ``X-Correlation-ID`` (echoed, or new), as OCPI 2.2.1 transport §"Unique
  message IDs" requires; the request ID is also put in a context variable for the logs.
* ``GET /ocpi/versions`` and ``GET /ocpi/{version}`` are answered here, without the web
  framework's routing and dependency machinery. They are static documents behind a token
  check, and they are what every partner polls (a hub's "still alive" check is a GET of
  the versions endpoint), so they are kept as cheap as a bare ASGI endpoint
  (``bench/version_details.py`` measures it).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evroam.core.logctx import partner_var, request_id_var
from evroam.ocpi.common.deps import note_contact
from evroam.ocpi.common.envelope import dump_json, envelope
from evroam.ocpi.common.errors import OcpiError, ServerError
from evroam.ocpi.common.fastlane import FastLaneMiddleware
from evroam.ocpi.common.timeutil import format_datetime, utcnow

_SAFE_ID = re.compile(rb"^[\x21-\x7E]{1,64}$")

log = logging.getLogger("evroam.web")


class OcpiTransportMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        documents: Mapping[str, Any] | None = None,
        owner: Any = None,
        lane: FastLaneMiddleware | None = None,
    ) -> None:
        """``owner``: the app whose ``state.ocpi`` answers the documents (default: the
        app in the scope, when this runs as that app's own middleware). ``lane``: the
        fast lane, asked first, which serves its routes with the IDs handed to it rather
        than through a wrapped ``send`` (``fastlane.py``)."""
        self.app = app
        self.owner = owner
        self.lane = lane
        # Serialised once: only the envelope's timestamp changes between answers.
        self.documents = {
            path: dump_json({"data": data})[:-1] for path, data in (documents or {}).items()
        }
        # IDs we make up: a random per-process prefix and a counter, UUID-shaped. Unique,
        # and far cheaper than uuid4() on a path that must stay near a bare endpoint.
        prefix = os.urandom(10).hex()
        self._id_prefix = f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-{prefix[16:20]}-"
        self._counter = itertools.count(1)

    def _new_id(self) -> bytes:
        return f"{self._id_prefix}{next(self._counter):012x}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = dict(scope)
            path = scope["path"] = path.rstrip("/") or "/"
            if scope.get("raw_path"):
                scope["raw_path"] = scope["raw_path"].rstrip(b"/") or b"/"
        request_id = correlation_id = authorization = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _SAFE_ID.match(value):
                request_id = value
            elif name == b"x-correlation-id" and _SAFE_ID.match(value):
                correlation_id = value
            elif name == b"authorization":
                authorization = value
        request_id = request_id or self._new_id()
        correlation_id = correlation_id or self._new_id()
        token = request_id_var.set(request_id.decode())
        partner_token = partner_var.set("-")
        try:
            if scope["method"] == "GET" and path in self.documents:
                await self._serve_document(
                    scope, send, self.documents[path], authorization, request_id, correlation_id
                )
                return
            found = self.lane.match(scope) if self.lane is not None else None
            if found is not None:
                assert self.lane is not None
                ids = [(b"x-request-id", request_id), (b"x-correlation-id", correlation_id)]
                await self.lane.serve(found[0], found[1], scope, receive, send, ids)
                return

            async def send_with_ids(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers: list[Any] = list(message.get("headers", []))
                    headers.append((b"x-request-id", request_id))
                    headers.append((b"x-correlation-id", correlation_id))
                    message = dict(message)
                    message["headers"] = headers
                await send(message)

            await self.app(scope, receive, send_with_ids)
        finally:
            request_id_var.reset(token)
            partner_var.reset(partner_token)

    async def _serve_document(
        self,
        scope: Scope,
        send: Send,
        data_json: bytes,
        authorization: bytes | None,
        request_id: bytes,
        correlation_id: bytes,
    ) -> None:
        ctx = (self.owner or scope["app"]).state.ocpi
        status = 200
        try:
            caller = await ctx.auth.authenticate(
                authorization.decode("latin-1") if authorization else None
            )
            partner_var.set(caller.partner.label)
            await note_contact(ctx, caller)
            timestamp = format_datetime(utcnow()).encode()
            body = b'%s,"status_code":1000,"timestamp":"%s"}' % (data_json, timestamp)
        except OcpiError as exc:
            status = exc.http_status
            body = dump_json(envelope(None, exc.status_code, exc.message))
        except Exception:
            log.exception("error answering GET %s", scope["path"])
            error = ServerError("internal error")
            status = 500
            body = dump_json(envelope(None, error.status_code, error.message))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id),
                    (b"x-correlation-id", correlation_id),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
