"""Commands wire models, conversions and the response_url rule (OCPI 2.2.1
mod_commands, digest §5.6): what the node accepts, sends and answers is valid against
the OCPI OpenAPI files; what breaks a field rule is InvalidInput (2001) naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evroam.config import PartyConfig, Settings
from evroam.core.backend import CommandType
from evroam.core.callbacks import Reply
from evroam.core.errors import InvalidInput
from evroam.core.types import ConnectionStatus, Endpoint, InterfaceRole, Partner, Role
from evroam.ocpi.app import version_details
from evroam.ocpi.v2_2_1.commands.convert import (
    parse_command_type,
    parse_request,
    parse_result,
    reply_from,
    response_json,
)
from evroam.services.commands import check_response_url
from tests.ocpi_schema import schemas_missing_reason, validate_221

URL = "https://emsp.example.com/ocpi/2.2.1/sender/commands/START_SESSION/1"
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "APP1",
    "type": "APP_USER",
    "contract_id": "DE-MSP-C00001",
    "issuer": "MSP",
    "valid": True,
    "whitelist": "NEVER",
    "last_updated": "2026-01-01T00:00:00Z",
}
BODIES: dict[CommandType, dict[str, Any]] = {
    CommandType.START_SESSION: {
        "response_url": URL,
        "token": TOKEN,
        "location_id": "LOC1",
        "evse_uid": "E1",
        "connector_id": "1",
        "authorization_reference": "REF1",
    },
    CommandType.STOP_SESSION: {"response_url": URL, "session_id": "S1"},
    CommandType.RESERVE_NOW: {
        "response_url": URL,
        "token": TOKEN,
        "expiry_date": "2026-01-01T12:00:00Z",
        "reservation_id": "R1",
        "location_id": "LOC1",
    },
    CommandType.CANCEL_RESERVATION: {"response_url": URL, "reservation_id": "R1"},
    CommandType.UNLOCK_CONNECTOR: {
        "response_url": URL,
        "location_id": "LOC1",
        "evse_uid": "E1",
        "connector_id": "1",
    },
}
SCHEMA = {
    CommandType.START_SESSION: "StartSession",
    CommandType.STOP_SESSION: "StopSession",
    CommandType.RESERVE_NOW: "ReserveNow",
    CommandType.CANCEL_RESERVATION: "CancelReservation",
    CommandType.UNLOCK_CONNECTOR: "UnlockConnector",
}
needs_schemas = pytest.mark.skipif(
    schemas_missing_reason() is not None, reason=schemas_missing_reason() or ""
)


@needs_schemas
@pytest.mark.parametrize("command", list(CommandType))
def test_each_request_round_trips_and_is_valid_against_the_openapi_file(
    command: CommandType,
) -> None:
    doc = parse_request(command, {**BODIES[command], "unknown_field": 1})
    assert "unknown_field" not in doc  # tolerated, not kept
    assert validate_221("commands", SCHEMA[command], doc) == []
    assert parse_request(command, doc) == doc


@pytest.mark.parametrize(
    ("command", "change", "field"),
    [
        (CommandType.START_SESSION, {"evse_uid": None}, "evse_uid"),  # connector w/o EVSE
        (CommandType.START_SESSION, {"location_id": None}, "location_id"),
        (CommandType.START_SESSION, {"response_url": "ftp://x/y"}, "response_url"),
        (CommandType.START_SESSION, {"response_url": "https://x/" + "a" * 260}, "response_url"),
        (CommandType.STOP_SESSION, {"session_id": "S" * 37}, "session_id"),
        (CommandType.RESERVE_NOW, {"expiry_date": "tomorrow"}, "expiry_date"),
        (CommandType.RESERVE_NOW, {"token": {"uid": "X"}}, "token"),
        (CommandType.UNLOCK_CONNECTOR, {"connector_id": None}, "connector_id"),
        (CommandType.CANCEL_RESERVATION, {"reservation_id": 7}, "reservation_id"),
    ],
)
def test_a_broken_field_is_invalid_input_naming_it(
    command: CommandType, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in {**BODIES[command], **change}.items() if v is not None}
    with pytest.raises(InvalidInput, match=field):
        parse_request(command, body)


def test_a_body_that_is_not_an_object_and_an_unknown_command_are_refused() -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        parse_request(CommandType.STOP_SESSION, None)
    with pytest.raises(InvalidInput, match="CommandType"):
        parse_command_type("start_session")  # enums are case-sensitive
    assert parse_command_type("UNLOCK_CONNECTOR") == CommandType.UNLOCK_CONNECTOR


@needs_schemas
def test_answers_written_are_valid_command_responses() -> None:
    for reply in (
        Reply("ACCEPTED", 30),
        Reply("REJECTED", 0, "unknown location 'X'", 2003),
        Reply("UNKNOWN_SESSION", 0, "x" * 600),
    ):
        doc = json.loads(response_json(reply))
        assert validate_221("commands", "CommandResponse", doc) == []
    assert json.loads(response_json(Reply("ACCEPTED", 30))) == {"result": "ACCEPTED", "timeout": 30}


def test_partner_answers_are_read_and_bad_ones_refused() -> None:
    reply = reply_from(
        {
            "result": "REJECTED",
            "timeout": 0,
            "message": [{"language": "nl", "text": "nee"}, {"language": "en", "text": "no"}],
        }
    )
    assert (reply.result, reply.timeout, reply.message) == ("REJECTED", 0, "no / nee")
    for bad in ({"result": "ACCEPTED"}, {"result": "MAYBE", "timeout": 1}, None, []):
        with pytest.raises(InvalidInput, match="CommandResponse"):
            reply_from(bad)
    assert parse_result({"result": "CANCELED_RESERVATION"}).result.value == "CANCELED_RESERVATION"
    with pytest.raises(InvalidInput, match="result"):
        parse_result({"result": "ACCEPTED_ISH"})


def partner(versions_url: str, *urls: str) -> Partner:
    return Partner(
        id=1,
        status=ConnectionStatus.CONNECTED,
        versions_url=versions_url,
        endpoints=[Endpoint("x", InterfaceRole.RECEIVER, u) for u in urls],
    )


def test_response_url_must_be_on_an_origin_the_partner_registered() -> None:
    p = partner("https://Emsp.example.com/ocpi/versions", "http://cb.example.com:8080/ocpi/c")
    check_response_url(p, "https://emsp.example.com/any/path/1")
    check_response_url(p, "https://emsp.example.com:443/any")
    check_response_url(p, "http://cb.example.com:8080/cb/1")
    for url in (
        "http://emsp.example.com/cb",  # port 80, not the registered 443
        "https://cb.example.com/cb",  # port 443, not the registered 8080
        "https://evil.example.com/cb",
        "https://emsp.example.com.evil.example/cb",
        "https://user@emsp.example.com/cb",
        "file:///etc/passwd",
        "not a url",
        "http://[::1/cb",
    ):
        with pytest.raises(InvalidInput, match="response_url"):
            check_response_url(p, url)


def test_version_details_list_the_receiver_on_a_cpo_and_the_sender_on_an_emsp() -> None:
    def commands(role: Role) -> list[str]:
        settings = Settings(parties=[PartyConfig(country_code="NL", party_id="ABC", role=role)])
        endpoints = version_details(settings, "2.2.1")["endpoints"]
        return [e["role"] for e in endpoints if e["identifier"] == "commands"]

    assert commands(Role.CPO) == ["RECEIVER"]
    assert commands(Role.EMSP) == ["SENDER"]
    assert commands(Role.NSP) == []
