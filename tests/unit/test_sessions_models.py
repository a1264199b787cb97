"""Sessions wire models and the Charging Preferences decision (OCPI 2.2.1 mod_sessions).

The spec's examples are read from ../shared/ocpi/examples/2.2.1 (skipped with the reason
when absent). Both session examples are wrong per the spec tables: their ``cdr_token``
lacks ``country_code`` and ``party_id`` (CdrToken, mod_cdrs; card. 1 since 2.2.1; digest
§7.14). evroam refuses them (2001 naming the field) and accepts them once the token's
owner is given; the tests check both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.core.errors import InvalidInput
from evroam.ocpi.v2_2_1.sessions.convert import to_document, to_json, validate_session
from evroam.ocpi.v2_2_1.sessions.models import (
    ChargingPreferences,
    Session,
    SessionPatch,
)
from evroam.services.sessions import decide

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ocpi" / "examples" / "2.2.1"


def example(name: str) -> dict[str, Any]:
    if not EXAMPLES.is_dir():
        pytest.skip(f"OCPI examples not found at {EXAMPLES} (../shared is absent)")
    data = json.loads((EXAMPLES / name).read_text())
    assert isinstance(data, dict)
    return data


def with_token_owner(doc: dict[str, Any]) -> dict[str, Any]:
    """The example with its cdr_token's owner added (contract_id NL-TST-... names it)."""
    fixed = json.loads(json.dumps(doc))
    fixed["cdr_token"] |= {"country_code": "NL", "party_id": "TST"}
    return fixed


def errors_of(model: type[Any], data: Any) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return str(info.value)


SESSION_EXAMPLES = ["session_example_1_simple_start.json", "session_example_2_short_finished.json"]
PATCH_EXAMPLES = [
    "session_patch_example_charging_period.json",
    "session_patch_example_total_cost.json",
]


@pytest.mark.parametrize("name", SESSION_EXAMPLES)
def test_session_example_without_token_owner_is_refused(name: str) -> None:
    # The example itself is wrong (digest §7.14): CdrToken.country_code/party_id missing.
    with pytest.raises(InvalidInput) as info:
        validate_session(example(name))
    assert "cdr_token.country_code" in str(info.value)
    assert "cdr_token.party_id" in str(info.value)


@pytest.mark.parametrize("name", SESSION_EXAMPLES)
def test_session_example_with_token_owner_round_trips(name: str) -> None:
    fixed = with_token_owner(example(name))
    doc = to_document(Session.model_validate(fixed))
    assert doc == fixed  # equal in meaning: 41.00 == 41.0, 120 == 120.0
    assert json.loads(to_json(doc)) == doc
    assert to_document(Session.model_validate(json.loads(to_json(doc)))) == doc


@pytest.mark.parametrize("name", PATCH_EXAMPLES)
def test_session_patch_examples_round_trip(name: str) -> None:
    data = example(name)
    assert to_document(SessionPatch.model_validate(data)) == data


def base_session() -> dict[str, Any]:
    return with_token_owner(example("session_example_1_simple_start.json"))


def test_absent_optional_fields_are_left_out_and_null_reads_as_absent() -> None:
    data = base_session() | {"end_date_time": None, "charging_periods": None, "meter_id": None}
    doc = to_document(Session.model_validate(data))
    assert "end_date_time" not in doc and "charging_periods" not in doc and "meter_id" not in doc
    assert "null" not in to_json(doc)


def test_patch_without_last_updated_is_refused() -> None:
    assert "last_updated" in errors_of(SessionPatch, {"kwh": 1.0})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "RESERVED"),  # the spec's text; the enum value is RESERVATION
        ("status", "active"),  # enums are case-sensitive
        ("auth_method", "PIN"),
    ],
)
def test_invalid_enum_is_refused(field: str, value: str) -> None:
    assert field in errors_of(Session, base_session() | {field: value})


def test_invalid_nested_enums_are_refused() -> None:
    data = base_session()
    data["cdr_token"]["type"] = "CARD"
    assert "cdr_token.type" in errors_of(Session, data)
    data = base_session() | {
        "charging_periods": [
            {
                "start_date_time": "2020-03-09T10:17:09Z",
                "dimensions": [{"type": "KWH", "volume": 1}],
            }
        ]
    }
    assert "charging_periods.0.dimensions.0.type" in errors_of(Session, data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "x" * 37),
        ("location_id", "L" * 37),
        ("meter_id", "m" * 256),
        ("authorization_reference", "a" * 37),
        ("currency", "EURO"),
        ("country_code", "NLD"),
        ("party_id", "STKX"),
    ],
)
def test_strings_over_their_length_are_refused(field: str, value: str) -> None:
    assert field in errors_of(Session, base_session() | {field: value})


