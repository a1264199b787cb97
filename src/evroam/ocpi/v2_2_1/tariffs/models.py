"""OCPI 2.2.1 Tariffs wire models (mod_tariffs.asciidoc §"Object description", §"Data
types"), under the spec's names and limits.

Why each choice:

* Numbers (``price``, ``vat``, ``Price.excl_vat``, the restriction bounds) are JSON
  numbers kept as the type they arrived as: an integer stays an integer and ``0.25``
  stays the float ``0.25`` (Python writes floats back in their shortest form), so the
  stored document says what the CPO sent, never a string (pydantic's ``Decimal`` would
  serialise to ``"0.25"``). Booleans and numeric strings are refused (a wrong type,
  issue 7 "Bad input"); NaN and infinities are refused (they are not JSON).
* Integers (``step_size``, ``min_duration``, ``max_duration``) are strict: ``1.5`` or
  ``"60"`` is a wrong type.
* There is no ``TariffPatch``: 2.2.1 removed PATCH from the Tariffs Receiver (the
  method table says "PATCH n/a"); a change is a PUT of the whole Tariff.
* ``TariffType`` stays a closed enum: 2.2.1's table lists it as an enum (2.3.0's list
  of OpenEnums does not include it), so an unknown value is an invalid enum (2001).
* ``EnergyMix``, ``DisplayText``, ``Price`` and ``Number`` are shared 2.2.1 wire types
  (``v2_2_1/types.py``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, StringConstraints

from evroam.ocpi.common.types import URL, CiString, DateTime, WireModel
from evroam.ocpi.v2_2_1.credentials.models import CountryCode, PartyId
from evroam.ocpi.v2_2_1.types import (
    Currency,
    DisplayText,
    EnergyMix,
    Number,
    Price,
)

StrictInt = Annotated[int, Strict()]

TariffId = Annotated[str, CiString(36), Field(min_length=1)]


def _real_date(value: str) -> str:
    date.fromisoformat(value)  # ValueError names a month 13 or a 30 February
    return value


# TariffRestrictions.start_time/end_time: string(5) "HH:MM", 24 h with leading zeros.
TimeOfDay = Annotated[
    str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", strict=True)
]
# TariffRestrictions.start_date/end_date: string(10) "YYYY-MM-DD", a real calendar day.
LocalDate = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", strict=True),
    AfterValidator(_real_date),
]


class TariffType(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class TariffDimensionType(StrEnum):
    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class PriceComponent(WireModel):
    """mod_tariffs §"PriceComponent class". ``vat`` absent means no VAT applies, which
    differs from 0 %: absent stays absent."""

    type: TariffDimensionType
    price: Number
    vat: Number | None = None
    step_size: Annotated[int, Strict(), Field(ge=0)]


class TariffRestrictions(WireModel):
    """mod_tariffs §"TariffRestrictions class": every field optional, all ANDed."""

    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: LocalDate | None = None
    end_date: LocalDate | None = None
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: StrictInt | None = None
    max_duration: StrictInt | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(WireModel):
    """mod_tariffs §"TariffElement class": at least one PriceComponent (card. +)."""

    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None


class Tariff(WireModel):
    """mod_tariffs §"Tariff Object". ``elements`` has card. + (at least one)."""

    country_code: CountryCode
    party_id: PartyId
    id: TariffId
    currency: Currency
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[list[TariffElement], Field(min_length=1)]
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime
