from __future__ import annotations

import pytest

from evroam.ocpi.common.errors import InvalidParameters
from evroam.ocpi.common.pagination import next_link, page_headers, parse_page


def test_defaults() -> None:
    page = parse_page(None, None, None, None)
    assert (page.offset, page.limit, page.date_from, page.date_to) == (0, 100, None, None)


def test_limit_above_maximum_is_capped_not_refused() -> None:
    assert parse_page("0", "5000", None, None, max_limit=1000).limit == 1000


@pytest.mark.parametrize(
    ("offset", "limit", "date_from", "date_to"),
    [
        ("-1", None, None, None),
        (None, "abc", None, None),
        (None, "0", None, None),
        (None, None, "not-a-date", None),
        (None, None, "2020-01-02T00:00:00Z", "2020-01-01T00:00:00Z"),
    ],
)
def test_bad_parameters_are_2001(offset, limit, date_from, date_to) -> None:
    with pytest.raises(InvalidParameters) as exc:
        parse_page(offset, limit, date_from, date_to)
    assert exc.value.status_code == 2001


def test_link_repeats_filters_and_is_absent_on_last_page() -> None:
    page = parse_page("0", "2", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
    headers = page_headers("https://x/ocpi/2.2.1/sender/hubclientinfo", page, 5, 2, 1000)
    assert headers["X-Total-Count"] == "5"
    assert headers["X-Limit"] == "1000"
    url = next_link(headers["Link"])
    assert url is not None
    assert "offset=2" in url and "limit=2" in url
    assert "date_from=2020-01-01T00%3A00%3A00Z" in url and "date_to=" in url
    last = parse_page("4", "2", None, None)
    assert "Link" not in page_headers("https://x/l", last, 5, 1, 1000)


def test_next_link_parses_variants() -> None:
    assert next_link('<https://a/b?offset=1>; rel="next"') == "https://a/b?offset=1"
    assert next_link("<https://a/b>;rel=next") == "https://a/b"
    assert next_link('<https://a/p>; rel="prev", <https://a/n>; rel="next"') == "https://a/n"
    assert next_link(None) is None
    assert next_link('<https://a/p>; rel="prev"') is None


def test_the_next_link_carries_a_cursor_and_the_cursor_is_read_back() -> None:
    """Keyset paging: the Link names the last row served, so the next page is found by key
    rather than by skipping ``offset`` rows again; offset stays for X-Total-Count users."""
    from evroam.ocpi.common.pagination import page_headers, parse_page

    page = parse_page("0", "2", None, None)
    headers = page_headers("https://n/ocpi/2.2.1/sender/locations", page, 5, 2, 1000, 41)
    assert "offset=2" in headers["Link"] and "cursor=41" in headers["Link"]
    again = parse_page("2", "2", None, None, cursor="41")
    assert again.after == 41 and again.offset == 2
    assert parse_page("0", "2", None, None).after is None
    import pytest

    from evroam.ocpi.common.errors import InvalidParameters

    with pytest.raises(InvalidParameters):
        parse_page("0", "2", None, None, cursor="-3")
    with pytest.raises(InvalidParameters):
        parse_page("0", "2", None, None, cursor="x")