def test_cdr_token_uid_over_36_is_refused() -> None:
    data = base_session()
    data["cdr_token"]["uid"] = "u" * 37
    assert "cdr_token.uid" in errors_of(Session, data)


@pytest.mark.parametrize(
    ("field", "value"),
    [("kwh", "12"), ("kwh", True), ("start_date_time", 12), ("total_cost", 2.5), ("id", 101)],
)
def test_wrong_type_is_refused(field: str, value: Any) -> None:
    assert field in errors_of(Session, base_session() | {field: value})


def test_list_where_an_object_is_expected_is_refused() -> None:
    errors_of(Session, [base_session()])
    errors_of(SessionPatch, [{"last_updated": "2020-03-09T10:17:09Z"}])


def test_charging_period_needs_a_dimension() -> None:
    data = base_session() | {
        "charging_periods": [{"start_date_time": "2020-03-09T10:17:09Z", "dimensions": []}]
    }
    assert "dimensions" in errors_of(Session, data)


def test_na_only_in_evse_uid_and_connector_id() -> None:
    # mod_sessions Session table: '#NA' for a reservation not yet bound to an EVSE.
    reserved = base_session() | {"evse_uid": "#NA", "connector_id": "#NA", "status": "RESERVATION"}
    assert to_document(Session.model_validate(reserved))["evse_uid"] == "#NA"
    assert "location_id" in errors_of(Session, base_session() | {"location_id": "#NA"})
    assert "'#NA'" in errors_of(Session, base_session() | {"id": "#na"})


def test_charging_preferences_model() -> None:
    prefs = {"profile_type": "FAST", "departure_time": "2030-01-01T10:00:00Z", "energy_need": 20}
    assert to_document(ChargingPreferences.model_validate(prefs)) == prefs
    assert "profile_type" in errors_of(ChargingPreferences, {"profile_type": "SLOW"})
    assert "discharge_allowed" in errors_of(
        ChargingPreferences, {"profile_type": "FAST", "discharge_allowed": "yes"}
    )


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ACTIVE = {"status": "ACTIVE"}


@pytest.mark.parametrize(
    ("session", "profiles", "prefs", "answer"),
    [
        (ACTIVE, {"REGULAR"}, {"profile_type": "REGULAR"}, "ACCEPTED"),
        ({"status": "COMPLETED"}, {"REGULAR"}, {"profile_type": "REGULAR"}, "NOT_POSSIBLE"),
        ({"status": "INVALID"}, {"REGULAR"}, {"profile_type": "REGULAR"}, "NOT_POSSIBLE"),
        (ACTIVE, {"REGULAR"}, {"profile_type": "FAST"}, "PROFILE_TYPE_NOT_SUPPORTED"),
        (ACTIVE, {"REGULAR", "FAST"}, {"profile_type": "FAST"}, "ACCEPTED"),
        (ACTIVE, {"REGULAR", "CHEAP"}, {"profile_type": "CHEAP"}, "DEPARTURE_REQUIRED"),
        (
            ACTIVE,
            {"REGULAR", "GREEN"},
            {"profile_type": "GREEN", "departure_time": "2026-11-25T18:00:00Z"},
            "ENERGY_NEED_REQUIRED",
        ),
        (
            ACTIVE,
            {"REGULAR", "CHEAP"},
            {"profile_type": "CHEAP", "departure_time": "2026-11-25T18:00:00Z", "energy_need": 9},
            "ACCEPTED",
        ),
        (
            ACTIVE,
            {"REGULAR"},
            {"profile_type": "REGULAR", "departure_time": "2026-11-25T11:00:00Z"},
            "NOT_POSSIBLE",
        ),
        (ACTIVE, {"REGULAR"}, {"profile_type": "REGULAR", "energy_need": -1}, "NOT_POSSIBLE"),
    ],
)
def test_charging_preferences_decision(
    session: dict[str, Any], profiles: set[str], prefs: dict[str, Any], answer: str
) -> None:
    assert decide(session, profiles, prefs, NOW) == answer
