from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evroam.ocpi.common.timeutil import format_datetime, parse_datetime


@pytest.mark.parametrize(
    "text",
    [
        "2015-06-29T20:39:09Z",
        "2015-06-29T20:39:09",
        "2015-06-29T20:39:09+00:00",
        "2015-06-29T22:39:09+02:00",
    ],
)
def test_parse_accepts_spec_forms_and_converts_to_utc(text: str) -> None:
    assert parse_datetime(text) == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)


def test_parse_keeps_fractions() -> None:
    assert parse_datetime("2016-12-29T17:45:09.2Z").microsecond == 200000


@pytest.mark.parametrize("text", ["yesterday", "2015-06-29", "2015-13-01T00:00:00Z", ""])
def test_parse_rejects_non_rfc3339(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_format_is_utc_with_z() -> None:
    assert format_datetime(datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2020-01-02T03:04:05Z"
    assert (
        format_datetime(datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=UTC))
        == "2020-01-02T03:04:05.123Z"
    )
