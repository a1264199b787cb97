from __future__ import annotations

import pytest

from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    CredentialsTokenKind,
    Partner,
    Party,
    Role,
)
from evroam.ocpi.common.errors import InvalidParameters, Unauthorized
from evroam.web.auth import Caller, check_admin_token, check_routing_headers, parse_authorization

CALLER = Caller(
    partner=Partner(
        id=1,
        status=ConnectionStatus.CONNECTED,
        roles=[Party("DE", "ABC", Role.EMSP, BusinessDetails("x"))],
    ),
    kind=CredentialsTokenKind.AUTH,
    token="t",
)
OURS = {("NL", "EVR")}


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Token", "Token  ", "x" * 600])
def test_bad_authorization_headers_are_401(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        parse_authorization(header)


def test_token_scheme_is_case_insensitive() -> None:
    assert parse_authorization("token abc!")[0] == "abc!"


def test_routing_headers_absent_are_tolerated() -> None:
    check_routing_headers(CALLER, {}, OURS)


def test_routing_headers_matching_case_insensitively() -> None:
    check_routing_headers(
        CALLER,
        {
            "ocpi-from-country-code": "de",
            "ocpi-from-party-id": "abc",
            "ocpi-to-country-code": "NL",
            "ocpi-to-party-id": "evr",
        },
        OURS,
    )


def test_routing_from_other_party_is_2001() -> None:
    with pytest.raises(InvalidParameters):
        check_routing_headers(
            CALLER, {"ocpi-from-country-code": "DE", "ocpi-from-party-id": "XYZ"}, OURS
        )


def test_routing_to_someone_else_is_2001() -> None:
    with pytest.raises(InvalidParameters):
        check_routing_headers(
            CALLER, {"ocpi-to-country-code": "BE", "ocpi-to-party-id": "EVR"}, OURS
        )


def test_admin_token_check() -> None:
    assert check_admin_token("Bearer s3cret", "s3cret")
    assert check_admin_token("bearer s3cret", "s3cret")
    assert not check_admin_token("Bearer s3cre", "s3cret")
    assert not check_admin_token(None, "s3cret")
    assert not check_admin_token("Token s3cret", "s3cret")
