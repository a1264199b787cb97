"""ChargingProfiles wire models and conversions (OCPI 2.2.1 mod_charging_profiles, digest
§5.7): what the node accepts, sends and answers is valid against the OCPI OpenAPI files;
a profile the spec rules out (negative or over-precise limits, periods out of order, a
string for a number) is InvalidInput (2001) naming the field; the result POSTed carries
a profile only for a GET."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evroam.config import PartyConfig, Settings
from evroam.core.backend import ProfileRequestType
from evroam.core.callbacks import Reply
from evroam.core.errors import InvalidInput
from evroam.core.types import Role
from evroam.ocpi.app import version_details
from evroam.ocpi.v2_2_1.chargingprofiles.convert import (
    parse_active,
    parse_duration,
    parse_request_type,
    parse_result,
    parse_set,
    reply_from,
    response_json,
    result_document,
)
from tests.ocpi_schema import schemas_missing_reason, validate_221

URL = "https://emsp.example.com/ocpi/2.2.1/sender/chargingprofiles/SET/1"
PROFILE: dict[str, Any] = {
    "start_date_time": "2026-01-01T12:00:00Z",
    "duration": 3600,
    "charging_rate_unit": "A",
    "min_charging_rate": 6.5,
    "charging_profile_period": [
        {"start_period": 0, "limit": 16},
        {"start_period": 900, "limit": 10.5},
    ],
}
ACTIVE = {"start_date_time": "2026-01-01T12:00:00Z", "charging_profile": PROFILE}
needs_schemas = pytest.mark.skipif(
    schemas_missing_reason() is not None, reason=schemas_missing_reason() or ""
)


@needs_schemas
def test_requests_and_results_round_trip_and_are_valid_against_the_openapi_file() -> None:
    doc = parse_set({"charging_profile": {**PROFILE, "extra": 1}, "response_url": URL})
    assert "extra" not in doc["charging_profile"]  # tolerated, not kept
    assert doc["charging_profile"]["charging_profile_period"][0]["limit"] == 16  # int stays
    assert validate_221("chargingprofiles", "SetChargingProfile", doc) == []
    assert parse_set(doc) == doc
    assert validate_221("chargingprofiles", "ActiveChargingProfile", parse_active(ACTIVE)) == []
    schema = {
        ProfileRequestType.GET_ACTIVE: "ActiveChargingProfileResult",
        ProfileRequestType.SET: "ChargingProfileResult",
        ProfileRequestType.CLEAR: "ClearProfileResult",
    }
    for kind, name in schema.items():
        for result in ("ACCEPTED", "REJECTED", "UNKNOWN"):
            doc = result_document(kind, result, ACTIVE)
            assert validate_221("chargingprofiles", name, doc) == []
            assert ("profile" in doc) == (kind == ProfileRequestType.GET_ACTIVE)
            assert parse_result(kind, doc) == doc


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"charging_rate_unit": "kW"}, "charging_rate_unit"),
        ({"charging_rate_unit": None}, "charging_rate_unit"),
        ({"duration": -1}, "duration"),
        ({"duration": "60"}, "duration"),
        ({"min_charging_rate": 6.55}, "min_charging_rate"),
        ({"charging_profile_period": [{"start_period": 0, "limit": -1}]}, "limit"),
        ({"charging_profile_period": [{"start_period": 0, "limit": "16"}]}, "limit"),
        ({"charging_profile_period": [{"start_period": 0, "limit": 7.25}]}, "limit"),
        ({"charging_profile_period": [{"start_period": 0}]}, "limit"),
        ({"charging_profile_period": [{"start_period": 1.5, "limit": 1}]}, "start_period"),
        (
            {
                "charging_profile_period": [
                    {"start_period": 600, "limit": 1},
                    {"start_period": 600, "limit": 2},
                ]
            },
            "start_period",
        ),
        ({"start_date_time": "noon"}, "start_date_time"),
    ],
)
def test_a_broken_profile_is_invalid_input_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    profile = {k: v for k, v in {**PROFILE, **change}.items() if v is not None}
    with pytest.raises(InvalidInput, match=field):
        parse_set({"charging_profile": profile, "response_url": URL})


def test_set_needs_its_profile_and_an_http_response_url() -> None:
    for body, field in (
        ({"response_url": URL}, "charging_profile"),
        ({"charging_profile": PROFILE}, "response_url"),
        ({"charging_profile": PROFILE, "response_url": "ftp://x/y"}, "response_url"),
        (["not", "an", "object"], "JSON object"),
    ):
        with pytest.raises(InvalidInput, match=field):
            parse_set(body)


def test_results_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(InvalidInput, match="result"):
        parse_result(ProfileRequestType.SET, {"result": "TIMEOUT"})
    with pytest.raises(InvalidInput, match="profile"):
        parse_result(ProfileRequestType.GET_ACTIVE, {"result": "ACCEPTED", "profile": {}})
    with pytest.raises(InvalidInput, match="missing"):
        parse_result(ProfileRequestType.CLEAR, None)
    with pytest.raises(InvalidInput, match="charging_profile"):
        result_document(ProfileRequestType.GET_ACTIVE, "ACCEPTED", {"start_date_time": "x"})


def test_query_parameters_and_url_segments() -> None:
    assert parse_duration("900") == 900
    for raw in (None, "", "ten", "-5", "1.5"):
        with pytest.raises(InvalidInput, match="duration"):
            parse_duration(raw)
    assert parse_request_type("GET_ACTIVE") == ProfileRequestType.GET_ACTIVE
    with pytest.raises(InvalidInput):
        parse_request_type("set")


@needs_schemas
def test_answers_written_are_valid_and_partner_answers_are_read() -> None:
    for reply in (Reply("ACCEPTED", 30), Reply("UNKNOWN_SESSION", 0, "unknown session 'X'")):
        doc = json.loads(response_json(reply))
        assert validate_221("chargingprofiles", "ChargingProfileResponse", doc) == []
    assert json.loads(response_json(Reply("ACCEPTED", 30))) == {"result": "ACCEPTED", "timeout": 30}
    reply = reply_from({"result": "TOO_OFTEN", "timeout": 0})
    assert (reply.result, reply.timeout) == ("TOO_OFTEN", 0)
    for bad in ({"result": "ACCEPTED"}, {"result": "TIMEOUT", "timeout": 1}, None):
        with pytest.raises(InvalidInput, match="ChargingProfileResponse"):
            reply_from(bad)


def test_version_details_list_the_receiver_on_a_cpo_and_the_sender_on_an_emsp() -> None:
    def profiles(role: Role) -> list[str]:
        settings = Settings(parties=[PartyConfig(country_code="NL", party_id="ABC", role=role)])
        endpoints = version_details(settings, "2.2.1")["endpoints"]
        return [e["role"] for e in endpoints if e["identifier"] == "chargingprofiles"]

    assert profiles(Role.CPO) == ["RECEIVER"]
    assert profiles(Role.EMSP) == ["SENDER"]
    assert profiles(Role.SCSP) == ["SENDER"]
    assert profiles(Role.NSP) == []
