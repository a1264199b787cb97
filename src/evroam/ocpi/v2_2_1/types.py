"""Wire types several OCPI 2.2.1 modules share, defined once.

Each comes from the spec's types.asciidoc or from the module that defines it (named in
its docstring) and is imported by every module that uses it; one version's package
never imports another version's. Field names, lengths and enums are the spec tables'.

Numbers: :data:`Number` (types §"number") keeps a JSON number as the type it arrived as,
so an integer stays an integer in the stored document; booleans, numeric strings, NaN
and infinities are refused.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AllowInfNan, Field, Strict, StringConstraints, field_validator

from evroam.ocpi.common.types import CiString, DateTime, String, WireModel

# types §"number": an int or a float exactly as sent, never a bool/string, never NaN.
Number = Annotated[int, Strict()] | Annotated[float, Strict(), AllowInfNan(False)]
# A JSON number read as a float (an int is accepted and becomes a float).
FloatNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
# types §"string(3)" currency: ISO 4217.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", strict=True)]
# types §"DisplayText class": ISO 639-1 language code.
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", strict=True)]
# mod_locations §"GeoLocation class": decimal degrees, string(10) / string(11).
Latitude = Annotated[
    str, StringConstraints(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$", strict=True)
]
Longitude = Annotated[
    str, StringConstraints(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$", strict=True)
]
# mod_locations §"EnergySource class": percentage 0-100; §"EnvironmentalImpact class".
Percentage = (
    Annotated[int, Strict(), Field(ge=0, le=100)]
    | Annotated[float, Strict(), AllowInfNan(False), Field(ge=0, le=100)]
)
NonNegative = (
    Annotated[int, Strict(), Field(ge=0)]
    | Annotated[float, Strict(), AllowInfNan(False), Field(ge=0)]
)


class TokenType(StrEnum):
    """mod_tokens §"TokenType enum" (a closed enum in 2.2.1; 2.3.0 opens it)."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class ProfileType(StrEnum):
    """mod_sessions §"ProfileType enum" (also Token.default_profile_type)."""

    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class AuthMethod(StrEnum):
    """mod_cdrs §"AuthMethod enum"."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    """mod_cdrs §"CdrDimensionType enum"; CURRENT, ENERGY_EXPORT, ENERGY_IMPORT, POWER and
    STATE_OF_CHARGE are "Session only" but part of the one enum, so they are accepted."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class ConnectorType(StrEnum):
    """mod_locations §"ConnectorType enum" (also CdrLocation.connector_standard)."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class ConnectorFormat(StrEnum):
    """mod_locations §"ConnectorFormat enum"."""

    SOCKET = "SOCKET"
    CABLE = "CABLE"


class PowerType(StrEnum):
    """mod_locations §"PowerType enum"."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class EnergySourceCategory(StrEnum):
    """mod_locations §"EnergySourceCategory enum"."""

    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    """mod_locations §"EnvironmentalImpactCategory enum"."""

    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class DisplayText(WireModel):
    """types §"DisplayText class": ISO 639-1 language, text string(512) without markup."""

    language: LanguageCode
    text: Annotated[str, String(512)]


class Price(WireModel):
    """types §"Price class" (2.2.1 shape: excl_vat required, incl_vat optional; 2.3.0's
    before_taxes/taxes is another wire). Amounts may be negative in a Credit CDR."""

    excl_vat: Number
    incl_vat: Number | None = None


class GeoLocation(WireModel):
    """mod_locations §"GeoLocation class" (also CdrLocation.coordinates)."""

    latitude: Latitude
    longitude: Longitude

    @field_validator("latitude")
    @classmethod
    def _latitude_range(cls, v: str) -> str:
        if abs(float(v)) > 90:
            raise ValueError("latitude must be within -90 and 90")
        return v

    @field_validator("longitude")
    @classmethod
    def _longitude_range(cls, v: str) -> str:
        if abs(float(v)) > 180:
            raise ValueError("longitude must be within -180 and 180")
        return v


class EnergySource(WireModel):
    """mod_locations §"EnergySource class"."""

    source: EnergySourceCategory
    percentage: Percentage


class EnvironmentalImpact(WireModel):
    """mod_locations §"EnvironmentalImpact class" (amount in g/kWh)."""

    category: EnvironmentalImpactCategory
    amount: NonNegative


class EnergyMix(WireModel):
    """mod_locations §"EnergyMix class" (Location.energy_mix, Tariff.energy_mix)."""

    is_green_energy: Annotated[bool, Strict()]
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: Annotated[str, String(64)] | None = None
    energy_product_name: Annotated[str, String(64)] | None = None


class CdrDimension(WireModel):
    """mod_cdrs §"CdrDimension class" (Session and CDR charging periods)."""

    type: CdrDimensionType
    volume: FloatNumber


class ChargingPeriod(WireModel):
    """mod_cdrs §"ChargingPeriod class": at least one dimension."""

    start_date_time: DateTime
    dimensions: Annotated[list[CdrDimension], Field(min_length=1)]
    tariff_id: Annotated[str, CiString(36)] | None = None
