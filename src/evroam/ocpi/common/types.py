"""Pydantic building blocks for OCPI wire models: CiString, string(n), URL, DateTime.

Wire models tolerate unknown fields (``extra="ignore"``; 2.3.0 makes that a rule and
real partners rely on it in every version) but validate every known one strictly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from evroam.ocpi.common.timeutil import format_datetime, parse_datetime

_PRINTABLE_ASCII = r"^[\x20-\x7E]*$"


def CiString(n: int) -> StringConstraints:  # noqa: N802 - reads like the spec's type name
    """Case-insensitive printable ASCII of at most n characters.

    Used as ``Annotated[str, CiString(36)]``: the metadata of an ``Annotated`` type, which
    mypy reads as plain ``str`` and pydantic enforces.
    """
    return StringConstraints(max_length=n, pattern=_PRINTABLE_ASCII, strict=True)


def String(n: int) -> StringConstraints:  # noqa: N802
    """Printable UTF-8 of at most n characters (no control characters); see CiString."""
    return StringConstraints(max_length=n, pattern=r"^[^\x00-\x1F\x7F]*$", strict=True)


URL = Annotated[
    str,
    StringConstraints(max_length=255, pattern=r"^https?://[^\s]+$", strict=True),
]


def _parse_dt(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise ValueError(f"not an RFC 3339 UTC date-time: {value!r}") from exc
    if isinstance(value, datetime):
        return value
    raise ValueError("must be an RFC 3339 date-time string")


DateTime = Annotated[
    datetime,
    BeforeValidator(_parse_dt),
    PlainSerializer(format_datetime, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class WireModel(BaseModel):
    """Base of every OCPI wire model."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)
