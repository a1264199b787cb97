"""Canonical OCPI DateTime text: UTC with ``Z``, milliseconds only when there are any.

One place for it, because the node's stored documents, the prices a simulator
computes and the reports a charger backend sends must all write a timestamp the same
way (a document compared by text, or ordered by ``last_updated``, must not see two
spellings of one instant). The OCPI layer's ``format_datetime`` is this function.
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_timestamp(value: datetime) -> str:
    """UTC with ``Z``; milliseconds only when there are any (OCPI DateTime is string(25))."""
    value = value.astimezone(UTC)
    # isoformat() rather than strftime(): the same text in a fifth of the time, on a
    # function that stamps every answer. Years before 1000 would differ (strftime does
    # not pad them); OCPI has none.
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.isoformat(timespec="seconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    """A canonical document's DateTime (always UTC with ``Z``, as the node writes it)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
