"""What every functional module's routes share (Locations, Tariffs, Tokens, Sessions,
CDRs): the caller with its routing headers checked, the routing headers of the answer,
and answers built from stored documents.

Routing headers (OCPI 2.2.1 transport §"Routing headers", digest §1.6): a request's
``OCPI-from-*`` must name one of the caller's parties and ``OCPI-to-*`` one of ours
(absent is tolerated); the answer swaps them. Sender pages and objects are answered from
the stored JSON text (``core/objects.py``), joined into the envelope without parsing.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from evroam.core.objects import ObjectPage
from evroam.ocpi.common.auth import Caller, check_routing_headers
from evroam.ocpi.common.context import OcpiContext
from evroam.ocpi.common.deps import get_context, get_full_caller
from evroam.ocpi.common.pagination import Page, page_headers, parse_page
from evroam.ocpi.common.timeutil import format_datetime

FROM_CC, FROM_PID = "OCPI-from-country-code", "OCPI-from-party-id"
TO_CC, TO_PID = "OCPI-to-country-code", "OCPI-to-party-id"


async def get_functional_caller(request: Request) -> Caller:
    """A registered partner's token, and routing headers that match it and us."""
    caller = await get_full_caller(request)
    check_routing_headers(caller, request.headers, get_context(request).own_party_keys)
    return caller


FunctionalCallerDep = Annotated[Caller, Depends(get_functional_caller)]


def answer_routing(
    request: Request, ctx: OcpiContext, caller: Caller, owner: tuple[str, str] | None = None
) -> dict[str, str]:
    """The answer's routing headers: the request's swapped, or, where the partner sent
    none, us (the party addressed, else our first) to the caller (the object's owner when
    the URL names it, else the caller's first party)."""
    h = request.headers
    ours = sorted(ctx.own_party_keys)[0]
    if h.get(TO_CC) and h.get(TO_PID):
        ours = (h[TO_CC].upper(), h[TO_PID].upper())
    theirs = owner or (caller.partner.roles[0].key if caller.partner.roles else ("", ""))
    if h.get(FROM_CC) and h.get(FROM_PID):
        theirs = (h[FROM_CC].upper(), h[FROM_PID].upper())
    return {FROM_CC: ours[0], FROM_PID: ours[1], TO_CC: theirs[0], TO_PID: theirs[1]}


class _Stamp:
    """The envelope's ``timestamp`` text, made once per millisecond rather than once per
    answer: under load hundreds of answers share a millisecond, and formatting the time
    was a tenth of an answer's cost (py-spy, 2026-11-25)."""

    __slots__ = ("ms", "text")

    def __init__(self) -> None:
        self.ms = -1
        self.text = ""

    def now(self) -> str:
        ms = time.time_ns() // 1_000_000
        if ms != self.ms:
            self.text = format_datetime(datetime.fromtimestamp(ms / 1000, UTC))
            self.ms = ms
        return self.text


_STAMP = _Stamp()


def _envelope_bytes(data_json: str | None, status: int = 1000, message: str | None = None) -> bytes:
    parts = []
    if data_json is not None:
        parts.append(f'"data":{data_json}')
    parts.append(f'"status_code":{status}')
    if message:
        parts.append(f'"status_message":{json.dumps(message)}')
    parts.append(f'"timestamp":"{_STAMP.now()}"')
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def json_answer(
    data_json: str | None,
    *,
    headers: dict[str, str] | None = None,
    http_status: int = 200,
    status: int = 1000,
    message: str | None = None,
) -> Response:
    """An OCPI answer whose data is already JSON text (a stored document, or none)."""
    return envelope_response(_envelope_bytes(data_json, status, message), http_status, headers)


_JSON_TYPE = (b"content-type", b"application/json")


def envelope_response(body: bytes, http_status: int, headers: dict[str, str] | None) -> Response:
    """A ``Response`` of a JSON body, its raw headers made here in one pass: Starlette's
    constructor renders, then scans the headers it was given for the content length and
    type, which costs more than the answer's body on the hot paths. What it builds is the
    same (``raw_headers``, ``body``, ``status_code``, no background)."""
    response = Response(status_code=http_status)
    raw = [(b"content-length", str(len(body)).encode()), _JSON_TYPE]
    if headers:
        raw.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
    response.body = body
    response.raw_headers = raw
    return response


def parse_list_query(request: Request, ctx: OcpiContext) -> Page:
    q = request.query_params
    return parse_page(
        q.get("offset"),
        q.get("limit"),
        q.get("date_from"),
        q.get("date_to"),
        ctx.settings.max_page_limit,
        q.get("cursor"),
    )


def page_answer(
    request: Request,
    ctx: OcpiContext,
    page: Page,
    result: ObjectPage,
    headers: dict[str, str] | None = None,
) -> Response:
    """A Sender list page: the stored documents joined, with ``X-Total-Count``,
    ``X-Limit`` and an absolute ``Link`` to the next page that repeats every filter."""
    base = f"{ctx.settings.base_url}{request.url.path}"
    last = result.objects[-1].row_id if result.objects else None
    all_headers = page_headers(
        base, page, result.total, len(result.objects), ctx.settings.max_page_limit, last
    )
    all_headers.update(headers or {})
    data = "[" + ",".join(o.document_json for o in result.objects) + "]"
    return json_answer(data, headers=all_headers)
