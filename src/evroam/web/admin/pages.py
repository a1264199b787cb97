"""One list endpoint for every module of the operator API: ``GET /api/v1/{module}``.

The five modules' lists were five hand-written copies that had drifted apart (a bad
``party`` answered 422 in two of them and 400 in the others, ``own`` defaulted to true in
two and to "both" in the rest, and each rebuilt the next-page ``Link`` its own way). This
is the one behaviour they all have now:

* ``party=CC-PID`` narrows to one owner; anything else is HTTP 400 with OCPI 2001.
* ``own=true`` lists the node's own objects, ``own=false`` what partners sent; absent,
  both. Anything else is 400/2001.
* ``offset``, ``limit`` (capped at ``max_page_limit``), ``date_from``, ``date_to`` as on
  an OCPI Sender, with ``X-Total-Count``, ``X-Limit`` and an absolute ``Link`` to the
  next page that repeats every filter, ``party`` and ``own`` included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from evroam.core.objects import ObjectPage, ObjectQuery
from evroam.core.types import ModuleId
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.common.pagination import page_headers, parse_page
from evroam.web.admin.context import AdminContext


class BadFilter(ValueError):
    """A list filter the operator API does not understand (answered 400/2001)."""


def parse_party(raw: str | None) -> tuple[str, str] | None:
    if not raw:
        return None
    cc, sep, pid = raw.partition("-")
    if not sep or len(cc) != 2 or not 1 <= len(pid) <= 3 or not (cc + pid).isalnum():
        raise BadFilter(f"party must look like CC-PID (NL-ABC), got {raw[:20]!r}")
    return (cc.upper(), pid.upper())


def parse_own(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadFilter(f"own must be true or false, got {raw[:10]!r}")


async def list_answer(
    request: Request,
    ctx: AdminContext,
    module: ModuleId,
    read: Callable[[ObjectQuery], Awaitable[ObjectPage]],
    *,
    shared_only: bool = False,
) -> Response:
    """The page the request asks for, read through ``read`` (the module service's
    ``page``). ``shared_only`` hides objects no partner may read (a Session's stored
    charging preferences)."""
    q = request.query_params
    max_limit = ctx.settings.max_page_limit
    try:
        party, own = parse_party(q.get("party")), parse_own(q.get("own"))
        page = parse_page(
            q.get("offset"), q.get("limit"), q.get("date_from"), q.get("date_to"), max_limit
        )
    except BadFilter as exc:
        return json_answer(None, http_status=400, status=2001, message=str(exc))
    except OcpiError as exc:
        return json_answer(None, http_status=400, status=exc.status_code, message=exc.message)
    result = await read(
        ObjectQuery(
            module=module,
            own=own,
            party=party,
            shared_only=shared_only,
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            limit=page.limit,
        )
    )
    base = f"{ctx.settings.base_url}{request.scope.get('root_path', '')}/{module.value}"
    headers = page_headers(base, page, result.total, len(result.objects), max_limit)
    extra = {k: v for k, v in (("party", q.get("party")), ("own", q.get("own"))) if v}
    if "Link" in headers and extra:
        headers["Link"] = headers["Link"].replace(
            '>; rel="next"', f'&{urlencode(extra)}>; rel="next"'
        )
    data = "[" + ",".join(o.document_json for o in result.objects) + "]"
    return json_answer(data, headers=headers)
