"""2.2.1 Credentials wire model: strict on known fields, tolerant of unknown ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.credentials.convert import to_core, to_wire
from evroam.ocpi.v2_2_1.credentials.models import Credentials

VALID: dict[str, Any] = {
    "token": "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2",
    "url": "https://example.com/ocpi/versions",
    "roles": [
        {
            "role": "CPO",
            "party_id": "EXA",
            "country_code": "NL",
            "business_details": {"name": "Example Operator", "website": "https://example.com"},
        }
    ],
}


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


def test_valid_credentials_round_trip() -> None:
    model = Credentials.model_validate(VALID)
    assert to_wire(to_core(model)) == VALID


def test_unknown_fields_are_tolerated() -> None:
    data = _with(["extra_field"], {"x": 1})
    data["roles"][0]["hub_party_id"] = "NLHUB"
    Credentials.model_validate(data)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["roles", 0, "party_id"], "EXAM", "roles[0].party_id"),
        (["roles", 0, "country_code"], "NLD", "roles[0].country_code"),
        (["roles", 0, "business_details", "name"], "x" * 101, "roles[0].business_details.name"),
        (["token"], "x" * 65, "token"),
        (["token"], "has space", "token"),
        (["url"], "not a url", "url"),
        (["roles", 0, "role"], "CPOX", "roles[0].role"),
        (["roles"], [], "roles"),
        (["roles"], _DELETE, "roles"),
        (["token"], 12345, "token"),
    ],
)
def test_invalid_field_message_names_the_field(path, value, field) -> None:
    with pytest.raises(ValidationError) as exc:
        Credentials.model_validate(_with(path, value))
    assert field in describe_validation_error(exc.value)


def test_duplicate_roles_are_refused() -> None:
    data = copy.deepcopy(VALID)
    data["roles"].append(copy.deepcopy(data["roles"][0]))
    data["roles"][1]["country_code"] = "nl"
    with pytest.raises(ValidationError) as exc:
        Credentials.model_validate(data)
    assert "appears twice" in str(exc.value)


def test_core_parties_are_case_folded() -> None:
    data = _with(["roles", 0, "party_id"], "exa")
    core = to_core(Credentials.model_validate(data))
    assert core.roles[0].key == ("NL", "EXA")
