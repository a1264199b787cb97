"""OCPI 2.2.1 Locations wire models (mod_locations.asciidoc §"Object description" and
§"Data types"; digest §5.1).

Field names, lengths and enums follow the spec's tables, which win over its examples
(digest §7.14). Every known field is validated strictly (a number where a string is
expected is refused) and unknown fields are ignored. ``null`` on input reads as absent:
optional fields default to None. The ``*Patch`` models carry every field optional for
the PATCH method (§"PATCH Method"), except ``last_updated``, which a PATCH SHALL contain.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from evroam.ocpi.common.types import URL, CiString, DateTime, String, WireModel
from evroam.ocpi.v2_2_1.credentials.models import BusinessDetails, CountryCode, Image, PartyId
from evroam.ocpi.v2_2_1.types import (
    ConnectorFormat,
    ConnectorType,
    DisplayText,
    EnergyMix,
    GeoLocation,
    PowerType,
    TokenType,
)

Id36 = Annotated[str, CiString(36)]
# §"RegularHours class": local time HH:MM.
HourMinute = Annotated[
    str, StringConstraints(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$", strict=True)
]


class Status(StrEnum):
    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class Capability(StrEnum):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ParkingType(StrEnum):
    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class ParkingRestriction(StrEnum):
    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"


class Facility(StrEnum):
    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class AdditionalGeoLocation(GeoLocation):
    name: DisplayText | None = None


class RegularHours(WireModel):
    weekday: int = Field(ge=1, le=7, strict=True)
    period_begin: HourMinute
    period_end: HourMinute


class ExceptionalPeriod(WireModel):
    period_begin: DateTime
    period_end: DateTime


class Hours(WireModel):
    twentyfourseven: bool = Field(strict=True)
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _hours_given(self) -> Hours:
        # §"Hours class": regular_hours is required when twentyfourseven is false.
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("regular_hours: required when twentyfourseven is false")
        return self


class PublishTokenType(WireModel):
    uid: Id36 | None = None
    type: TokenType | None = None
    visual_number: Annotated[str, String(64)] | None = None
    issuer: Annotated[str, String(64)] | None = None
    group_id: Id36 | None = None

    @model_validator(mode="after")
    def _identifies(self) -> PublishTokenType:
        # §"PublishTokenType class": at least one of uid, visual_number, group_id;
        # uid needs type, visual_number needs issuer.
        if self.uid is None and self.visual_number is None and self.group_id is None:
            raise ValueError("one of uid, visual_number or group_id is required")
        if self.uid is not None and self.type is None:
            raise ValueError("type: required with uid")
        if self.visual_number is not None and self.issuer is None:
            raise ValueError("issuer: required with visual_number")
        return self


class StatusSchedule(WireModel):
    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


def _unique(ids: Iterable[str], what: str) -> None:
    """Ids are CiStrings: ``a`` and ``A`` are the same id."""
    seen: set[str] = set()
    for i in ids:
        if i.upper() in seen:
            raise ValueError(f"{what} {i!r} appears twice")
        seen.add(i.upper())


class Connector(WireModel):
    id: Id36
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: int = Field(strict=True)
    max_amperage: int = Field(strict=True)
    max_electric_power: int | None = Field(default=None, strict=True)
    tariff_ids: list[Id36] | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class ConnectorPatch(WireModel):
    id: Id36 | None = None
    standard: ConnectorType | None = None
    format: ConnectorFormat | None = None
    power_type: PowerType | None = None
    max_voltage: int | None = Field(default=None, strict=True)
    max_amperage: int | None = Field(default=None, strict=True)
    max_electric_power: int | None = Field(default=None, strict=True)
    tariff_ids: list[Id36] | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class EVSE(WireModel):
    uid: Id36
    evse_id: Annotated[str, CiString(48)] | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: list[Connector] = Field(min_length=1)
    floor_level: Annotated[str, String(4)] | None = None
    coordinates: GeoLocation | None = None
    physical_reference: Annotated[str, String(16)] | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _connector_ids_unique(self) -> EVSE:
        # §"Connector Object": the id is unique within its EVSE.
        _unique((c.id for c in self.connectors), "connectors: id")
        return self


class EVSEPatch(WireModel):
    uid: Id36 | None = None
    evse_id: Annotated[str, CiString(48)] | None = None
    status: Status | None = None
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: list[Connector] | None = Field(default=None, min_length=1)
    floor_level: Annotated[str, String(4)] | None = None
    coordinates: GeoLocation | None = None
    physical_reference: Annotated[str, String(16)] | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _connector_ids_unique(self) -> EVSEPatch:
        _unique((c.id for c in self.connectors or ()), "connectors: id")
        return self


class Location(WireModel):
    country_code: CountryCode
    party_id: PartyId
    id: Id36
    publish: bool = Field(strict=True)
    publish_allowed_to: list[PublishTokenType] | None = None
    name: Annotated[str, String(255)] | None = None
    address: Annotated[str, String(45)]
    city: Annotated[str, String(45)]
    postal_code: Annotated[str, String(10)] | None = None
    state: Annotated[str, String(20)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", strict=True)]
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: Annotated[str, String(255)]
    opening_times: Hours | None = None
    charging_when_closed: bool | None = Field(default=None, strict=True)
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _location_rules(self) -> Location:
        # §"Location Object": EVSE uids are unique (per CPO platform, so within a
        # Location too); publish_allowed_to may only be used when publish is false.
        _unique((e.uid for e in self.evses or ()), "evses: uid")
        if self.publish and self.publish_allowed_to:
            raise ValueError("publish_allowed_to: only allowed when publish is false")
        return self


class LocationPatch(WireModel):
    country_code: CountryCode | None = None
    party_id: PartyId | None = None
    id: Id36 | None = None
    publish: bool | None = Field(default=None, strict=True)
    publish_allowed_to: list[PublishTokenType] | None = None
    name: Annotated[str, String(255)] | None = None
    address: Annotated[str, String(45)] | None = None
    city: Annotated[str, String(45)] | None = None
    postal_code: Annotated[str, String(10)] | None = None
    state: Annotated[str, String(20)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", strict=True)] | None = None
    coordinates: GeoLocation | None = None
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: Annotated[str, String(255)] | None = None
    opening_times: Hours | None = None
    charging_when_closed: bool | None = Field(default=None, strict=True)
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _evse_uids_unique(self) -> LocationPatch:
        _unique((e.uid for e in self.evses or ()), "evses: uid")
        return self
