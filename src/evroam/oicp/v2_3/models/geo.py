"""``GeoCoordinates`` in OICP's three notations, and conversions between them (CPO/EMP
data types "GeoCoordinatesType" and its format types; digest §4, §8.2, §8.5).

* ``Google``: one string, **latitude first**, then longitude (``"47.662249 9.360922"``);
  swapped pairs are a common partner mistake, and nothing in the text can reveal it.
* ``DecimalDegree``: ``Longitude`` and ``Latitude`` as strings with a decimal point and at
  most six decimals.
* ``DegreeMinuteSeconds``: ``9°21'39.32''`` (two apostrophes for the seconds).

An object holds exactly one notation (Hubject's examples fill all three at once; a real
record carries one, digest §8.5). A PullEvseData names the notation the hub must answer
in (``GeoCoordinatesResponseFormat``): :meth:`GeoCoordinates.in_notation`.

Values travel as text and are converted through :class:`~decimal.Decimal`, so a
Google/DecimalDegree conversion keeps the digits it was given; out-of-range values
(latitude beyond ±90, longitude beyond ±180) are refused even where the published
patterns let them pass.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, model_validator

from evroam.oicp.v2_3.models.common import WireModel

# The published patterns with ``[0-9]`` for ``\d`` and ``[ \t]`` for ``\s`` (the Rust
# engine's ``\d`` and ``\s`` are Unicode-aware).
_DECIMAL = r"-?1?[0-9]{1,2}\.[0-9]{1,6}"
GOOGLE_PATTERN = rf"^{_DECIMAL}[ \t]*,?[ \t]*{_DECIMAL}$"
DECIMAL_DEGREE_PATTERN = rf"^{_DECIMAL}$"
DMS_PATTERN = r"^-?1?[0-9]{1,2}°[ ]?[0-9]{1,2}'[ ]?[0-9]{1,2}\.[0-9]+''$"

SIX_PLACES = Decimal("0.000001")


class Notation(StrEnum):
    """``GeoCoordinatesResponseFormat``."""

    GOOGLE = "Google"
    DEGREE_MINUTE_SECONDS = "DegreeMinuteSeconds"
    DECIMAL_DEGREE = "DecimalDegree"


class GoogleCoordinates(WireModel):
    Coordinates: Annotated[str, StringConstraints(strict=True, pattern=GOOGLE_PATTERN)]


_DecimalText = Annotated[str, StringConstraints(strict=True, pattern=DECIMAL_DEGREE_PATTERN)]
_DmsText = Annotated[str, StringConstraints(strict=True, pattern=DMS_PATTERN)]


class DecimalDegreeCoordinates(WireModel):
    Longitude: _DecimalText
    Latitude: _DecimalText


class DegreeMinuteSecondsCoordinates(WireModel):
    Longitude: _DmsText
    Latitude: _DmsText


GoogleType = GoogleCoordinates
DecimalDegreeType = DecimalDegreeCoordinates
DegreeMinuteSecondsType = DegreeMinuteSecondsCoordinates


def _split_google(text: str) -> tuple[str, str]:
    cleaned = text.replace(",", " ").split()
    return cleaned[0], cleaned[1]


def dms_to_decimal(text: str) -> Decimal:
    """``9°21'39.32''`` → ``Decimal('9.360922')`` (six places)."""
    negative = text.startswith("-")
    degrees, rest = text.lstrip("-").split("°")
    minutes, rest = rest.split("'", 1)
    seconds = rest.strip().removesuffix("''")
    value = Decimal(degrees) + Decimal(minutes.strip()) / 60 + Decimal(seconds) / 3600
    value = value.quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)
    return -value if negative else value


