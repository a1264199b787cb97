"""An evroam node's own OCPI 2.2.1 Locations as OICP 2.3 EVSE data records, for a CPO
that roams through OCPI and pushes the same charge points to Hubject.

One EVSE becomes one ``EvseDataRecord``. The mapping, field by field (OCPI module
Locations on the left, CPO data types "EvseDataRecordType" on the right):

==========================================  ============================================
``evse.evse_id``                            ``EvseID`` (must be an OICP EvseID of the
                                            pushing operator, else the EVSE is refused)
``location.name``                           ``ChargingStationNames`` (``language``)
``location.address``/``city``/              ``Address.Street``/``City``/``PostalCode``
``postal_code``/``country``/``state``       (absent: empty)/``Country``/``Region``;
                                            ``HouseNum`` empty: OCPI keeps the number
                                            in ``address`` and splitting it would be a
                                            guess. A street of one character is padded
                                            with ``_`` as OICP asks of the sender.
``evse.floor_level``                        ``Address.Floor``
``evse.coordinates`` or                     ``GeoCoordinates`` as DecimalDegree (six
``location.coordinates``                    decimals: OCPI allows seven)
``connector.standard`` + ``format``         ``Plugs`` (:data:`PLUGS`); standards with no
                                            OICP plug are left out and noted
``connector.power_type``/``max_voltage``/   ``ChargingFacilities``: ``Power`` in kW from
``max_amperage``/``max_electric_power``     ``max_electric_power``, else volts x amperes
                                            (x 3 for AC_3_PHASE, OCPI's line-to-neutral
                                            voltage); voltage over 999 V or current over
                                            99 A is left out (OICP's bounds)
``location.energy_mix.is_green_energy``     ``RenewableEnergy`` (no energy mix: false,
                                            no claim made)
``evse.capabilities``                       ``AuthenticationModes`` (RFID_READER: NFC RFID
                                            Classic; REMOTE_START_STOP_CAPABLE: REMOTE;
                                            CREDIT/DEBIT_CARD_PAYABLE,
                                            CONTACTLESS_CARD_SUPPORT: Direct Payment),
                                            ``PaymentOptions`` (Contract, plus Direct for
                                            card payment), ``ValueAddedServices``
                                            (RESERVABLE: Reservation, else None)
``evse.parking_restrictions``               ``Accessibility``: CUSTOMERS makes it
                                            Restricted access, else ``accessibility``
``location.parking_type``                   ``AccessibilityLocation``
``location.opening_times``                  ``IsOpen24Hours``/``OpeningTimes`` (regular
                                            hours by weekday; exceptional periods have
                                            no OICP field and are noted)
``location.directions``                     ``AdditionalInfo`` (texts up to 150)
``location.suboperator.name``               ``SubOperatorName``
==========================================  ============================================

OCPI has no hotline, no calibration law data and no language on names: the caller
states them (``hotline``, ``calibration``, ``language``), as it states the
``accessibility`` of unrestricted EVSEs and ``DynamicInfoAvailable``. Nothing else is
made up: a Location that is not published, an EVSE without an OICP EvseID, without
opening times (unless the caller says absent means 24/7), without an OICP plug, or
``REMOVED``, is refused and reported with the reason. EVSEs whose capabilities name no
way to authenticate get an empty ``AuthenticationModes`` and a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from evroam.ocpi.v2_2_1.locations.models import EVSE, Capability, Connector, Location
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.models.evse import Accessibility as OicpAccessibility
from evroam.oicp.v2_3.models.evse import (
    AccessibilityLocation,
    AuthenticationMode,
    CalibrationLawDataAvailability,
    DynamicInfoAvailable,
    EvseDataRecord,
    PaymentOption,
    Plug,
    ValueAddedService,
)
from evroam.oicp.v2_3.models.geo import decimal_text

#: (OCPI ConnectorType, ConnectorFormat or None for either) → OICP Plug.
PLUGS: dict[tuple[str, str | None], Plug] = {
    ("IEC_62196_T2", "SOCKET"): Plug.TYPE_2_OUTLET,
    ("IEC_62196_T2", "CABLE"): Plug.TYPE_2_CONNECTOR_CABLE_ATTACHED,
    ("IEC_62196_T1", None): Plug.TYPE_1_CONNECTOR_CABLE_ATTACHED,
    ("IEC_62196_T2_COMBO", None): Plug.CCS_COMBO_2_PLUG_CABLE_ATTACHED,
    ("IEC_62196_T1_COMBO", None): Plug.CCS_COMBO_1_PLUG_CABLE_ATTACHED,
    ("CHADEMO", None): Plug.CHADEMO,
    ("IEC_62196_T3A", None): Plug.TYPE_3_OUTLET,
    ("IEC_62196_T3C", None): Plug.TYPE_3_OUTLET,
    ("DOMESTIC_E", None): Plug.TYPE_E_FRENCH_STANDARD,
    ("DOMESTIC_F", None): Plug.TYPE_F_SCHUKO,
    ("DOMESTIC_G", None): Plug.TYPE_G_BRITISH_STANDARD,
    ("DOMESTIC_J", None): Plug.TYPE_J_SWISS_STANDARD,
    ("NEMA_5_20", None): Plug.NEMA_5_20,
    ("IEC_60309_2_single_16", None): Plug.IEC_60309_SINGLE_PHASE,
    ("IEC_60309_2_three_16", None): Plug.IEC_60309_THREE_PHASE,
    ("IEC_60309_2_three_32", None): Plug.IEC_60309_THREE_PHASE,
    ("IEC_60309_2_three_64", None): Plug.IEC_60309_THREE_PHASE,
    ("TESLA_R", None): Plug.TESLA_CONNECTOR,
    ("TESLA_S", None): Plug.TESLA_CONNECTOR,
}

_AUTH = {
    Capability.RFID_READER: AuthenticationMode.NFC_RFID_CLASSIC,
    Capability.REMOTE_START_STOP_CAPABLE: AuthenticationMode.REMOTE,
    Capability.CREDIT_CARD_PAYABLE: AuthenticationMode.DIRECT_PAYMENT,
    Capability.DEBIT_CARD_PAYABLE: AuthenticationMode.DIRECT_PAYMENT,
    Capability.CONTACTLESS_CARD_SUPPORT: AuthenticationMode.DIRECT_PAYMENT,
}
_PARKING = {
    "ON_STREET": AccessibilityLocation.ON_STREET,
    "PARKING_LOT": AccessibilityLocation.PARKING_LOT,
    "PARKING_GARAGE": AccessibilityLocation.PARKING_GARAGE,
    "UNDERGROUND_GARAGE": AccessibilityLocation.UNDERGROUND_PARKING_GARAGE,
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PHASES = {"AC_1_PHASE": 1, "AC_3_PHASE": 3, "DC": 1}


@dataclass(frozen=True, slots=True)
class Finding:
    """Where (``location``/``evse``) and what: why an EVSE was refused, or what of it
    could not be carried over."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Defaults:
    """What OCPI does not say and the operator must (module docstring)."""

    hotline: str
    language: str = "en"
    calibration: CalibrationLawDataAvailability = CalibrationLawDataAvailability.NOT_AVAILABLE
    accessibility: OicpAccessibility = OicpAccessibility.FREE_PUBLICLY_ACCESSIBLE
    dynamic_info: DynamicInfoAvailable = DynamicInfoAvailable.AUTO
    open_24h_when_unknown: bool = False

    def __post_init__(self) -> None:
        if not ids.is_phone_number(self.hotline):
            raise ValueError(f"the hotline {self.hotline!r} is not +digits (5 to 15)")
        if not ids.is_language_code(self.language):
            raise ValueError(f"{self.language!r} is not a language code (en, de, ...)")


