"""``evroam data``: input forms and the operator-API request of each module's object."""

from __future__ import annotations

import json
from typing import Any

from evroam.cli.data import BATCH_BYTES, batches, read_objects


def test_one_object_a_list_and_json_lines_are_read_alike() -> None:
    objs = [{"id": "A"}, {"id": "B"}]
    assert list(read_objects(json.dumps(objs[0]))) == objs[:1]
    assert list(read_objects(json.dumps(objs))) == objs
    assert list(read_objects("\n".join(json.dumps(o) for o in objs) + "\n\n")) == objs
    assert list(read_objects("  ")) == []


def test_a_bad_json_line_is_reported_with_its_number_and_the_rest_is_read() -> None:
    got = list(read_objects('{"id": "A"}\n{oops\n{"id": "C"}'))
    assert got[0] == {"id": "A"} and got[2] == {"id": "C"}
    assert isinstance(got[1], ValueError) and "line 2" in str(got[1])


def test_batches_stay_within_their_count_and_size() -> None:
    """500 objects at most, 800 kB of JSON at most; an object larger than that goes
    alone; an object that could not be read travels without JSON."""
    small = [{"id": str(i)} for i in range(1200)]
    assert [len(b) for b in batches(small)] == [500, 500, 200]
    big = {"id": "big", "blob": "x" * BATCH_BYTES}
    mixed: list[Any] = [{"id": "a"}, big, {"id": "b"}, ValueError("line 4: not JSON")]
    groups = list(batches(mixed))
    assert [[index for index, _, _ in g] for g in groups] == [[0], [1], [2, 3]]
    assert groups[2][1][2] is None
    assert all(sum(len(raw or b"") for _, _, raw in g) <= BATCH_BYTES for g in groups[::2])


def test_an_envelope_error_is_printed_as_its_ocpi_code_and_message() -> None:
    from evroam.cli.node_api import _detail

    got = _detail({"status_code": 2003, "status_message": "unknown object", "timestamp": "x"})
    assert got == "OCPI 2003: unknown object"
    assert _detail({"detail": "no partner 7"}) == "no partner 7"