def decimal_to_dms(value: Decimal) -> str:
    """``Decimal('9.360922')`` → ``9°21'39.3192''``: seconds to four decimals (3 mm),
    so a six-decimal position survives the round trip through this notation."""
    negative = value < 0
    units = int((abs(value) * 36_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    degrees, rest = divmod(units, 36_000_000)
    minutes, rest = divmod(rest, 600_000)
    seconds, fraction = divmod(rest, 10_000)
    sign = "-" if negative and units else ""
    return f"{sign}{degrees}°{minutes}'{seconds}.{fraction:04d}''"


def decimal_text(value: Decimal) -> str:
    """A decimal as DecimalDegree text: a point and 1..6 decimals, digits kept where
    they fit (``Decimal('52.480495')`` stays ``52.480495``, ``9`` becomes ``9.0``)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -6:
        value = value.quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)
    elif exponent >= 0:
        value = value.quantize(Decimal("0.1"))
    text = format(value, "f")
    return "0.0" if text in ("-0.0", "-0.000000") else text


class GeoCoordinates(WireModel):
    """Exactly one of the three notations."""

    Google: GoogleType | None = None
    DecimalDegree: DecimalDegreeType | None = None
    DegreeMinuteSeconds: DegreeMinuteSecondsType | None = None

    @model_validator(mode="after")
    def _one_notation_in_range(self) -> GeoCoordinates:
        given = sum(
            x is not None for x in (self.Google, self.DecimalDegree, self.DegreeMinuteSeconds)
        )
        if given != 1:
            raise ValueError(
                "GeoCoordinates must hold exactly one of Google, DecimalDegree, "
                f"DegreeMinuteSeconds; got {given}"
            )
        latitude, longitude = self.lat_lon()
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError("latitude must be within ±90 and longitude within ±180")
        return self

    @property
    def notation(self) -> Notation:
        if self.Google is not None:
            return Notation.GOOGLE
        if self.DecimalDegree is not None:
            return Notation.DECIMAL_DEGREE
        return Notation.DEGREE_MINUTE_SECONDS

    def lat_lon(self) -> tuple[Decimal, Decimal]:
        """(latitude, longitude) as decimals, whatever the notation."""
        if self.Google is not None:
            latitude, longitude = _split_google(self.Google.Coordinates)
            return Decimal(latitude), Decimal(longitude)
        if self.DecimalDegree is not None:
            return Decimal(self.DecimalDegree.Latitude), Decimal(self.DecimalDegree.Longitude)
        assert self.DegreeMinuteSeconds is not None
        return (
            dms_to_decimal(self.DegreeMinuteSeconds.Latitude),
            dms_to_decimal(self.DegreeMinuteSeconds.Longitude),
        )

    def to_floats(self) -> tuple[float, float]:
        """(latitude, longitude) as floats, for distance computations."""
        latitude, longitude = self.lat_lon()
        return float(latitude), float(longitude)

    @classmethod
    def from_lat_lon(
        cls,
        latitude: Decimal | float,
        longitude: Decimal | float,
        notation: Notation = Notation.DECIMAL_DEGREE,
    ) -> GeoCoordinates:
        """The position in ``notation`` (floats are taken by their shortest text)."""
        lat = latitude if isinstance(latitude, Decimal) else Decimal(repr(float(latitude)))
        lon = longitude if isinstance(longitude, Decimal) else Decimal(repr(float(longitude)))
        if notation is Notation.GOOGLE:
            return cls(
                Google=GoogleCoordinates(Coordinates=f"{decimal_text(lat)} {decimal_text(lon)}")
            )
        if notation is Notation.DECIMAL_DEGREE:
            return cls(
                DecimalDegree=DecimalDegreeCoordinates(
                    Longitude=decimal_text(lon), Latitude=decimal_text(lat)
                )
            )
        return cls(
            DegreeMinuteSeconds=DegreeMinuteSecondsCoordinates(
                Longitude=decimal_to_dms(lon), Latitude=decimal_to_dms(lat)
            )
        )

    def in_notation(self, notation: Notation) -> GeoCoordinates:
        """The same position in ``notation``; itself when already in it."""
        if notation is self.notation:
            return self
        latitude, longitude = self.lat_lon()
        return GeoCoordinates.from_lat_lon(latitude, longitude, notation)
