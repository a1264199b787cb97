"""An EVSE data push is walked record by record (``jsonwalk``, ``parse_push``): what it
accepts and refuses must be what validating the whole body as one model did, and a
refusal says where."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evroam.oicp.v2_3.errors import DataError
from evroam.oicp.v2_3.hub.evsedata import entry_of, parse_push
from evroam.oicp.v2_3.jsonwalk import JsonShapeError, Walker
from evroam.oicp.v2_3.models.evsedata import PushEvseDataRequest
from tests.unit.oicp.records import complete_record

OPERATOR = "DE*ABC"


def body(n: int = 3, **envelope: Any) -> dict[str, Any]:
    records = []
    for i in range(n):
        r = complete_record()
        r["EvseID"] = f"{OPERATOR}*E{i}"
        records.append(r)
    data = {"OperatorID": OPERATOR, "OperatorName": "ABC", "EvseDataRecord": records}
    return {"ActionType": "fullLoad", "OperatorEvseData": data, **envelope}


def refused(text: str) -> str:
    with pytest.raises(DataError) as err:
        parse_push(text)
    assert err.value.http_status == 400
    return str(err.value)


def test_entries_are_those_of_the_whole_body_model() -> None:
    text = json.dumps(body(), indent=2)  # white space everywhere the walker steps
    push, entries = parse_push(text)
    whole = PushEvseDataRequest.model_validate_json(text)
    assert push.ActionType == whole.ActionType
    assert push.OperatorEvseData.OperatorID == OPERATOR
    assert entries == [entry_of(r) for r in whole.OperatorEvseData.EvseDataRecord]


def test_records_before_the_operator_and_an_empty_list() -> None:
    data = body()["OperatorEvseData"]
    reordered = {"EvseDataRecord": data["EvseDataRecord"], "OperatorName": "ABC"}
    reordered["OperatorID"] = OPERATOR
    _, entries = parse_push(json.dumps({"OperatorEvseData": reordered, "ActionType": "insert"}))
    assert [e.evse_id for e in entries] == [f"{OPERATOR}*E{i}" for i in range(3)]
    doc = body(0)
    push, entries = parse_push(json.dumps(doc))
    assert entries == [] and push.OperatorEvseData.EvseDataRecord == []


def test_a_bad_record_is_named_by_its_place() -> None:
    doc = body()
    doc["OperatorEvseData"]["EvseDataRecord"][2]["Accessibility"] = "Sometimes"
    message = refused(json.dumps(doc))
    assert message.startswith("OperatorEvseData.EvseDataRecord.2.Accessibility")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"ActionType": "fullLoad", ', "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"ActionType": "fullLoad"} x', "extra data"),
        ('{"ActionType": "fullLoad", "OperatorEvseData": {"EvseDataRecord": [}}', "not JSON"),
        ('{"ActionType": "fullLoad", "OperatorEvseData": {"EvseDataRecord": [] "a": 1}}', "'}'"),
        ('{"OperatorEvseData": {}, "OperatorEvseData": {}}', "twice"),
        ('{"OperatorEvseData": {"EvseDataRecord": [], "EvseDataRecord": []}}', "twice"),
        ('{"ActionType": "fullLoad", "OperatorEvseData": {"OperatorID": "DE*ABC"}}', "Field"),
        ('{"ActionType": "fullLoad", "OperatorEvseData": []}', "OperatorEvseData"),
    ],
)
def test_bad_bodies_are_refused_saying_why(text: str, why: str) -> None:
    assert why in refused(text)


def test_records_not_a_list_are_refused_by_the_model() -> None:
    doc = body()
    doc["OperatorEvseData"]["EvseDataRecord"] = {"EvseID": "x"}
    assert "EvseDataRecord" in refused(json.dumps(doc))


def test_walker_hands_out_each_element_as_its_own_text() -> None:
    walker = Walker(' { "a" : [ {"x": "]}"} , 2, "s" ] } ')
    seen: list[str] = []
    for key in walker.members():
        assert key == "a"
        seen.extend(walker.elements())
    walker.end()
    assert seen == ['{"x": "]}"}', "2", '"s"']
    with pytest.raises(JsonShapeError):
        _walk_all(Walker("{} {}"))


def _walk_all(walker: Walker) -> None:
    for _ in walker.members():
        walker.value()
    walker.end()
