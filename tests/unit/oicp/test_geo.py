"""GeoCoordinates: one notation, conversions between the three, Google's latitude-first
order (digest §4, §8.2, §8.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from evroam.oicp.v2_3.models.geo import (
    GeoCoordinates,
    Notation,
    decimal_to_dms,
    dms_to_decimal,
)

BERLIN = {"Google": {"Coordinates": "52.480495 13.356465"}}


def test_google_is_latitude_then_longitude() -> None:
    geo = GeoCoordinates.model_validate(BERLIN)
    assert geo.lat_lon() == (Decimal("52.480495"), Decimal("13.356465"))
    assert geo.to_floats() == (52.480495, 13.356465)
    dd = geo.in_notation(Notation.DECIMAL_DEGREE)
    assert dd.DecimalDegree is not None
    assert (dd.DecimalDegree.Latitude, dd.DecimalDegree.Longitude) == ("52.480495", "13.356465")


def test_google_accepts_a_comma_and_spaces() -> None:
    geo = GeoCoordinates.model_validate({"Google": {"Coordinates": "-33.868820, 151.209296"}})
    assert geo.lat_lon() == (Decimal("-33.868820"), Decimal("151.209296"))


def test_decimal_degree_to_google_keeps_the_digits() -> None:
    geo = GeoCoordinates.model_validate(
        {"DecimalDegree": {"Longitude": "9.360922", "Latitude": "47.662249"}}
    )
    google = geo.in_notation(Notation.GOOGLE)
    assert google.to_wire() == {"Google": {"Coordinates": "47.662249 9.360922"}}


def test_degree_minute_seconds_both_ways() -> None:
    assert dms_to_decimal("9°21'39.32''") == Decimal("9.360922")
    assert dms_to_decimal("-21°34'23.16''") == Decimal("-21.573100")
    assert decimal_to_dms(Decimal("9.360922")) == "9°21'39.3192''"
    assert decimal_to_dms(Decimal("-21.5731")) == "-21°34'23.1600''"
    # Rounding that carries into the degrees.
    assert decimal_to_dms(Decimal("10.99999999999")) == "11°0'0.0000''"
    geo = GeoCoordinates.model_validate(BERLIN).in_notation(Notation.DEGREE_MINUTE_SECONDS)
    back = GeoCoordinates.model_validate(geo.to_wire()).in_notation(Notation.GOOGLE)
    assert back.to_wire() == BERLIN


def test_from_floats_in_every_notation() -> None:
    for notation in Notation:
        geo = GeoCoordinates.from_lat_lon(47.662249, 9.360922, notation)
        assert geo.notation is notation
        latitude, longitude = geo.to_floats()
        assert abs(latitude - 47.662249) < 1e-5 and abs(longitude - 9.360922) < 1e-5
    whole = GeoCoordinates.from_lat_lon(Decimal(10), Decimal(-5), Notation.DECIMAL_DEGREE)
    assert whole.to_wire() == {"DecimalDegree": {"Longitude": "-5.0", "Latitude": "10.0"}}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {**BERLIN, "DecimalDegree": {"Longitude": "13.356465", "Latitude": "52.480495"}},
        {"Google": {"Coordinates": "52.480495"}},
        {"Google": {"Coordinates": "52 13"}},
        {"DecimalDegree": {"Longitude": 13.356465, "Latitude": 52.480495}},  # numbers
        {"DecimalDegree": {"Longitude": "13.3564651", "Latitude": "52.480495"}},  # 7 decimals
        {"DecimalDegree": {"Longitude": "13.356465", "Latitude": "95.0"}},  # beyond ±90
        {"DecimalDegree": {"Longitude": "181.0", "Latitude": "52.0"}},
        {"DegreeMinuteSeconds": {"Longitude": "9°21'39''", "Latitude": "9°21'39.32''"}},
        {"Google": {"Coordinates": "52.480495 1\u0663.356465"}},  # a non-ASCII digit
    ],
)
def test_malformed_or_ambiguous_coordinates_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GeoCoordinates.model_validate(body)


def test_null_notations_read_as_absent() -> None:
    geo = GeoCoordinates.model_validate({**BERLIN, "DecimalDegree": None})
    assert geo.notation is Notation.GOOGLE
    assert geo.to_wire() == BERLIN
