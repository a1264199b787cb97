"""``EvseDataRecord``: the static (POI) data of one charging point, and its parts (CPO
data types "EvseDataRecordType", "AddressIso19773Type", "ChargingFacilityType",
"OpeningTimesType"; digest §1.3 row 10).

Spellings: ``ChargingStationId`` is the schema's name in both OpenAPI files and in the
CPO data types; the CPO file's example and the EMP data types write
``ChargingStationID`` (NOTES.md D4). Both are read, ``ChargingStationId`` is emitted.

OICP 2.3 refuses ``Unspecified`` for plugs, accessibility and power type; older data
pulled in 2.3 shows ``null`` there (digest §1.3), which reads as absent and is then
refused where the field is mandatory. ``DynamicInfoAvailable`` is a *string* enum, not
a JSON boolean. ``OpeningTimes`` is mandatory only when ``IsOpen24Hours`` is false: the
POI check (:mod:`evroam.oicp.v2_3.poi`) reports it, the model does not refuse it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, Field, StringConstraints

from evroam.oicp.v2_3.models.common import (
    Bool,
    ChargingPoolIDType,
    CountryCodeType,
    DateTime,
    EvseIDType,
    HourMinuteType,
    InfoText,
    Number,
    OperatorIDType,
    PhoneNumberType,
    WireModel,
    text,
)
from evroam.oicp.v2_3.models.geo import GeoCoordinates


class DeltaType(StrEnum):
    UPDATE = "update"
    INSERT = "insert"
    DELETE = "delete"


class Plug(StrEnum):
    SMALL_PADDLE_INDUCTIVE = "Small Paddle Inductive"
    LARGE_PADDLE_INDUCTIVE = "Large Paddle Inductive"
    AVCON_CONNECTOR = "AVCON Connector"
    TESLA_CONNECTOR = "Tesla Connector"
    NEMA_5_20 = "NEMA 5-20"
    TYPE_E_FRENCH_STANDARD = "Type E French Standard"
    TYPE_F_SCHUKO = "Type F Schuko"
    TYPE_G_BRITISH_STANDARD = "Type G British Standard"
    TYPE_J_SWISS_STANDARD = "Type J Swiss Standard"
    TYPE_1_CONNECTOR_CABLE_ATTACHED = "Type 1 Connector (Cable Attached)"
    TYPE_2_OUTLET = "Type 2 Outlet"
    TYPE_2_CONNECTOR_CABLE_ATTACHED = "Type 2 Connector (Cable Attached)"
    TYPE_3_OUTLET = "Type 3 Outlet"
    IEC_60309_SINGLE_PHASE = "IEC 60309 Single Phase"
    IEC_60309_THREE_PHASE = "IEC 60309 Three Phase"
    CCS_COMBO_2_PLUG_CABLE_ATTACHED = "CCS Combo 2 Plug (Cable Attached)"
    CCS_COMBO_1_PLUG_CABLE_ATTACHED = "CCS Combo 1 Plug (Cable Attached)"
    CHADEMO = "CHAdeMO"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class ChargingMode(StrEnum):
    MODE_1 = "Mode_1"
    MODE_2 = "Mode_2"
    MODE_3 = "Mode_3"
    MODE_4 = "Mode_4"
    CHADEMO = "CHAdeMO"


class EnergyType(StrEnum):
    SOLAR = "Solar"
    WIND = "Wind"
    HYDRO_POWER = "HydroPower"
    GEOTHERMAL_ENERGY = "GeothermalEnergy"
    BIOMASS = "Biomass"
    COAL = "Coal"
    NUCLEAR_ENERGY = "NuclearEnergy"
    PETROLEUM = "Petroleum"
    NATURAL_GAS = "NaturalGas"


class CalibrationLawDataAvailability(StrEnum):
    LOCAL = "Local"
    EXTERNAL = "External"
    NOT_AVAILABLE = "Not Available"


class AuthenticationMode(StrEnum):
    NFC_RFID_CLASSIC = "NFC RFID Classic"
    NFC_RFID_DESFIRE = "NFC RFID DESFire"
    PNC = "PnC"
    REMOTE = "REMOTE"
    DIRECT_PAYMENT = "Direct Payment"
    NO_AUTHENTICATION_REQUIRED = "No Authentication Required"


class PaymentOption(StrEnum):
    NO_PAYMENT = "No Payment"
    DIRECT = "Direct"
    CONTRACT = "Contract"


class ValueAddedService(StrEnum):
    RESERVATION = "Reservation"
    DYNAMIC_PRICING = "DynamicPricing"
    PARKING_SENSORS = "ParkingSensors"
    MAXIMUM_POWER_CHARGING = "MaximumPowerCharging"
    PREDICTIVE_CHARGE_POINT_USAGE = "PredictiveChargePointUsage"
    CHARGING_PLANS = "ChargingPlans"
    ROOF_PROVIDED = "RoofProvided"
    NONE = "None"


class Accessibility(StrEnum):
    FREE_PUBLICLY_ACCESSIBLE = "Free publicly accessible"
    RESTRICTED_ACCESS = "Restricted access"
    PAYING_PUBLICLY_ACCESSIBLE = "Paying publicly accessible"
    TEST_STATION = "Test Station"


class AccessibilityLocation(StrEnum):
    ON_STREET = "OnStreet"
    PARKING_LOT = "ParkingLot"
    PARKING_GARAGE = "ParkingGarage"
    UNDERGROUND_PARKING_GARAGE = "UndergroundParkingGarage"


class DynamicInfoAvailable(StrEnum):
    """A string on the wire (``"true"``), never a JSON boolean (digest §8.2)."""

    TRUE = "true"
    FALSE = "false"
    AUTO = "auto"


class Day(StrEnum):
    EVERYDAY = "Everyday"
    WORKDAYS = "Workdays"
    WEEKEND = "Weekend"
    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"


class Address(WireModel):
    """``AddressIso19773Type``. A street shorter than two characters is to be padded
    with ``_`` by the sender (digest §1.3); the model refuses it."""

    Country: CountryCodeType
    City: Annotated[str, text(50, 1)]
    Street: Annotated[str, text(100, 2)]
    PostalCode: Annotated[str, text(10)]
    HouseNum: Annotated[str, text(10)]
    Floor: Annotated[str, text(5)] | None = None
    Region: Annotated[str, text(50)] | None = None
    ParkingFacility: Bool | None = None
    ParkingSpot: Annotated[str, text(5)] | None = None
    TimeZone: (
        Annotated[
            str, StringConstraints(strict=True, pattern=r"^UTC[+-](0[0-9]|1[0-4]):[0-5][0-9]$")
        ]
        | None
    ) = None


PowerTypeType = PowerType


class ChargingFacility(WireModel):
    """``Power`` is an integer in the CPO file and a number in the EMP file (digest
    §7.4): read as a decimal, emitted as an integer when it is one."""

    PowerType: PowerTypeType
    Voltage: Annotated[int, Field(ge=0, le=999, strict=True)] | None = None
    Amperage: Annotated[int, Field(ge=0, le=99, strict=True)] | None = None
    Power: Annotated[Number, Field(ge=0, le=999)]
    ChargingModes: list[ChargingMode] | None = None


class Period(WireModel):
    begin: HourMinuteType
    end: HourMinuteType


PeriodType = Period


class OpeningTimes(WireModel):
    """One day rule; ``Period`` here, ``Periods`` in pricing (digest §8.3)."""

    Period: list[PeriodType]
    on: Day


class EnergySource(WireModel):
    Energy: EnergyType | None = None
    Percentage: Annotated[int, Field(ge=0, le=99, strict=True)] | None = None


class EnvironmentalImpact(WireModel):
    """Grams per kWh."""

    CO2Emission: Annotated[Number, Field(ge=0, le=99999)] | None = None
    NuclearWaste: Annotated[Number, Field(ge=0, le=99999)] | None = None


AddressType = Address
GeoCoordinatesType = GeoCoordinates
EnergySourceType = EnergySource
OpeningTimesType = OpeningTimes
PlugsType = list[Plug]
AccessibilityType = Accessibility
AccessibilityLocationType = AccessibilityLocation
DynamicInfoAvailableType = DynamicInfoAvailable
CalibrationLawDataAvailabilityType = CalibrationLawDataAvailability
EnvironmentalImpactType = EnvironmentalImpact
DeltaTypeType = DeltaType


class EvseDataRecord(WireModel):
    """One charging point (CPO data types "EvseDataRecordType"). ``deltaType`` and
    ``lastUpdate`` are set by the hub in pulls."""

    deltaType: DeltaTypeType | None = None
    lastUpdate: DateTime | None = None
    EvseID: EvseIDType
    ChargingPoolID: ChargingPoolIDType | None = None
    ChargingStationId: Annotated[str, text(50)] | None = Field(
        None, validation_alias=AliasChoices("ChargingStationId", "ChargingStationID")
    )
    ChargingStationNames: list[InfoText]
    HardwareManufacturer: Annotated[str, text(50)] | None = None
    ChargingStationImage: Annotated[str, text(200)] | None = None
    SubOperatorName: Annotated[str, text(100)] | None = None
    Address: AddressType
    GeoCoordinates: GeoCoordinatesType
    Plugs: PlugsType
    DynamicPowerLevel: Bool | None = None
    ChargingFacilities: list[ChargingFacility]
    RenewableEnergy: Bool
    EnergySource: list[EnergySourceType] | None = None
    EnvironmentalImpact: EnvironmentalImpactType | None = None
    CalibrationLawDataAvailability: CalibrationLawDataAvailabilityType
    AuthenticationModes: list[AuthenticationMode]
    MaxCapacity: Annotated[int, Field(ge=0, strict=True)] | None = None
    PaymentOptions: list[PaymentOption]
    ValueAddedServices: list[ValueAddedService]
    Accessibility: AccessibilityType
    AccessibilityLocation: AccessibilityLocationType | None = None
    HotlinePhoneNumber: PhoneNumberType
    AdditionalInfo: list[InfoText] | None = None
    ChargingStationLocationReference: list[InfoText] | None = None
    GeoChargingPointEntrance: GeoCoordinatesType | None = None
    IsOpen24Hours: Bool
    OpeningTimes: list[OpeningTimesType] | None = None
    HubOperatorID: OperatorIDType | None = None
    ClearinghouseID: Annotated[str, text(20)] | None = None
    IsHubjectCompatible: Bool
    DynamicInfoAvailable: DynamicInfoAvailableType