@dataclass
class Conversion:
    """The records made, the EVSEs refused and what was left out of converted ones."""

    records: list[EvseDataRecord] = field(default_factory=list)
    refused: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)


class _Refused(Exception):
    pass


def convert_locations(
    locations: Iterable[Mapping[str, Any]], operator_id: str, defaults: Defaults
) -> Conversion:
    """Every EVSE of ``locations`` (OCPI 2.2.1 JSON objects) as an EVSE data record of
    ``operator_id``; see the module docstring."""
    out = Conversion()
    operator = ids.canonical_operator(operator_id)
    for n, raw in enumerate(locations):
        name = str(raw.get("id", f"#{n}"))[:36] if isinstance(raw, Mapping) else f"#{n}"
        try:
            location = Location.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(x) for x in first.get("loc", ()))
            out.refused.append(
                Finding(f"location {name}", f"not OCPI 2.2.1: {where}: {first['msg']}")
            )
            continue
        if not location.publish:
            out.refused.append(Finding(f"location {name}", "not published (publish is false)"))
            continue
        for evse in location.evses or []:
            where = f"location {name} EVSE {evse.uid}"
            notes: list[Finding] = []
            try:
                record = _record(location, evse, operator, defaults, where, notes)
            except _Refused as exc:
                out.refused.append(Finding(where, str(exc)))
                continue
            out.records.append(record)
            out.notes.extend(notes)
    return out


