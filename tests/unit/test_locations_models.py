"""Locations wire models and the pure Location merge rules (mod_locations.asciidoc
2.2.1): every spec example is read from ../shared (skipped with the reason when absent),
and every bad input of issue 7 that applies to Locations is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from evroam.core.errors import InvalidInput
from evroam.core.objects import ObjectKey
from evroam.ocpi.v2_2_1.locations import convert
from evroam.ocpi.v2_2_1.locations.models import (
    EVSE,
    Connector,
    ConnectorPatch,
    EnergyMix,
    EVSEPatch,
    Hours,
    Location,
    LocationPatch,
)
from evroam.services.locations import LocationPath, apply_patch, apply_put, is_shared, merge_fields

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ocpi" / "examples" / "2.2.1"


def example(name: str) -> Any:
    if not EXAMPLES.is_dir():
        pytest.skip(f"OCPI examples not found at {EXAMPLES} (../shared is absent)")
    return json.loads((EXAMPLES / name).read_text())


def same_meaning(a: Any, b: Any) -> bool:
    """Equal once null/absent and timestamp spellings are set aside."""
    return bool(json.loads(json.dumps(a)) == json.loads(json.dumps(b)))


# Whole Locations in the examples folder; each is accepted and served back unchanged.
LOCATION_EXAMPLES = [
    "location_example.json",
    "location_example_parking_garage_opening_hours.json",
    "location_example_uc2_destination_charger.json",
    "location_example_uc3_destination_charger_not_published.json",
    "location_example_uc4_limited_visibility.json",
    "location_example_uc5_home_charge_point.json",
]


@pytest.mark.parametrize("name", LOCATION_EXAMPLES)
def test_location_examples_round_trip(name: str) -> None:
    data = example(name)
    doc = convert.validate_location(data)
    assert same_meaning(doc, data)
    assert "null" not in convert.dumps(doc)


def test_publish_rules_decide_what_partners_see() -> None:
    assert is_shared(example("location_example.json"))
    # uc3: publish false and nobody allowed: partners never see it.
    assert not is_shared(example("location_example_uc3_destination_charger_not_published.json"))
    # uc4: publish false with publish_allowed_to: shared, for those tokens' owners.
    assert is_shared(example("location_example_uc4_limited_visibility.json"))


@pytest.mark.parametrize(
    ("name", "model", "field"),
    [
        ("location_energymix_example_complete.json", EnergyMix, "energy_mix"),
        ("location_energymix_example_energy_provider.json", EnergyMix, "energy_mix"),
        ("location_energymix_example_simple.json", EnergyMix, "energy_mix"),
        ("location_regularhours_example.json", Hours, "opening_times"),
        ("location_hours_247_open_exception_closing.json", Hours, None),
        ("location_hours_opening_hours_with_exceptional_closing.json", Hours, None),
        ("location_hours_opening_hours_with_exceptional_opening.json", Hours, None),
    ],
)
def test_fragment_examples_round_trip(name: str, model: type[BaseModel], field: str | None) -> None:
    """These examples are parts of a Location (``{"energy_mix": ...}`` or an Hours)."""
    data = example(name)
    part = data[field] if field else data
    assert same_meaning(convert.to_document(model.model_validate(part)), part)


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("location_patch_example_location.json", LocationPatch),
        ("location_patch_example_status.json", EVSEPatch),
        ("location_patch_example_remove_evse.json", EVSEPatch),
        ("location_patch_example_tariff.json", ConnectorPatch),
    ],
)
def test_patch_examples_are_accepted(name: str, model: type[BaseModel]) -> None:
    data = example(name)
    assert same_meaning(convert.to_document(model.model_validate(data)), data)


def test_add_evse_example_is_refused_as_the_tables_say() -> None:
    """location_put_example_add_evse.json is itself wrong (digest §7.14): ``floor`` is
    not a field (ignored), ``physical_reference`` is a number where string(16) is
    required, and its Connector lacks power_type, max_voltage, max_amperage and
    last_updated. The node follows the tables and refuses it (2001)."""
    data = example("location_put_example_add_evse.json")
    with pytest.raises(InvalidInput) as err:
        convert.validate_evse(data)
    text = str(err.value)
    assert "physical_reference" in text and "connectors[0].power_type" in text
    fixed = {k: v for k, v in data.items() if k != "floor"} | {"physical_reference": "3"}
    fixed["connectors"] = [
        data["connectors"][0]
        | {
            "power_type": "AC_3_PHASE",
            "max_voltage": 230,
            "max_amperage": 16,
            "last_updated": data["last_updated"],
        }
    ]
    assert same_meaning(convert.validate_evse(fixed), fixed)


# --------------------------------------------------------------------------- bad input


def location(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "LOC-U1",
        "publish": True,
        "address": "Street 1",
        "city": "Town",
        "country": "NLD",
        "coordinates": {"latitude": "52.123456", "longitude": "4.123456"},
        "time_zone": "Europe/Amsterdam",
        "evses": [evse("E1"), evse("E2")],
        "last_updated": "2026-11-20T10:00:00Z",
    }
    doc.update(over)
    return doc


def evse(uid: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "uid": uid,
        "status": "AVAILABLE",
        "connectors": [connector("1")],
        "last_updated": "2026-11-20T10:00:00Z",
    }
    doc.update(over)
    return doc


def connector(cid: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "last_updated": "2026-11-20T10:00:00Z",
    }
    doc.update(over)
    return doc


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (Location, location(evses=[evse("E1"), evse("e1")]), "uid 'e1' appears twice"),
        (EVSE, evse("E1", connectors=[connector("1"), connector("1")]), "id '1' appears twice"),
        (Location, location(coordinates={"latitude": "95.000000", "longitude": "4.1"}), "lat"),
        (Location, location(coordinates={"latitude": "91.000000", "longitude": "4.123456"}), "90"),
        (Location, location(coordinates={"latitude": "52.1", "longitude": "4.123456"}), "lat"),
        (Location, location(coordinates={"latitude": 52.123456, "longitude": "4.123456"}), "lat"),
        (
            Location,
            location(coordinates={"latitude": "52.123456", "longitude": "181.000000"}),
            "180",
        ),
        (EVSE, evse("E1", status="BROKEN"), "status"),
        (Connector, connector("1", standard="iec_62196_t2"), "standard"),
        (Location, location(address="x" * 46), "address"),
        (Location, location(id="x" * 37), "id"),
        (Connector, connector("1", max_voltage="230"), "max_voltage"),
        (Location, location(publish="yes"), "publish"),
        (Location, location(coordinates=[{"latitude": "52.123456", "longitude": "4.123456"}]), ""),
        (Location, [location()], ""),
        (EVSE, evse("E1", connectors=[]), "connectors"),
        (LocationPatch, {"name": "no timestamp"}, "last_updated"),
        (EVSEPatch, {"status": "CHARGING"}, "last_updated"),
        (ConnectorPatch, {"tariff_ids": ["1"]}, "last_updated"),
    ],
)
def test_bad_input_is_refused(model: type[BaseModel], data: Any, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    assert field in str(err.value)


def test_null_reads_as_absent_and_is_never_sent() -> None:
    doc = convert.validate_location(location(name=None, evses=None, related_locations=None))
    assert "name" not in doc and "evses" not in doc and "related_locations" not in doc


# --------------------------------------------------------------------------- merge rules

KEY = ObjectKey("NL", "CPO", "LOC-U1")


def test_put_of_evse_under_unknown_location_changes_nothing() -> None:
    assert apply_put(None, LocationPath(KEY, "E9"), evse("E9")) == "unknown"
    assert apply_put(None, LocationPath(KEY, "E9", "1"), connector("1")) == "unknown"


def test_patch_of_unknown_object_is_unknown() -> None:
    patch = {"status": "CHARGING", "last_updated": "2026-11-21T10:00:00Z"}
    assert apply_patch(None, LocationPath(KEY, "E1"), patch, merge_fields) == "unknown"
    assert apply_patch(location(), LocationPath(KEY, "E9"), patch, merge_fields) == ("unknown")


def test_connector_patch_moves_every_parent_last_updated() -> None:
    patch = {"tariff_ids": ["T2"], "last_updated": "2026-11-22T10:00:00Z"}
    result = apply_patch(location(), LocationPath(KEY, "E1", "1"), patch, merge_fields)
    assert isinstance(result, dict)
    assert result["last_updated"] == "2026-11-22T10:00:00Z"
    assert result["evses"][0]["last_updated"] == "2026-11-22T10:00:00Z"
    assert result["evses"][0]["connectors"][0]["tariff_ids"] == ["T2"]
    assert result["evses"][1]["last_updated"] == "2026-11-20T10:00:00Z"


def test_evse_put_appends_and_moves_location_last_updated() -> None:
    new = evse("E3", last_updated="2026-11-23T00:00:00Z")
    result = apply_put(location(), LocationPath(KEY, "e3"), new)
    assert isinstance(result, dict)
    assert [e["uid"] for e in result["evses"]] == ["E1", "E2", "E3"]
    assert result["last_updated"] == "2026-11-23T00:00:00Z"


def test_older_patch_keeps_the_newer() -> None:
    patch = {"status": "CHARGING", "last_updated": "2026-11-19T10:00:00Z"}
    assert apply_patch(location(), LocationPath(KEY, "E1"), patch, merge_fields) == ("stale")
    assert apply_put(
        location(), LocationPath(KEY), location(last_updated="2026-01-01T00:00:00Z")
    ) == ("stale")


def test_patch_result_is_validated_and_ids_must_match_the_url() -> None:
    bad = {"publish_allowed_to": [{"uid": "T1"}], "last_updated": "2026-11-22T10:00:00Z"}
    with pytest.raises(InvalidInput, match="publish_allowed_to"):
        apply_patch(location(), LocationPath(KEY), bad, convert.merge_location)
    with pytest.raises(InvalidInput, match="status"):
        convert.validate_evse_patch({"status": "NOPE", "last_updated": "2026-11-22T10:00:00Z"})
    renamed = {"uid": "OTHER", "last_updated": "2026-11-22T10:00:00Z"}
    with pytest.raises(InvalidInput, match="differs from the URL"):
        apply_patch(location(), LocationPath(KEY, "E1"), renamed, merge_fields)
    with pytest.raises(InvalidInput, match="differ from"):
        apply_put(None, LocationPath(KEY), location(party_id="XXX"))
    with pytest.raises(InvalidInput, match="differs from the URL"):
        apply_put(location(), LocationPath(KEY, "E1"), evse("E2"))


def test_a_change_that_decides_nothing_leaves_the_owned_copy_as_it_was() -> None:
    """The group-commit writer hands one parsed Location from change to change of a
    batch (``owned``): an unknown or stale outcome must not have touched it."""
    bare = location()
    del bare["evses"]
    copy = json.loads(json.dumps(bare))
    assert apply_put(copy, LocationPath(KEY, "E9", "1"), connector("1"), owned=True) == "unknown"
    assert copy == bare  # no ``evses: []`` left behind
    full = location()
    copy = json.loads(json.dumps(full))
    old = connector("1", last_updated="2026-01-01T00:00:00Z")
    assert apply_put(copy, LocationPath(KEY, "E1", "1"), old, owned=True) == "stale"
    assert copy == full
