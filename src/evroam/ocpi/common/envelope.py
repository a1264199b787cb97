"""The OCPI response envelope, built once here for every answer, errors included."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from evroam.ocpi.common.timeutil import format_datetime, utcnow


def envelope(
    data: Any = None, status_code: int = 1000, status_message: str | None = None
) -> dict[str, Any]:
    """data is left out when None (2.3.0 advice that applies to 2.2.1: omit when nothing to say)."""
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = status_code
    if status_message:
        body["status_message"] = status_message
    body["timestamp"] = format_datetime(utcnow())
    return body


def dump_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One readable line naming each bad field, e.g. ``roles[0].party_id: at most 3 characters``."""
    parts: list[str] = []
    for err in exc.errors()[:5]:
        loc = prefix
        for item in err["loc"]:
            if isinstance(item, int):
                loc += f"[{item}]"
            else:
                loc += f".{item}" if loc else str(item)
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "string_too_long":
            msg = f"longer than the {err.get('ctx', {}).get('max_length')} characters allowed"
        parts.append(f"{loc or 'body'}: {msg}")
    more = len(exc.errors()) - 5
    if more > 0:
        parts.append(f"and {more} more")
    return "invalid field " + "; ".join(parts)
