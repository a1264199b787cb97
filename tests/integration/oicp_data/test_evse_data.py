"""EVSE data through a real hub over mutual TLS, on SQLite and PostgreSQL: the push
rules of each ActionType with every refusal leaving nothing stored, the pull with every
filter, paging, coordinate notations and LastCall deltas (deletions included), the
SearchCenter of PullEvseStatus, and the POI findings the hub keeps, read back by the
CLI through the operator API.

What is stored is read back through an EMP's pull (another caller, another code path),
never from the hub's internals. Each test uses its own operator, so the module's shared
hub needs no reset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.oicp_data.support import Operator, Provider, record, refused
from tests.integration.oicp_hub.support import ADMIN_TOKEN, HubProcess


@pytest.fixture(scope="module")
def emp(hub: HubProcess) -> Provider:
    return Provider(hub, "DE-EMP")


@pytest.fixture(scope="module")
def counter() -> Iterator[Iterator[int]]:
    yield iter(range(100, 999))


@pytest.fixture
def cpo(hub: HubProcess, counter: Iterator[int]) -> Operator:
    return Operator(hub, f"DE*{next(counter)}", name="Op <b>[red]x[/red]")


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- push


def test_full_load_stores_records_and_the_pull_answers_them_with_operator(
    emp: Provider, cpo: Operator
) -> None:
    cpo.ok("fullLoad", [record(cpo.evse(2)), record(cpo.evse(1))])
    pulled = emp.pull(OperatorIds=[cpo.id])
    assert [r["EvseID"] for r in pulled] == [cpo.evse(1), cpo.evse(2)]
    first = pulled[0]
    assert first["OperatorID"] == cpo.id and first["OperatorName"] == cpo.name
    assert datetime.fromisoformat(first["lastUpdate"]).tzinfo is not None
    assert "deltaType" not in first
    expected = record(cpo.evse(1))
    assert {k: first[k] for k in expected} == expected


def test_full_load_replaces_the_set_and_an_empty_one_deletes_all(
    emp: Provider, cpo: Operator
) -> None:
    cpo.ok("fullLoad", [record(cpo.evse(1)), record(cpo.evse(2))])
    cpo.ok("fullLoad", [record(cpo.evse(2)), record(cpo.evse(3))])
    assert emp.evse_ids(cpo) == [cpo.evse(2), cpo.evse(3)]
    cpo.ok("fullLoad", [])
    assert emp.evse_ids(cpo) == []


def test_insert_update_delete(emp: Provider, cpo: Operator) -> None:
    cpo.ok("insert", [record(cpo.evse(1)), record(cpo.evse(2))])
    cpo.ok("update", [record(cpo.evse(1), HotlinePhoneNumber="+4930999999")])
    cpo.ok("delete", [record(cpo.evse(2))])
    pulled = emp.pull(OperatorIds=[cpo.id])
    assert [(r["EvseID"], r["HotlinePhoneNumber"]) for r in pulled] == [
        (cpo.evse(1), "+4930999999")
    ]


def test_insert_of_a_known_evse_is_refused_whole_naming_it(emp: Provider, cpo: Operator) -> None:
    cpo.ok("fullLoad", [record(cpo.evse(1))])
    info = refused(cpo.push("insert", [record(cpo.evse(5)), record(cpo.evse(1))]), 200, "022")
    assert cpo.evse(1) in info and cpo.evse(5) not in info
    assert emp.evse_ids(cpo) == [cpo.evse(1)]


def test_update_of_an_unknown_evse_is_refused_whole(emp: Provider, cpo: Operator) -> None:
    cpo.ok("fullLoad", [record(cpo.evse(1))])
    changed = record(cpo.evse(1), HotlinePhoneNumber="+4930999999")
    info = refused(cpo.push("update", [changed, record(cpo.evse(9))]), 200, "022")
    assert cpo.evse(9) in info
    assert emp.pull(OperatorIds=[cpo.id])[0]["HotlinePhoneNumber"] == "+4976112345"


def test_an_evse_of_another_operator_is_018_and_nothing_stored(
    emp: Provider, cpo: Operator
) -> None:
    info = refused(cpo.push("fullLoad", [record(cpo.evse(1)), record("DE*ZZZ*E1")]), 200, "018")
    assert "DE*ZZZ*E1" in info
    assert emp.evse_ids(cpo) == []


def test_one_evse_twice_in_a_body_is_022_and_nothing_stored(emp: Provider, cpo: Operator) -> None:
    twice = [record(cpo.evse(1)), record(cpo.evse(1).replace("*", ""))]
    assert "more than once" in refused(cpo.push("fullLoad", twice), 200, "022")
    assert emp.evse_ids(cpo) == []


def test_a_record_not_of_the_schema_is_400_022_and_nothing_stored(
    emp: Provider, cpo: Operator
) -> None:
    bad = record(cpo.evse(2))
    del bad["Address"]
    info = refused(cpo.push("fullLoad", [record(cpo.evse(1)), bad]), 400, "022")
    assert "Address" in info
    bad_id = record("DE*12")
    refused(cpo.push("fullLoad", [bad_id]), 400, "022")
    assert emp.evse_ids(cpo) == []


def test_another_operators_id_in_path_or_body_is_017_and_nothing_stored(
    hub: HubProcess, emp: Provider, cpo: Operator
) -> None:
    other = Operator(hub, "DE*OTH")
    refused(cpo.push("fullLoad", [record(cpo.evse(1))], body_id=other.id), 200, "017")
    refused(cpo.push("fullLoad", [record(other.evse(1))], path_id=other.id), 200, "017")
    assert emp.evse_ids(cpo) == [] and emp.evse_ids(other) == []


# --------------------------------------------------------------------------- pull


def test_every_pull_filter(emp: Provider, cpo: Operator) -> None:
    cpo.ok(
        "fullLoad",
        [
            record(cpo.evse(1)),
            record(cpo.evse(2), Address={**record("x")["Address"], "Country": "AUT"}),
            record(cpo.evse(3), Accessibility="Restricted access"),
            record(cpo.evse(4), AuthenticationModes=["PnC"]),
            record(cpo.evse(5), CalibrationLawDataAvailability="External"),
            record(cpo.evse(6), RenewableEnergy=False, EnergySource=None),
            record(cpo.evse(7), IsHubjectCompatible=False),
            record(cpo.evse(8), IsOpen24Hours=True, OpeningTimes=None),
        ],
    )

    def only(**body: Any) -> list[str]:
        return emp.evse_ids(cpo, **body)

    assert only(CountryCodes=["AUT"]) == [cpo.evse(2)]
    assert only(Accessibility=["Restricted access"]) == [cpo.evse(3)]
    assert only(AuthenticationModes=["PnC", "Direct Payment"]) == [cpo.evse(4)]
    assert only(CalibrationLawDataAvailability=["External"]) == [cpo.evse(5)]
    assert only(RenewableEnergy=False) == [cpo.evse(6)]
    assert only(IsHubjectCompatible=False) == [cpo.evse(7)]
    assert only(IsOpen24Hours=True) == [cpo.evse(8)]
    assert len(only()) == 8


def test_search_center_radius_in_km_and_answer_notation(emp: Provider, cpo: Operator) -> None:
    def at(n: int, lat: str, lon: str) -> dict[str, Any]:
        geo = {"DecimalDegree": {"Latitude": lat, "Longitude": lon}}
        return record(cpo.evse(n), GeoCoordinates=geo)

    # Around (10.0, 100.0): E1 at 1.1 km, E2 at 3.3 km, E3 far away.
    cpo.ok(
        "fullLoad",
        [at(1, "10.010000", "100.0"), at(2, "10.030000", "100.0"), at(3, "20.0", "100.0")],
    )
    center = {"GeoCoordinates": {"Google": {"Coordinates": "10.0 100.0"}}, "Radius": 2}
    pulled = emp.pull(SearchCenter=center, GeoCoordinatesResponseFormat="Google")
    assert [r["EvseID"] for r in pulled] == [cpo.evse(1)]
    assert pulled[0]["GeoCoordinates"] == {"Google": {"Coordinates": "10.010000 100.0"}}
    dms = emp.pull(OperatorIds=[cpo.id], GeoCoordinatesResponseFormat="DegreeMinuteSeconds")
    assert dms[0]["GeoCoordinates"]["DegreeMinuteSeconds"]["Latitude"] == "10°0'36.0000''"


def test_pages_in_a_stable_order(emp: Provider, cpo: Operator) -> None:
    cpo.ok("fullLoad", [record(cpo.evse(n)) for n in (5, 3, 1, 4, 2)])
    seen: list[str] = []
    for page in range(3):
        r = emp.pull_raw(f"?page={page}&size=2", OperatorIds=[cpo.id])
        body = r.json()
        assert (body["totalElements"], body["totalPages"], body["number"]) == (5, 3, page)
        assert body["last"] is (page == 2)
        seen += [x["EvseID"] for x in body["content"]]
    assert seen == [cpo.evse(n) for n in (1, 2, 3, 4, 5)]
    refused(emp.pull_raw("?size=2001", OperatorIds=[cpo.id]), 200, "022")


def test_last_call_delta_reports_inserts_updates_and_deletions(
    emp: Provider, cpo: Operator
) -> None:
    cpo.ok("fullLoad", [record(cpo.evse(1)), record(cpo.evse(2)), record(cpo.evse(3))])
    time.sleep(0.05)
    last_call = now_text()
    time.sleep(0.05)
    # E1 unchanged, E2 changed, E3 left out (deleted), E4 new.
    changed = record(cpo.evse(2), HotlinePhoneNumber="+4930999999")
    cpo.ok("fullLoad", [record(cpo.evse(1)), changed, record(cpo.evse(4))])
    delta = {
        r["EvseID"]: r["deltaType"]
        for r in emp.pull(LastCall=last_call)
        if r["EvseID"].startswith(cpo.id)
    }
    assert delta == {cpo.evse(2): "update", cpo.evse(3): "delete", cpo.evse(4): "insert"}


def test_last_call_with_country_codes_or_operators_is_022(emp: Provider, cpo: Operator) -> None:
    info = refused(emp.pull_raw(LastCall=now_text(), CountryCodes=["DEU"]), 200, "022")
    assert "CountryCodes" in info
    refused(emp.pull_raw(LastCall=now_text(), OperatorIds=[cpo.id]), 200, "022")


def test_pull_evse_status_search_center_uses_the_evse_data(
    hub: HubProcess, emp: Provider, cpo: Operator
) -> None:
    geo = {"DecimalDegree": {"Latitude": "-30.000000", "Longitude": "-60.000000"}}
    cpo.ok("fullLoad", [record(cpo.evse(1), GeoCoordinates=geo), record(cpo.evse(2))])
    statuses = {
        "ActionType": "fullLoad",
        "OperatorEvseStatus": {
            "OperatorID": cpo.id,
            "EvseStatusRecord": [
                {"EvseID": cpo.evse(n), "EvseStatus": "Available"} for n in (1, 2, 3)
            ],
        },
    }
    path = f"/evsepush/v21/operators/{cpo.id}/status-records"
    assert cpo.http.post(hub.url + path, json=statuses).status_code == 200
    center = {"GeoCoordinates": {"Google": {"Coordinates": "-30.0 -60.0"}}, "Radius": 1}
    r = emp.http.post(
        hub.url + f"/evsepull/v21/providers/{emp.id}/status-records",
        json={"ProviderID": emp.id, "SearchCenter": center},
    )
    assert r.status_code == 200, r.text
    found = [
        rec["EvseID"]
        for block in r.json()["EvseStatuses"]["OperatorEvseStatus"]
        for rec in block["EvseStatusRecord"]
    ]
    assert found == [cpo.evse(1)]


# --------------------------------------------------------------------------- POI


def cli(hub: HubProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    env.update({"EVROAM_ADMIN_TOKEN": ADMIN_TOKEN, "COLUMNS": "200"})
    return subprocess.run(
        [sys.executable, "-m", "evroam", "oicp", "poi-check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )


def test_poi_findings_are_kept_and_shown_by_the_cli(hub: HubProcess, cpo: Operator) -> None:
    hostile = record(cpo.evse(2), ChargingStationNames=[{"lang": "en", "value": "[bold]x"}])
    hostile["Address"] = {**hostile["Address"], "TimeZone": None}
    hostile["AccessibilityLocation"] = None
    cpo.ok("fullLoad", [record(cpo.evse(1)), hostile])  # findings inform, never refuse
    r = cli(hub, "--operator", cpo.id, "--node", hub.admin_url, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    by_id = {x["evse_id"]: x for x in data["records"]}
    assert by_id[cpo.evse(1)]["findings"] == [] and by_id[cpo.evse(1)]["score"] == 100
    props = {f["property"] for f in by_id[cpo.evse(2)]["findings"]}
    assert {"Address.TimeZone", "AccessibilityLocation"} <= props
    assert data["warnings"] == 2 and data["errors"] == 0
    table = cli(hub, "--operator", cpo.id, "--node", hub.admin_url)
    assert table.returncode == 0, table.stderr
    assert cpo.evse(2) in table.stdout and "Address.TimeZone" in table.stdout
    assert "2 records (1 without findings), 0 errors, 2 warnings" in table.stdout
    unknown = cli(hub, "--operator", "DE*NOP", "--node", hub.admin_url)
    assert unknown.returncode != 0
