"""Spring paging (digest §5): page/size defaults, bounds, refusals (022) and the body."""

from __future__ import annotations

import pytest

from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.errors import DataError
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecordPage
from evroam.oicp.v2_3.pages import (
    DEFAULT_SIZE,
    MAX_SIZE,
    PageRequest,
    next_page,
    page_body,
    parse_page,
    parse_page_query,
)


def test_defaults_are_page_zero_size_twenty() -> None:
    assert parse_page(None, None) == PageRequest(0, 20)
    assert parse_page("", " ") == PageRequest(0, DEFAULT_SIZE)
    assert parse_page_query({"page": "3", "size": "1500", "sort": "EvseID,desc"}) == PageRequest(
        3, 1500
    )


def test_bounds_are_inclusive() -> None:
    assert parse_page("0", "1") == PageRequest(0, 1)
    assert parse_page("7", str(MAX_SIZE)) == PageRequest(7, 2000)


@pytest.mark.parametrize(
    "page, size",
    [
        ("-1", None),
        (None, "0"),
        (None, "2001"),
        ("1.5", None),
        ("one", None),
        (None, "20abc"),
        ("\u0663", None),  # a non-ASCII digit
        (None, "9" * 40),
        ("99999999999", None),
    ],
)
def test_bad_values_are_data_error_022(page: str | None, size: str | None) -> None:
    with pytest.raises(DataError) as caught:
        parse_page(page, size)
    assert caught.value.code is Code.DATA_ERROR
    assert caught.value.http_status == 200


def test_body_of_a_middle_page() -> None:
    body = page_body(["a", "b"], PageRequest(1, 2), total=5)
    assert body == {
        "content": ["a", "b"],
        "number": 1,
        "size": 2,
        "totalElements": 5,
        "totalPages": 3,
        "numberOfElements": 2,
        "first": False,
        "last": False,
        "empty": False,
        "pageable": {
            "sort": {"sorted": False, "unsorted": True, "empty": True},
            "pageNumber": 1,
            "pageSize": 2,
            "offset": 2,
            "paged": True,
            "unpaged": False,
        },
        "StatusCode": {"Code": "000", "Description": "Success"},
    }
    assert next_page(body, PageRequest(1, 2)) == PageRequest(2, 2)


def test_last_and_empty_pages() -> None:
    last = page_body(["e"], PageRequest(2, 2), total=5)
    assert (last["first"], last["last"], last["totalPages"]) == (False, True, 3)
    assert next_page(last, PageRequest(2, 2)) is None
    empty = page_body([], PageRequest(0, 20), total=0)
    assert (empty["first"], empty["last"], empty["empty"], empty["totalPages"]) == (
        True,
        True,
        True,
        0,
    )


def test_an_empty_page_ends_a_client_loop_whatever_the_counters() -> None:
    lying = {"content": [], "last": False, "totalPages": 1000}
    assert next_page(lying, PageRequest(0, 20)) is None


def test_the_body_parses_as_a_page_model() -> None:
    page = ChargeDetailRecordPage.model_validate(page_body([], PageRequest(0, 20), total=0))
    assert page.content == [] and page.last and page.StatusCode.Code == "000"
