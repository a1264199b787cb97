"""Spring-style paging of PullEvseData and GetChargeDetailRecords (digest §5; the EMP
file's descriptions of both operations, whose schemas omit the parameters: NOTES.md D3).

The query of the POST carries ``page`` (zero-based, default 0) and ``size`` (default 20,
at most 2000). A value that is not a whole number in range is the partner's error, 022
(:class:`~evroam.oicp.v2_3.errors.DataError`), answered with HTTP 200 like every
business refusal. ``sort`` is undocumented by OICP: it is read and ignored, never
refused.

The answer is Spring Data's ``Page``: ``content``, ``number``, ``size``,
``totalElements``, ``totalPages``, ``numberOfElements``, ``first``, ``last``, ``empty``,
``pageable`` and OICP's ``StatusCode`` (:func:`page_body`). Clients loop from page 0
until ``last`` (:func:`next_page`); default size 20 silently truncates a client that
forgets to (digest §8.11).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.errors import DataError

DEFAULT_SIZE = 20
MAX_SIZE = 2000
# Beyond this a page number is nonsense (2000 x this is far past any data set) and
# would only make the offset arithmetic of the storage layer overflow.
MAX_PAGE = 10_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated ``page``/``size``."""

    page: int = 0
    size: int = DEFAULT_SIZE

    @property
    def offset(self) -> int:
        """The index of the page's first element."""
        return self.page * self.size

    def query(self) -> dict[str, str]:
        """The query parameters asking for this page."""
        return {"page": str(self.page), "size": str(self.size)}


def _whole(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        raise DataError(f"{name} must be a whole number from {low} to {high}")
    if len(text) > len(str(high)) or not low <= int(text) <= high:
        raise DataError(f"{name} must be from {low} to {high}")
    return int(text)


def parse_page(page: str | None, size: str | None) -> PageRequest:
    """The page asked for by the raw query values (absent or empty: the defaults)."""
    return PageRequest(
        page=_whole("page", page, 0, 0, MAX_PAGE),
        size=_whole("size", size, DEFAULT_SIZE, 1, MAX_SIZE),
    )


def parse_page_query(query: Mapping[str, str]) -> PageRequest:
    """:func:`parse_page` on a query mapping (``request.query_params``)."""
    return parse_page(query.get("page"), query.get("size"))


def total_pages(total: int, size: int) -> int:
    return -(-total // size) if total else 0


def page_body(
    content: Sequence[Any],
    request: PageRequest,
    total: int,
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The wire body of one page: ``content`` holds this page's items (already in wire
    form), ``total`` the number of items over all pages. ``status`` defaults to 000."""
    count = len(content)
    pages = total_pages(total, request.size)
    return {
        "content": list(content),
        "number": request.page,
        "size": request.size,
        "totalElements": total,
        "totalPages": pages,
        "numberOfElements": count,
        "first": request.page == 0,
        "last": request.page >= pages - 1,
        "empty": count == 0,
        "pageable": {
            "sort": {"sorted": False, "unsorted": True, "empty": True},
            "pageNumber": request.page,
            "pageSize": request.size,
            "offset": request.offset,
            "paged": True,
            "unpaged": False,
        },
        "StatusCode": dict(status)
        if status is not None
        else {"Code": Code.SUCCESS.value, "Description": Code.SUCCESS.description},
    }


def next_page(body: Mapping[str, Any], request: PageRequest) -> PageRequest | None:
    """The page to ask for after ``body`` (an answer to ``request``), or ``None`` when
    it was the last. Trusts ``last`` first, then ``number``/``totalPages``; an empty
    page ends the loop whatever the counters say (a hostile hub cannot keep a client
    paging forever on empty pages)."""
    if body.get("last") is True or not body.get("content"):
        return None
    pages = body.get("totalPages")
    if isinstance(pages, int) and request.page + 1 >= pages:
        return None
    return PageRequest(page=request.page + 1, size=request.size)
