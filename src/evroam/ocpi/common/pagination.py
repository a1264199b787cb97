"""OCPI pagination (transport_and_format §"Pagination"), server and client side.

Server: ``offset``/``limit``/``date_from`` (inclusive)/``date_to`` (exclusive) on
``last_updated``; answers carry ``X-Total-Count``, ``X-Limit`` and, when more pages
remain, ``Link: <...>; rel="next"`` repeating every original filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from evroam.ocpi.common.errors import InvalidParameters
from evroam.ocpi.common.timeutil import format_datetime, parse_datetime

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Page:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None
    # The row after which this page starts, from the Link we gave (``cursor``): lets the
    # next page be read by key instead of skipping ``offset`` rows again. Optional; a
    # client that builds its own URLs pages by offset alone.
    after: int | None = None


def parse_page(
    offset: str | None,
    limit: str | None,
    date_from: str | None,
    date_to: str | None,
    max_limit: int = MAX_LIMIT,
    cursor: str | None = None,
) -> Page:
    """Validate query parameters; a limit above ours is capped, not refused (the spec allows)."""

    def _int(name: str, raw: str | None, default: int) -> int:
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidParameters(f"{name} must be a whole number, got {raw!r}") from None
        if value < 0:
            raise InvalidParameters(f"{name} must not be negative")
        return value

    def _dt(name: str, raw: str | None) -> datetime | None:
        if raw is None or raw == "":
            return None
        try:
            return parse_datetime(raw)
        except ValueError:
            raise InvalidParameters(f"{name} must be an RFC 3339 date-time, got {raw!r}") from None

    lim = _int("limit", limit, min(DEFAULT_LIMIT, max_limit))
    if lim == 0:
        raise InvalidParameters("limit must be at least 1")
    page = Page(
        offset=_int("offset", offset, 0),
        limit=min(lim, max_limit),
        date_from=_dt("date_from", date_from),
        date_to=_dt("date_to", date_to),
        after=_int("cursor", cursor, -1) if cursor not in (None, "") else None,
    )
    if page.date_from and page.date_to and page.date_from >= page.date_to:
        raise InvalidParameters("date_from must be before date_to")
    return page


def page_headers(
    base_url: str,
    page: Page,
    total: int,
    returned: int,
    max_limit: int,
    next_cursor: int | None = None,
) -> dict[str, str]:
    headers = {"X-Total-Count": str(total), "X-Limit": str(max_limit)}
    next_offset = page.offset + returned
    if returned and next_offset < total:
        params: dict[str, str] = {"offset": str(next_offset), "limit": str(page.limit)}
        if page.date_from:
            params["date_from"] = format_datetime(page.date_from)
        if page.date_to:
            params["date_to"] = format_datetime(page.date_to)
        if next_cursor is not None:
            params["cursor"] = str(next_cursor)
        headers["Link"] = f'<{base_url}?{urlencode(params)}>; rel="next"'
    return headers


_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel\s*=\s*"?next"?', re.IGNORECASE)


def next_link(link_header: str | None) -> str | None:
    """The rel="next" URL of a Link header, if any (several links may share one header)."""
    if not link_header:
        return None
    match = _LINK_NEXT.search(link_header)
    return match.group(1) if match else None
