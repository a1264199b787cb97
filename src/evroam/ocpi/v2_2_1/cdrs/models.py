"""OCPI 2.2.1 CDRs wire models (mod_cdrs.asciidoc §"Object description", §"Data types").

CDRs never change after they were sent (mod_cdrs §"Flow and Lifecycle"), so there is no
``CDRPatch``: a correction is a Credit CDR with a new id (§"Credit CDRs"). Embedded
tariffs are validated by this module's own :class:`Tariff` (mod_tariffs §"Tariff
Object", the 2.2.1 fields only): a CDR carries the tariffs as they were at session
start, and one module folder does not import another's models.

Two CDR shapes: :class:`CDR` is what evroam itself sends (every field as the tables
say), :class:`ReceivedCDR` what a Receiver accepts: the same, except that the
``cdr_token`` may lack ``country_code``/``party_id``. Those two fields were added in
2.2.1 and the spec's own CDR example (and CPOs built on 2.2) omits them; refusing a CDR
loses a bill, since OCPI has no retries (transport_and_format §"No queuing").
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from evroam.ocpi.common.types import URL, CiString, DateTime, String, WireModel

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", strict=True)]
PartyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{3}$", strict=True)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", strict=True)]
# JSON number (types §"number"): a string or NaN is a wrong type, an int is a number.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Int = Annotated[int, Field(strict=True)]
Bool = Annotated[bool, Field(strict=True)]
# mod_locations §"GeoLocation class": decimal degrees with 5 to 7 decimals.
Latitude = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$", strict=True)]
Longitude = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$", strict=True)]


class AuthMethod(StrEnum):
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


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class ConnectorType(StrEnum):
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
    SOCKET = "SOCKET"
    CABLE = "CABLE"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


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


class Price(WireModel):
    """types §"Price class" (2.2.1): amounts may be negative in a Credit CDR."""

    excl_vat: Number
    incl_vat: Number | None = None


class DisplayText(WireModel):
    language: Annotated[str, String(2)]
    text: Annotated[str, String(512)]


class GeoLocation(WireModel):
    latitude: Latitude
    longitude: Longitude

    @model_validator(mode="after")
    def _in_range(self) -> GeoLocation:
        if not -90 <= float(self.latitude) <= 90:
            raise ValueError(f"latitude {self.latitude} is outside -90..90")
        if not -180 <= float(self.longitude) <= 180:
            raise ValueError(f"longitude {self.longitude} is outside -180..180")
        return self


class PriceComponent(WireModel):
    type: TariffDimensionType
    price: Number
    vat: Number | None = None
    step_size: Int


TimeOfDay = Annotated[str, StringConstraints(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]
Date = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class TariffRestrictions(WireModel):
    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: Int | None = None
    max_duration: Int | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(WireModel):
    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None


class EnergySource(WireModel):
    source: Annotated[str, String(64)]
    percentage: Number


class EnvironmentalImpact(WireModel):
    category: Annotated[str, String(64)]
    amount: Number


class EnergyMix(WireModel):
    """mod_locations §"EnergyMix class"; ``source``/``category`` enums are kept as text:
    this only rides along inside a CDR's tariff."""

    is_green_energy: Bool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: Annotated[str, String(64)] | None = None
    energy_product_name: Annotated[str, String(64)] | None = None


class Tariff(WireModel):
    """A tariff as embedded in a CDR (mod_tariffs §"Tariff Object")."""

    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, CiString(36)]
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


class ReceivedCdrToken(WireModel):
    """A CdrToken as a Receiver accepts it: without ``country_code``/``party_id`` too
    (the module docstring says why); stored and served back as it came."""

    country_code: CountryCode | None = None
    party_id: PartyId | None = None
    uid: Annotated[str, CiString(36)]
    type: TokenType
    contract_id: Annotated[str, CiString(36)]


class CdrToken(ReceivedCdrToken):
    """mod_cdrs §"CdrToken class": the token's owner (the eMSP), then the token."""

    country_code: CountryCode
    party_id: PartyId


class CdrLocation(WireModel):
    id: Annotated[str, CiString(36)]
    name: Annotated[str, String(255)] | None = None
    address: Annotated[str, String(45)]
    city: Annotated[str, String(45)]
    postal_code: Annotated[str, String(10)] | None = None
    state: Annotated[str, String(20)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", strict=True)]
    coordinates: GeoLocation
    evse_uid: Annotated[str, CiString(36)]
    evse_id: Annotated[str, CiString(48)]
    connector_id: Annotated[str, CiString(36)]
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class CdrDimension(WireModel):
    type: CdrDimensionType
    volume: Number


class ChargingPeriod(WireModel):
    start_date_time: DateTime
    dimensions: Annotated[list[CdrDimension], Field(min_length=1)]
    tariff_id: Annotated[str, CiString(36)] | None = None


class SignedValue(WireModel):
    nature: Annotated[str, CiString(32)]
    plain_data: Annotated[str, String(512)]
    signed_data: Annotated[str, String(5000)]


class SignedData(WireModel):
    encoding_method: Annotated[str, CiString(36)]
    encoding_method_version: Int | None = None
    public_key: Annotated[str, String(512)] | None = None
    signed_values: Annotated[list[SignedValue], Field(min_length=1)]
    url: Annotated[str, String(512)] | None = None


class ReceivedCDR(WireModel):
    """mod_cdrs §"CDR Object", as a Receiver accepts it (see :class:`ReceivedCdrToken`).

    ``id`` is CiString(39) so that a Credit CDR can append to the original id; a normal
    CDR's id stays within 36, and a Credit CDR names the CDR it credits
    (``credit_reference_id``)."""

    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, CiString(39), StringConstraints(min_length=1)]
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: Annotated[str, CiString(36)] | None = None
    cdr_token: ReceivedCdrToken
    auth_method: AuthMethod
    authorization_reference: Annotated[str, CiString(36)] | None = None
    cdr_location: CdrLocation
    meter_id: Annotated[str, String(255)] | None = None
    currency: Currency
    tariffs: list[Tariff] | None = None
    charging_periods: Annotated[list[ChargingPeriod], Field(min_length=1)]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Number
    total_energy_cost: Price | None = None
    total_time: Number
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: Annotated[str, String(255)] | None = None
    invoice_reference_id: Annotated[str, CiString(39)] | None = None
    credit: Bool | None = None
    credit_reference_id: Annotated[str, CiString(39)] | None = None
    home_charging_compensation: Bool | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _credit_rules(self) -> ReceivedCDR:
        if not self.credit and len(self.id) > 36:
            raise ValueError(
                "id: at most 36 characters unless credit is true (only a Credit CDR may use 39)"
            )
        if self.credit and not self.credit_reference_id:
            raise ValueError("credit_reference_id is required when credit is true")
        return self


class CDR(ReceivedCDR):
    """A CDR as evroam sends it: every field the tables require, the token's owner too."""

    cdr_token: CdrToken
