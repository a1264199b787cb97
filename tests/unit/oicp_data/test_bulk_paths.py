"""The fast paths of EVSE data (bench/oicp_data.py): the pull's records spliced as
text give exactly what parsing and re-writing them gives, in every notation, and the
garbage collector pause of the push is undone whatever happens."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from evroam.core.oicp import StoredEvseData
from evroam.oicp.v2_3.hub.evsedata import (
    collector_paused,
    entry_of,
    page_text,
    splice_record,
    wire_record,
)
from evroam.oicp.v2_3.models.evse import EvseDataRecord
from evroam.oicp.v2_3.models.geo import Notation
from evroam.oicp.v2_3.pages import PageRequest, page_body
from tests.unit.oicp.records import complete_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

GEOS: list[dict[str, Any]] = [
    {"DecimalDegree": {"Longitude": "7.852070", "Latitude": "-47.995900"}},
    {"Google": {"Coordinates": "47.9959 7.85207"}},
    {"Google": {"Coordinates": "47.9959,7.85207"}},
    {"Google": {"Coordinates": "47.9959\t7.85207"}},  # escaped in JSON: the parsing path
    {"DegreeMinuteSeconds": {"Longitude": "7°51'7.4520''", "Latitude": "47°59'45.2400''"}},
]


def stored(raw: dict[str, Any], *, deleted: bool = False) -> StoredEvseData:
    entry = entry_of(EvseDataRecord.model_validate(raw))
    return StoredEvseData(
        operator=entry.operator,
        evse_id=entry.evse_id,
        canonical_evse_id=entry.canonical_evse_id,
        operator_id="DE*EVR",
        operator_name='Stadtwerke "Ö"',
        record=entry.record,
        created_at=T0,
        updated_at=T1,
        deleted_at=T1 if deleted else None,
    )


def variants() -> list[dict[str, Any]]:
    out = []
    for geo in GEOS:
        for entrance in (None, GEOS[0], GEOS[1]):
            raw = complete_record()
            raw["GeoCoordinates"] = geo
            if entrance is not None:
                raw["GeoChargingPointEntrance"] = entrance
            out.append(raw)
    # Text that looks like a geo object inside a string value is data, not structure.
    tricky = complete_record()
    tricky["AdditionalInfo"] = [
        {"lang": "en", "value": '"GeoCoordinates":{"DecimalDegree":{"Longitude":"1.0"'}
    ]
    out.append(tricky)
    return out


@pytest.mark.parametrize("notation", list(Notation))
@pytest.mark.parametrize("since", [None, T0, datetime(2027, 1, 1, tzinfo=UTC)])
def test_spliced_record_is_the_parsed_one(notation: Notation, since: datetime | None) -> None:
    for raw in variants():
        for deleted in (False, True):
            row = stored(raw, deleted=deleted)
            spliced = splice_record(row, notation, since)
            expected = wire_record(row, notation, since)
            if spliced is None:
                # Only what a rearrangement cannot do goes the parsing way.
                assert (
                    notation is Notation.DEGREE_MINUTE_SECONDS
                    or "\\t" in row.record
                    or ("DegreeMinuteSeconds" in row.record)
                )
                continue
            assert json.loads(spliced) == expected
            assert list(json.loads(spliced)) == list(expected)  # same key order too


def test_splicing_is_used_for_the_common_conversions() -> None:
    row = stored(complete_record())  # DecimalDegree
    assert splice_record(row, Notation.GOOGLE, None) is not None
    assert splice_record(row, Notation.DECIMAL_DEGREE, None) is not None
    assert splice_record(row, Notation.DEGREE_MINUTE_SECONDS, None) is None


def test_page_text_is_the_page_body_of_the_parsed_records() -> None:
    rows = [stored(raw) for raw in variants()]
    request = PageRequest(page=1, size=len(rows))
    total = 3 * len(rows) + 1
    for notation in Notation:
        body = json.loads(page_text(rows, notation, None, request, total))
        expected = page_body([wire_record(r, notation, None) for r in rows], request, total)
        assert body == expected
    empty = json.loads(page_text([], Notation.GOOGLE, None, PageRequest(page=0, size=10), 0))
    assert empty == page_body([], PageRequest(page=0, size=10), 0)


def test_collector_pause_is_undone_on_error_and_kept_off_when_it_was_off() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
