"""OCPI DateTime: RFC 3339, always UTC; emitted with ``Z``, parsed leniently."""

from __future__ import annotations

from datetime import UTC, datetime

from evroam.core.timestamps import format_timestamp as format_datetime

__all__ = ["format_datetime", "parse_datetime", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_datetime(text: str) -> datetime:
    """Parse an OCPI DateTime; a missing zone means UTC; offsets are converted to UTC."""
    if len(text) > 35:
        raise ValueError("timestamp too long")
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    value = datetime.fromisoformat(candidate)
    if "T" not in text and "t" not in text:
        raise ValueError("not an RFC 3339 date-time (missing 'T')")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
