"""POI data quality of EVSE data records: what a driver's app needs to find, reach and
use a charging point, checked per record with a score per record and overall.

Each check looks at one property of the EvseDataRecord (CPO data types
"EvseDataRecordType"): the mandatory ones (missing or malformed: ``ERROR``) and those the
specification leaves optional but an app relies on (``WARNING``), such as the time zone,
the accessibility location, voltage and amperage, the charging pool. A check weighs 3
when mandatory and 1 when recommended; a record's score is the share of the weight its
passing checks carry, 0-100, and a complete record scores 100. The overall score is the
mean over the records.

Pure functions on a parsed :class:`EvseDataRecord` (:func:`check_record`) or on raw
JSON as a partner sent it (:func:`check_raw`: what the model refuses becomes findings
instead of an exception). The CLI and the hub render and store the results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from evroam.oicp.v2_3.models.evse import (
    EvseDataRecord,
    PaymentOption,
    Plug,
    PowerType,
    ValueAddedService,
)


class Severity(StrEnum):
    ERROR = "error"  # a mandatory property is missing or malformed
    WARNING = "warning"  # a recommended property is missing or implausible


@dataclass(frozen=True, slots=True)
class Finding:
    property: str  # wire path: "Address.TimeZone", "ChargingFacilities[0].Power"
    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class RecordReport:
    evse_id: str | None
    findings: tuple[Finding, ...]
    score: int

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)


@dataclass(frozen=True, slots=True)
class Report:
    records: tuple[RecordReport, ...]
    score: int
    errors: int
    warnings: int
    by_property: Mapping[str, int] = field(default_factory=dict)


_Check = Callable[[EvseDataRecord], Iterable[str]]

MANDATORY_WEIGHT = 3
RECOMMENDED_WEIGHT = 1
_DC_PLUGS = {
    Plug.CCS_COMBO_1_PLUG_CABLE_ATTACHED,
    Plug.CCS_COMBO_2_PLUG_CABLE_ATTACHED,
    Plug.CHADEMO,
}


def _names(r: EvseDataRecord) -> Iterable[str]:
    if not r.ChargingStationNames:
        yield "no charging station name"
    if any(not n.value.strip() for n in r.ChargingStationNames):
        yield "a charging station name is blank"


def _address(r: EvseDataRecord) -> Iterable[str]:
    a = r.Address
    for name in ("City", "Street", "PostalCode", "HouseNum"):
        if not str(getattr(a, name)).strip(" _"):
            yield f"Address.{name} is blank"


def _geo(r: EvseDataRecord) -> Iterable[str]:
    latitude, longitude = r.GeoCoordinates.lat_lon()
    if latitude == 0 and longitude == 0:
        yield "GeoCoordinates are 0, 0 (a placeholder, not a position)"


def _plugs(r: EvseDataRecord) -> Iterable[str]:
    if not r.Plugs:
        yield "no plug"


def _facilities(r: EvseDataRecord) -> Iterable[str]:
    if not r.ChargingFacilities:
        yield "no charging facility"
    for i, f in enumerate(r.ChargingFacilities):
        if f.Power <= 0:
            yield f"ChargingFacilities[{i}].Power is not positive"


def _auth_modes(r: EvseDataRecord) -> Iterable[str]:
    if not r.AuthenticationModes:
        yield "no authentication mode"


def _payment(r: EvseDataRecord) -> Iterable[str]:
    if not r.PaymentOptions:
        yield "no payment option"
    elif PaymentOption.NO_PAYMENT in r.PaymentOptions and len(r.PaymentOptions) > 1:
        yield "'No Payment' is combined with other payment options"


def _services(r: EvseDataRecord) -> Iterable[str]:
    if not r.ValueAddedServices:
        yield "no value added service (send 'None' for none)"
    elif ValueAddedService.NONE in r.ValueAddedServices and len(r.ValueAddedServices) > 1:
        yield "'None' is combined with other value added services"


def _opening_times(r: EvseDataRecord) -> Iterable[str]:
    if not r.IsOpen24Hours and not r.OpeningTimes:
        yield "not open 24 hours but no OpeningTimes"
    for i, rule in enumerate(r.OpeningTimes or ()):
        if not rule.Period:
            yield f"OpeningTimes[{i}] has no Period"


def _time_zone(r: EvseDataRecord) -> Iterable[str]:
    if r.Address.TimeZone is None:
        yield "Address.TimeZone is missing (opening times and tariffs are local times)"


def _accessibility_location(r: EvseDataRecord) -> Iterable[str]:
    if r.AccessibilityLocation is None:
        yield "AccessibilityLocation is missing"


def _facility_details(r: EvseDataRecord) -> Iterable[str]:
    for i, f in enumerate(r.ChargingFacilities):
        if f.Voltage is None or f.Amperage is None:
            yield f"ChargingFacilities[{i}] lacks Voltage or Amperage"
        if f.PowerType is not PowerType.DC and f.Power > Decimal(44):
            yield f"ChargingFacilities[{i}].Power of {f.Power} kW is implausible for AC"


def _plug_power_type(r: EvseDataRecord) -> Iterable[str]:
    dc = any(f.PowerType is PowerType.DC for f in r.ChargingFacilities)
    if any(p in _DC_PLUGS for p in r.Plugs) and not dc:
        yield "a DC plug (CCS, CHAdeMO) without a DC charging facility"


def _station_id(r: EvseDataRecord) -> Iterable[str]:
    if r.ChargingStationId is None and r.ChargingPoolID is None:
        yield "neither ChargingStationId nor ChargingPoolID groups the EVSE"


def _location_reference(r: EvseDataRecord) -> Iterable[str]:
    if not r.ChargingStationLocationReference and not r.AdditionalInfo:
        yield "no ChargingStationLocationReference or AdditionalInfo for the last metres"


def _energy_source(r: EvseDataRecord) -> Iterable[str]:
    if r.RenewableEnergy and not r.EnergySource:
        yield "RenewableEnergy is true but no EnergySource says which"


def _image(r: EvseDataRecord) -> Iterable[str]:
    image = r.ChargingStationImage
    if image is not None and not image.startswith("https://"):
        yield "ChargingStationImage is not an https URL"


# (property, mandatory, check). The mandatory properties the model itself refuses when
# missing (EvseID, Accessibility, ...) are covered by check_raw's findings.
CHECKS: tuple[tuple[str, bool, _Check], ...] = (
    ("ChargingStationNames", True, _names),
    ("Address", True, _address),
    ("GeoCoordinates", True, _geo),
    ("Plugs", True, _plugs),
    ("ChargingFacilities", True, _facilities),
    ("AuthenticationModes", True, _auth_modes),
    ("PaymentOptions", True, _payment),
    ("ValueAddedServices", True, _services),
    ("OpeningTimes", True, _opening_times),
    ("Address.TimeZone", False, _time_zone),
    ("AccessibilityLocation", False, _accessibility_location),
    ("ChargingFacilities", False, _facility_details),
    ("Plugs", False, _plug_power_type),
    ("ChargingStationId", False, _station_id),
    ("ChargingStationLocationReference", False, _location_reference),
    ("EnergySource", False, _energy_source),
    ("ChargingStationImage", False, _image),
)
_MANDATORY_FIELDS = frozenset(
    name for name, info in EvseDataRecord.model_fields.items() if info.is_required()
)
_TOTAL_WEIGHT = len(_MANDATORY_FIELDS) * MANDATORY_WEIGHT + sum(
    MANDATORY_WEIGHT if mandatory else RECOMMENDED_WEIGHT for _, mandatory, _ in CHECKS
)


def _score(lost: int) -> int:
    return max(0, round(100 * (_TOTAL_WEIGHT - lost) / _TOTAL_WEIGHT))


def _run_checks(record: EvseDataRecord) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    lost = 0
    for prop, mandatory, check in CHECKS:
        messages = list(check(record))
        if messages:
            lost += MANDATORY_WEIGHT if mandatory else RECOMMENDED_WEIGHT
            severity = Severity.ERROR if mandatory else Severity.WARNING
            findings += [Finding(prop, severity, m) for m in messages]
    return findings, lost


def check_record(record: EvseDataRecord) -> RecordReport:
    """The quality of a parsed record (its mandatory fields are present and well
    formed, or it would not have parsed)."""
    findings, lost = _run_checks(record)
    return RecordReport(record.EvseID, tuple(findings), _score(lost))


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check_raw(raw: Any) -> RecordReport:
    """The quality of a record as received: what the model refuses becomes one finding
    per error (``ERROR`` under a mandatory property, ``WARNING`` under an optional one),
    each mandatory property failing costs its weight once; a record that parses is then
    checked like :func:`check_record`. The messages quote no input value."""
    evse_id = raw.get("EvseID") if isinstance(raw, Mapping) else None
    evse_id = evse_id if isinstance(evse_id, str) else None
    try:
        record = EvseDataRecord.model_validate(raw)
    except ValidationError as exc:
        findings: list[Finding] = []
        failed: set[str] = set()
        for error in exc.errors(include_input=False, include_url=False):
            loc = tuple(error["loc"])
            top = str(loc[0]) if loc else "EvseDataRecord"
            mandatory = top in _MANDATORY_FIELDS or not loc
            severity = Severity.ERROR if mandatory else Severity.WARNING
            message = "missing" if error["type"] == "missing" else error["msg"]
            findings.append(Finding(_path(loc) or top, severity, message))
            failed.add(top)
        lost = sum(
            MANDATORY_WEIGHT if name in _MANDATORY_FIELDS else RECOMMENDED_WEIGHT for name in failed
        )
        return RecordReport(evse_id, tuple(findings), _score(lost))
    return check_record(record)


def check_records(records: Iterable[EvseDataRecord | Mapping[str, Any]]) -> Report:
    """Reports on every record and the overall score (the mean; 100 for none)."""
    reports = tuple(
        check_record(r) if isinstance(r, EvseDataRecord) else check_raw(r) for r in records
    )
    by_property: dict[str, int] = {}
    for report in reports:
        for finding in report.findings:
            by_property[finding.property] = by_property.get(finding.property, 0) + 1
    score = round(sum(r.score for r in reports) / len(reports)) if reports else 100
    return Report(
        records=reports,
        score=score,
        errors=sum(len(r.errors) for r in reports),
        warnings=sum(len(r.warnings) for r in reports),
        by_property=by_property,
    )
