"""``POST /api/v1/{module}/batch``: many of the node's own objects in one request.

Each object of the JSON list is stored exactly as the module's single-object operator
path stores it (the same wire model, the same service call, the same rules), and all of
them at once: the service calls reach the group-commit writer together, so they share
its transactions (``services/writes.py``). That is what ``evroam data import`` uses; a
request per object spent its time in HTTP and transaction overhead (100,000 Locations
took 469 s, batched 17-20 s, ``bench/data_import.py``).

A refused object changes nothing of itself and does not stop the others. The answer's
``data`` counts the outcomes and lists each refusal with its position in the list, the
object's ``CC-PID/id`` and the OCPI status and message a single request would have had.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from evroam.core.errors import DomainError
from evroam.ocpi.common.envelope import describe_validation_error, dump_json
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.common.handlers import map_domain_error
from evroam.ocpi.common.jsonbody import parse_json

#: Most objects one batch may carry (the body limit applies as well).
MAX_BATCH = 1000

#: Stores one object of the list (any JSON value) and says what became of it
#: ("created", "updated", "stale"), or raises ``ValidationError``, ``DomainError`` or
#: ``OcpiError`` to refuse it.
Store = Callable[[Any], Awaitable[str]]


async def batch_answer(request: Request, what: str, store: Store) -> Response:
    try:
        data = parse_json(await request.body())
    except OcpiError as exc:
        return json_answer(None, http_status=400, status=exc.status_code, message=exc.message)
    if not isinstance(data, list):
        return _invalid(f"the body must be a JSON list of {what}")
    if len(data) > MAX_BATCH:
        return _invalid(f"at most {MAX_BATCH} {what} per batch, got {len(data)}")
    outcomes = await asyncio.gather(*(_one(index, raw, store) for index, raw in enumerate(data)))
    counts = {"created": 0, "updated": 0, "stale": 0}
    refused: list[dict[str, Any]] = []
    for outcome in outcomes:
        if isinstance(outcome, dict):
            refused.append(outcome)
        else:
            counts[outcome] = counts.get(outcome, 0) + 1
    return json_answer(dump_json({**counts, "refused": refused}).decode())


async def _one(index: int, raw: Any, store: Store) -> str | dict[str, Any]:
    """The outcome of one object, or its refusal (a dict)."""
    try:
        return await store(raw)
    except ValidationError as exc:
        return _refusal(index, raw, 2001, describe_validation_error(exc))
    except DomainError as exc:
        error = map_domain_error(exc)
        return _refusal(index, raw, error.status_code, error.message)
    except OcpiError as exc:
        return _refusal(index, raw, exc.status_code, exc.message)


def _refusal(index: int, raw: Any, status: int, message: str) -> dict[str, Any]:
    label = "?"
    if isinstance(raw, dict):
        oid = raw.get("id", raw.get("uid", "?"))
        label = f"{raw.get('country_code', '?')}-{raw.get('party_id', '?')}/{oid}"
    return {"index": index, "object": label[:64], "status_code": status, "status_message": message}


def _invalid(message: str) -> Response:
    return json_answer(None, http_status=400, status=2001, message=message)
