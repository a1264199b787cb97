"""The POI data quality check: a complete record scores full; each missing or malformed
mandatory property is an error, each missing recommended one a warning."""

from __future__ import annotations

import pytest

from evroam.oicp.v2_3.models.evse import EvseDataRecord
from evroam.oicp.v2_3.poi import Severity, check_raw, check_record, check_records

from .records import complete_record

MANDATORY = [name for name, info in EvseDataRecord.model_fields.items() if info.is_required()]


def test_a_complete_record_scores_full() -> None:
    report = check_raw(complete_record())
    assert report.findings == ()
    assert report.score == 100
    assert check_record(EvseDataRecord.model_validate(complete_record())).score == 100


@pytest.mark.parametrize("name", MANDATORY)
def test_each_missing_mandatory_property_is_an_error(name: str) -> None:
    raw = complete_record()
    del raw[name]
    report = check_raw(raw)
    assert [(f.property, f.severity, f.message) for f in report.findings] == [
        (name, Severity.ERROR, "missing")
    ]
    assert report.score < 100


@pytest.mark.parametrize(
    "change, prop",
    [
        ({"OpeningTimes": None}, "OpeningTimes"),  # not open 24 hours
        ({"Plugs": []}, "Plugs"),
        ({"ChargingStationNames": []}, "ChargingStationNames"),
        ({"ChargingFacilities": [{"PowerType": "DC", "Power": 0}]}, "ChargingFacilities"),
        ({"PaymentOptions": ["No Payment", "Direct"]}, "PaymentOptions"),
        ({"ValueAddedServices": []}, "ValueAddedServices"),
        ({"AuthenticationModes": []}, "AuthenticationModes"),
        ({"GeoCoordinates": {"Google": {"Coordinates": "0.0 0.0"}}}, "GeoCoordinates"),
    ],
)
def test_mandatory_property_present_but_unusable_is_an_error(
    change: dict[str, object], prop: str
) -> None:
    raw = {**complete_record(), **change}
    report = check_raw(raw)
    assert {f.property for f in report.errors} == {prop}
    assert report.score < 100


@pytest.mark.parametrize(
    "path, prop",
    [
        (("Address", "TimeZone"), "Address.TimeZone"),
        (("AccessibilityLocation",), "AccessibilityLocation"),
        (("ChargingFacilities", 0, "Voltage"), "ChargingFacilities"),
        (("EnergySource",), "EnergySource"),
        (("ChargingStationLocationReference",), "ChargingStationLocationReference"),
    ],
)
def test_missing_recommended_property_is_a_warning(path: tuple[object, ...], prop: str) -> None:
    raw = complete_record()
    target = raw
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    del target[path[-1]]  # type: ignore[arg-type]
    report = check_raw(raw)
    assert report.errors == ()
    assert [f.property for f in report.warnings] == [prop]
    assert 90 <= report.score < 100


def test_malformed_values_are_reported_without_quoting_them() -> None:
    raw = complete_record()
    raw["HotlinePhoneNumber"] = "call <b>us</b>"
    raw["Address"]["TimeZone"] = "CET"
    report = check_raw(raw)
    props = {(f.property, f.severity) for f in report.findings}
    assert ("HotlinePhoneNumber", Severity.ERROR) in props
    assert ("Address.TimeZone", Severity.ERROR) in props  # inside a mandatory property
    assert all("<b>" not in f.message and "CET" not in f.message for f in report.findings)


def test_a_malformed_optional_property_is_a_warning() -> None:
    raw = complete_record()
    raw["ChargingPoolID"] = "not a pool"
    report = check_raw(raw)
    assert [(f.property, f.severity) for f in report.findings] == [
        ("ChargingPoolID", Severity.WARNING)
    ]


def test_overall_report() -> None:
    broken = complete_record()
    del broken["Address"]
    report = check_records(
        [complete_record(), EvseDataRecord.model_validate(complete_record()), broken, "junk"]
    )
    assert [r.score for r in report.records][:2] == [100, 100]
    assert report.records[2].evse_id == "DE*EVR*E0001*1"
    assert report.records[3].evse_id is None and report.records[3].score < 100
    assert report.score == round(sum(r.score for r in report.records) / 4)
    assert report.errors == 2 and report.by_property["Address"] == 1
    assert check_records([]).score == 100