def _record(
    loc: Location, evse: EVSE, operator: str, d: Defaults, where: str, notes: list[Finding]
) -> EvseDataRecord:
    if evse.status.value == "REMOVED":
        raise _Refused("removed (status REMOVED)")
    evse_id = evse.evse_id or ""
    if not ids.is_evse_id(evse_id):
        raise _Refused(
            f"evse_id {evse_id[:48]!r} is not an OICP EvseID" if evse_id else "no evse_id"
        )
    if ids.operator_of_evse(evse_id) != operator:
        raise _Refused(f"{evse_id} is not an EVSE of operator {operator}")
    if not loc.name:
        raise _Refused("the location has no name (ChargingStationNames)")
    if len(loc.name) > 150:
        raise _Refused("the location's name is longer than OICP's 150 characters")
    plugs = _plugs(evse.connectors, notes, where)
    if not plugs:
        raise _Refused("no connector has an OICP plug type")
    capabilities = set(evse.capabilities or [])
    modes = sorted(
        {_AUTH[c] for c in capabilities if c in _AUTH}, key=list(AuthenticationMode).index
    )
    if not modes:
        # Absent capabilities say nothing: an empty list, not a guessed mode.
        notes.append(Finding(where, "no capability names a way to authenticate"))
    coordinates = evse.coordinates or loc.coordinates
    body: dict[str, Any] = {
        "EvseID": evse_id,
        "ChargingStationNames": [{"lang": d.language, "value": loc.name}],
        "Address": _address(loc, evse),
        "GeoCoordinates": {
            "DecimalDegree": {
                "Longitude": decimal_text(Decimal(coordinates.longitude)),
                "Latitude": decimal_text(Decimal(coordinates.latitude)),
            }
        },
        "Plugs": plugs,
        "ChargingFacilities": _facilities(evse.connectors, notes, where),
        "RenewableEnergy": bool(loc.energy_mix and loc.energy_mix.is_green_energy),
        "CalibrationLawDataAvailability": d.calibration,
        "AuthenticationModes": modes,
        "PaymentOptions": [PaymentOption.CONTRACT]
        + ([PaymentOption.DIRECT] if AuthenticationMode.DIRECT_PAYMENT in modes else []),
        "ValueAddedServices": [
            ValueAddedService.RESERVATION
            if Capability.RESERVABLE in capabilities
            else ValueAddedService.NONE
        ],
        "Accessibility": OicpAccessibility.RESTRICTED_ACCESS
        if "CUSTOMERS" in {r.value for r in evse.parking_restrictions or []}
        else d.accessibility,
        "HotlinePhoneNumber": d.hotline,
        "IsHubjectCompatible": True,
        "DynamicInfoAvailable": d.dynamic_info,
        **_hours(loc, d, notes, where),
    }
    if loc.parking_type is not None and loc.parking_type.value in _PARKING:
        body["AccessibilityLocation"] = _PARKING[loc.parking_type.value]
    if loc.suboperator is not None and len(loc.suboperator.name) <= 100:
        body["SubOperatorName"] = loc.suboperator.name
    infos = [t for t in loc.directions or [] if len(t.text) <= 150]
    if infos:
        body["AdditionalInfo"] = [{"lang": t.language, "value": t.text} for t in infos]
    try:
        return EvseDataRecord.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field_name = ".".join(str(x) for x in first.get("loc", ()))
        raise _Refused(f"{field_name}: {first['msg']}") from None


