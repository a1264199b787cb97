"""OCPI 2.2.1 Locations as OICP EVSE data records: the OCPI project's own example
payloads (/work/shared/ocpi) and the refusals, with nothing made up."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from evroam.oicp.v2_3.models.evse import EvseDataRecord
from evroam.oicp.v2_3.partner.from_ocpi import Defaults, convert_locations
from evroam.oicp.v2_3.poi import check_record

EXAMPLES = Path("/work/shared/ocpi/examples/2.2.1")
HOTLINE = "+4930123456"


def example(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the OCPI example payloads are not at {EXAMPLES}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def defaults(**kw: Any) -> Defaults:
    return Defaults(hotline=HOTLINE, **kw)


def test_the_parking_garage_example_maps_field_by_field() -> None:
    conversion = convert_locations(
        [example("location_example_parking_garage_opening_hours.json")], "SE*EVC", defaults()
    )
    assert conversion.refused == []
    (record,) = conversion.records
    wire = record.to_wire()
    assert wire["EvseID"] == "SE*EVC*E000000123"
    assert wire["ChargingStationNames"] == [{"lang": "en", "value": "P-Huset Leonard"}]
    assert wire["Address"] == {
        "Country": "SWE",
        "City": "Malmö",
        "Street": "Claesgatan 6",
        "PostalCode": "214 26",
        "HouseNum": "",
    }
    assert wire["GeoCoordinates"] == {
        "DecimalDegree": {"Longitude": "13.008307", "Latitude": "55.590325"}
    }
    assert wire["Plugs"] == ["Type 2 Outlet"]
    # 230 V line-to-neutral x 32 A x 3 phases
    assert wire["ChargingFacilities"] == [
        {"PowerType": "AC_3_PHASE", "Voltage": 230, "Amperage": 32, "Power": 22.08}
    ]
    assert wire["AccessibilityLocation"] == "ParkingGarage"
    assert wire["IsOpen24Hours"] is False
    assert [t["on"] for t in wire["OpeningTimes"]] == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
    ]  # fmt: skip
    assert wire["OpeningTimes"][0]["Period"] == [{"begin": "07:00", "end": "18:00"}]
    assert wire["HotlinePhoneNumber"] == HOTLINE
    assert wire["RenewableEnergy"] is False  # no energy mix: no claim
    assert wire["AuthenticationModes"] == []  # no capability: nothing guessed
    assert [str(n) for n in conversion.notes] == [
        "location cbb0df21-d17d-40ba-a4aa-dc588c8f98cb EVSE eccb8dd9-4189-433e-b100-cc0945dd17dc:"
        " no capability names a way to authenticate"
    ]
    EvseDataRecord.model_validate(wire)


def test_capabilities_floor_and_reservation_carry_over() -> None:
    location = example("location_example.json")
    location["opening_times"] = {"twentyfourseven": True}
    capabilities = ["RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE"]
    location["evses"][0]["capabilities"] = capabilities
    conversion = convert_locations([location], "BE*BEC", defaults())
    first, second = (r.to_wire() for r in conversion.records)
    assert first["AuthenticationModes"] == ["NFC RFID Classic", "REMOTE"]
    assert first["ValueAddedServices"] == ["Reservation"]
    assert first["PaymentOptions"] == ["Contract"]
    assert first["Address"]["Floor"] == "-1"
    assert first["IsOpen24Hours"] is True
    # two connectors of one standard, a cable and a socket: two OICP plugs, one facility
    assert first["Plugs"] == ["Type 2 Connector (Cable Attached)", "Type 2 Outlet"]
    assert len(first["ChargingFacilities"]) == 1
    assert second["Plugs"] == ["Type 2 Outlet"]
    # The hub's POI check finds only the house number OCPI keeps inside ``address``.
    errors = check_record(conversion.records[0]).errors
    assert [(f.property, f.message) for f in errors] == [("Address", "Address.HouseNum is blank")]


def test_unknown_opening_times_are_refused_unless_the_operator_says_24_7() -> None:
    location = example("location_example.json")
    refused = convert_locations([location], "BE*BEC", defaults())
    assert refused.records == []
    assert {f.message for f in refused.refused} == {
        "the location has no opening_times (say whether absent means 24/7)"
    }
    assumed = convert_locations([location], "BE*BEC", defaults(open_24h_when_unknown=True))
    assert [r.EvseID for r in assumed.records] == ["BE*BEC*E041503001", "BE*BEC*E041503002"]


@pytest.mark.parametrize(
    "name",
    [
        "location_example_uc3_destination_charger_not_published.json",
        "location_example_uc4_limited_visibility.json",
        "location_example_uc5_home_charge_point.json",
    ],
)
def test_unpublished_locations_are_refused(name: str) -> None:
    conversion = convert_locations([example(name)], "NL*ALF", defaults())
    assert conversion.records == []
    assert [f.message for f in conversion.refused] == ["not published (publish is false)"]


def _one(location: dict[str, Any], operator: str = "BE*BEC") -> list[str]:
    location = copy.deepcopy(location)
    location["opening_times"] = {"twentyfourseven": True}
    location["evses"] = location["evses"][:1]
    conversion = convert_locations([location], operator, defaults())
    assert conversion.records == [] or conversion.refused == []
    return [f.message for f in conversion.refused]


def test_refusals_name_what_is_missing() -> None:
    base = example("location_example.json")
    assert _one(base, "DE*ABC") == ["BE*BEC*E041503001 is not an EVSE of operator DEABC"]

    no_id = copy.deepcopy(base)
    del no_id["evses"][0]["evse_id"]
    assert _one(no_id) == ["no evse_id"]

    not_oicp = copy.deepcopy(base)
    not_oicp["evses"][0]["evse_id"] = "BE-BEC-041503001"
    assert _one(not_oicp) == ["evse_id 'BE-BEC-041503001' is not an OICP EvseID"]

    removed = copy.deepcopy(base)
    removed["evses"][0]["status"] = "REMOVED"
    assert _one(removed) == ["removed (status REMOVED)"]

    no_name = copy.deepcopy(base)
    del no_name["name"]
    assert _one(no_name) == ["the location has no name (ChargingStationNames)"]

    gbt = copy.deepcopy(base)
    gbt["evses"][0]["connectors"] = gbt["evses"][0]["connectors"][:1]
    gbt["evses"][0]["connectors"][0]["standard"] = "GBT_AC"
    assert _one(gbt) == ["no connector has an OICP plug type"]

    garbage: dict[str, Any] = {"id": "X1", "evses": "many"}
    conversion = convert_locations([garbage], "BE*BEC", defaults())
    assert conversion.records == [] and conversion.refused[0].message.startswith("not OCPI 2.2.1")


def test_defaults_are_checked() -> None:
    with pytest.raises(ValueError, match="hotline"):
        Defaults(hotline="030 123")
    with pytest.raises(ValueError, match="language"):
        Defaults(hotline=HOTLINE, language="English")
