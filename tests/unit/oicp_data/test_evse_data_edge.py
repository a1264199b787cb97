"""The pure parts of EVSE data: the search circle, the authentication bit set, the
coordinate conversion of the pull, a pushed record as stored (POI findings included,
hub-assigned fields dropped, date-times untouched), and ``poi-check FILE``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evroam.cli.main import app as cli_app
from evroam.core.oicp import (
    AUTHENTICATION_MODES,
    GeoCircle,
    authentication_mask,
    distance_km,
)
from evroam.oicp.v2_3.hub.evsedata import convert_geo, entry_of
from evroam.oicp.v2_3.models.evse import EvseDataRecord
from evroam.oicp.v2_3.models.geo import GeoCoordinates, Notation
from tests.unit.oicp.records import complete_record


def test_distance_and_circle_are_great_circle_km() -> None:
    # One degree of latitude is 111.2 km everywhere.
    assert distance_km(10, 20, 11, 20) == pytest.approx(111.2, abs=0.1)
    circle = GeoCircle(52.52, 13.405, 5)
    assert circle.contains(52.55, 13.405)  # 3.3 km north
    assert not circle.contains(52.52, 13.49)  # 5.8 km east
    low, high, west, east = circle.bounding_box()
    assert low < 52.52 < high and west is not None and east is not None
    assert west < 13.405 < east


def test_bounding_box_drops_longitude_near_poles_and_the_antimeridian() -> None:
    assert GeoCircle(89.99, 0, 5).bounding_box()[2:] == (None, None)
    assert GeoCircle(0, 179.99, 5).bounding_box()[2:] == (None, None)
    assert GeoCircle(0, 179.99, 5).contains(0, -179.99)  # 2.2 km across the line


def test_authentication_mask_has_one_bit_per_mode() -> None:
    masks = [authentication_mask([m]) for m in AUTHENTICATION_MODES]
    assert masks == [1, 2, 4, 8, 16, 32]
    assert authentication_mask(["PnC", "REMOTE", "bogus"]) == 12


@pytest.mark.parametrize("notation", list(Notation))
def test_convert_geo_matches_the_model_conversion(notation: Notation) -> None:
    for geo in (
        {"DecimalDegree": {"Longitude": "7.852070", "Latitude": "-47.995900"}},
        {"Google": {"Coordinates": "47.9959 7.85207"}},
        {"DegreeMinuteSeconds": {"Longitude": "7°51'7.4520''", "Latitude": "47°59'45.2400''"}},
    ):
        expected = GeoCoordinates.model_validate(geo).in_notation(notation).to_wire()
        assert convert_geo(geo, notation) == expected


def test_entry_of_keeps_the_record_as_sent_minus_hub_fields_with_poi() -> None:
    raw = complete_record()
    raw["lastUpdate"] = "2020-09-23T14:17:53.038+02:00"
    raw["deltaType"] = "insert"
    raw["Address"].pop("TimeZone")
    entry = entry_of(EvseDataRecord.model_validate(raw))
    stored = json.loads(entry.record)
    assert "lastUpdate" not in stored and "deltaType" not in stored
    assert stored["GeoCoordinates"] == raw["GeoCoordinates"]
    assert (entry.operator, entry.canonical_evse_id) == ("DEEVR", "DEEVRE00011")
    assert (entry.latitude, entry.longitude) == (47.9959, 7.85207)
    assert entry.auth_modes == authentication_mask(["NFC RFID Classic", "REMOTE"])
    assert [f.property for f in entry.poi_findings] == ["Address.TimeZone"]
    assert entry.poi_score < 100


def test_poi_check_file_prints_findings_as_text(tmp_path: Path) -> None:
    hostile = complete_record()
    hostile["EvseID"] = "DE*EVR*E2"
    hostile["ChargingStationImage"] = "http://[bold red]x"
    broken = complete_record()
    broken["EvseID"] = "DE*EVR*E3"
    del broken["Plugs"]
    body = {"ActionType": "fullLoad", "OperatorEvseData": {"EvseDataRecord": [hostile, broken]}}
    path = tmp_path / "push.json"
    path.write_text(json.dumps(body))
    runner = CliRunner()
    result = runner.invoke(cli_app, ["oicp", "poi-check", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "ChargingStationImage" in result.output and "Plugs" in result.output
    assert "2 records (0 without findings), 1 errors, 1 warnings" in result.output
    as_json = runner.invoke(cli_app, ["oicp", "poi-check", str(path), "--json"])
    data = json.loads(as_json.output)
    assert [r["evse_id"] for r in data["records"]] == ["DE*EVR*E2", "DE*EVR*E3"]
    assert data["records"][1]["findings"][0] == {
        "property": "Plugs",
        "severity": "error",
        "message": "missing",
    }


def test_poi_check_needs_exactly_one_source_and_a_readable_file(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli_app, ["oicp", "poi-check"]).exit_code == 2
    (tmp_path / "x.json").write_text('{"nothing": 1}')
    result = runner.invoke(cli_app, ["oicp", "poi-check", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "PushEvseData" in result.output
