"""OCPI DateTime: RFC 3339, always UTC; emitted with ``Z``, parsed leniently."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_datetime(value: datetime) -> str:
    """UTC with ``Z``; milliseconds only when there are any (OCPI DateTime is string(25))."""
    value = value.astimezone(UTC)
    # isoformat() rather than strftime(): the same text in a fifth of the time, on a
    # function that stamps every answer. Years before 1000 would differ (strftime does
    # not pad them); OCPI has none.
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.isoformat(timespec="seconds")[:-6] + "Z"


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