def _address(loc: Location, evse: EVSE) -> dict[str, Any]:
    street = loc.address if len(loc.address) >= 2 else loc.address.ljust(2, "_")
    address: dict[str, Any] = {
        "Country": loc.country.upper(),
        "City": loc.city,
        "Street": street,
        "PostalCode": loc.postal_code or "",
        "HouseNum": "",
    }
    if evse.floor_level:
        address["Floor"] = evse.floor_level
    if loc.state:
        address["Region"] = loc.state
    return address


def _plugs(connectors: list[Connector], notes: list[Finding], where: str) -> list[Plug]:
    plugs: list[Plug] = []
    for c in connectors:
        plug = PLUGS.get((c.standard.value, c.format.value)) or PLUGS.get((c.standard.value, None))
        if plug is None:
            notes.append(Finding(where, f"connector {c.id}: {c.standard.value} has no OICP plug"))
        elif plug not in plugs:
            plugs.append(plug)
    return plugs


def _facilities(
    connectors: list[Connector], notes: list[Finding], where: str
) -> list[dict[str, Any]]:
    facilities: list[dict[str, Any]] = []
    for c in connectors:
        phases = _PHASES.get(c.power_type.value)
        if phases is None:
            notes.append(
                Finding(where, f"connector {c.id}: {c.power_type.value} has no OICP power type")
            )
            continue
        if c.max_electric_power is not None:
            power = Decimal(c.max_electric_power) / 1000
        else:
            power = Decimal(c.max_voltage * c.max_amperage * phases) / 1000
        facility: dict[str, Any] = {"PowerType": c.power_type.value, "Power": power}
        if 0 <= c.max_voltage <= 999:
            facility["Voltage"] = c.max_voltage
        if 0 <= c.max_amperage <= 99:
            facility["Amperage"] = c.max_amperage
        if facility not in facilities:
            facilities.append(facility)
    return facilities


def _hours(loc: Location, d: Defaults, notes: list[Finding], where: str) -> dict[str, Any]:
    hours = loc.opening_times
    if hours is None:
        if not d.open_24h_when_unknown:
            raise _Refused("the location has no opening_times (say whether absent means 24/7)")
        return {"IsOpen24Hours": True}
    if hours.exceptional_openings or hours.exceptional_closings:
        notes.append(Finding(where, "exceptional openings/closings have no OICP field"))
    if hours.twentyfourseven:
        return {"IsOpen24Hours": True}
    days: dict[int, list[dict[str, str]]] = {}
    for r in hours.regular_hours or []:
        days.setdefault(r.weekday, []).append({"begin": r.period_begin, "end": r.period_end})
    if not days:
        raise _Refused("opening_times is neither twentyfourseven nor has regular_hours")
    return {
        "IsOpen24Hours": False,
        "OpeningTimes": [{"Period": days[w], "on": _WEEKDAYS[w - 1]} for w in sorted(days)],
    }
