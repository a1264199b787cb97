"""``evroam data``: input forms and the operator-API request of each module's object."""

from __future__ import annotations

import json

import pytest

from evroam.cli.data import object_request, read_objects


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


@pytest.mark.parametrize(
    ("module", "obj", "expected"),
    [
        (
            "locations",
            {"country_code": "NL", "party_id": "CPO", "id": "L 1/x"},
            ("PUT", "/locations/NL/CPO/L%201%2Fx"),
        ),
        (
            "tariffs",
            {"country_code": "NL", "party_id": "CPO", "id": "T1"},
            ("PUT", "/tariffs/NL/CPO/T1"),
        ),
        (
            "tokens",
            {"country_code": "DE", "party_id": "MSP", "uid": "U1", "type": "APP_USER"},
            ("PUT", "/tokens/DE/MSP/U1?type=APP_USER"),
        ),
        (
            "tokens",
            {"country_code": "DE", "party_id": "MSP", "uid": "U1"},
            ("PUT", "/tokens/DE/MSP/U1?type=RFID"),
        ),
        (
            "sessions",
            {"country_code": "NL", "party_id": "CPO", "id": "S1"},
            ("PUT", "/sessions/NL/CPO/S1"),
        ),
        ("cdrs", {"country_code": "NL", "party_id": "CPO", "id": "C1"}, ("POST", "/cdrs")),
    ],
)
def test_each_module_has_its_path(
    module: str, obj: dict[str, str], expected: tuple[str, str]
) -> None:
    assert object_request(module, obj) == expected


def test_an_object_without_its_keys_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="country_code"):
        object_request("locations", {"id": "x"})
    with pytest.raises(ValueError, match="not a JSON object"):
        object_request("locations", ["x"])


def test_an_envelope_error_is_printed_as_its_ocpi_code_and_message() -> None:
    from evroam.cli.node_api import _detail

    got = _detail({"status_code": 2003, "status_message": "unknown object", "timestamp": "x"})
    assert got == "OCPI 2003: unknown object"
    assert _detail({"detail": "no partner 7"}) == "no partner 7"
