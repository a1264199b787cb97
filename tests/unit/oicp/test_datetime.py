"""The OICP date-time keeps the text it was given (digest §4, §8.9) and offers the aware
datetime for comparisons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from evroam.oicp.v2_3.models.cdr import GetChargeDetailRecordsRequest
from evroam.oicp.v2_3.models.common import DateTime

TEXTS = [
    "2020-09-23T14:17:53.038Z",
    "2014-02-01T15:45:00+02:00",
    "2020-09-23T14:17:53.0380+00:00",
    "2020-09-23T14:17:53-05:30",
    "2020-09-23T14:17:53.123456789Z",
]


@pytest.mark.parametrize("text", TEXTS)
def test_date_time_round_trips_byte_for_byte(text: str) -> None:
    body = {"ProviderID": "DE-8EO", "From": text, "To": text}
    parsed = GetChargeDetailRecordsRequest.model_validate_json(json.dumps(body))
    assert parsed.to_json() == json.dumps(body, separators=(",", ":")).encode()
    assert parsed.to_wire()["From"] == text


def test_value_is_aware_and_compares_across_offsets() -> None:
    z = DateTime("2020-09-23T14:17:53.038Z")
    plus2 = DateTime("2020-09-23T16:17:53.038+02:00")
    assert z.value.tzinfo is not None
    assert z.value == plus2.value
    assert z != plus2  # different text, the same instant
    assert plus2.value.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    "text",
    [
        "2020-09-23T14:17:53",  # no offset
        "2020-09-23 14:17:53Z",  # no T
        "2020-09-23T14:17Z",  # no seconds
        "2020-09-23T14:17:53+0200",  # offset without colon
        "2020-13-23T14:17:53Z",  # month 13
        "2020-09-23T14:17:53.Z",
        "2020-09-23T14:17:5\u0663Z",  # a non-ASCII digit
        "",
    ],
)
def test_date_time_without_offset_or_malformed_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        GetChargeDetailRecordsRequest.model_validate(
            {"ProviderID": "DE-8EO", "From": text, "To": "2020-09-23T14:17:53Z"}
        )


def test_a_number_is_not_a_date_time() -> None:
    with pytest.raises(ValidationError):
        GetChargeDetailRecordsRequest.model_validate(
            {"ProviderID": "DE-8EO", "From": 1600870673, "To": "2020-09-23T14:17:53Z"}
        )


def test_of_an_aware_datetime() -> None:
    assert DateTime.of(datetime(2020, 9, 23, 14, 17, 53, 38000, tzinfo=UTC)).text == (
        "2020-09-23T14:17:53.038Z"
    )
    plus2 = timezone(timedelta(hours=2))
    assert DateTime.of(datetime(2014, 2, 1, 15, 45, tzinfo=plus2)).text == (
        "2014-02-01T15:45:00.000+02:00"
    )
    with pytest.raises(ValueError):
        DateTime.of(datetime(2014, 2, 1, 15, 45))
