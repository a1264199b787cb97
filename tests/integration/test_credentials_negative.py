"""Refused credentials calls, end to end against a real node.

Every refusal must answer the right HTTP status with an OCPI envelope (``status_code``,
``timestamp``), and change nothing: the partners as listed, the tokens the node issued,
which tokens open the node and which do not. The partner side is played by the test
(a ``FakePartner`` from ``partner_factory``), so it can misbehave in every way a real platform does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.fake_partner import (
    FakePartner,
    assert_envelope,
    b64,
    issued_token_hashes,
    new_token,
    partners,
    stored_state,
    token_out,
    unused_versions_url,
)
from tests.support import NodeProcess

CREDENTIALS = "/ocpi/2.2.1/credentials"
HUBCLIENTINFO = "/ocpi/2.2.1/receiver/hubclientinfo/NL/ABC"


@pytest.fixture
def node(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    # Several refusals in a row with one token A are this file's business; the limit on
    # them has its own test below.
    return node_factory(
        "NL", "CPO", roles=("CPO",), extra_env={"EVROAM_MAX_REGISTRATION_ATTEMPTS": "50"}
    )


def _invite(node: NodeProcess) -> str:
    token: str = node.api("POST", "/partners/invite", {}, expect=201)["token"]
    return token


def _registered(node: NodeProcess, partner: FakePartner) -> str:
    """Run the handshake for ``partner``; return token C (the partner's token at the node)."""
    assert_envelope(partner.register_with(node.versions_url, _invite(node)), 200, 1000)
    assert partner.node.token
    return partner.node.token


def _opens_versions(node: NodeProcess, token: str) -> None:
    assert_envelope(node.ocpi("GET", "/ocpi/versions", token), 200, 1000)


def _works(node: NodeProcess, token: str) -> None:
    body = assert_envelope(node.ocpi("GET", CREDENTIALS, token), 200, 1000)
    assert body["data"]["token"] == token


def _refused(node: NodeProcess, token: str) -> None:
    assert_envelope(node.ocpi("GET", "/ocpi/versions", token), 401, 2000)


def _client_info() -> dict[str, Any]:
    return {
        "party_id": "ABC",
        "country_code": "NL",
        "role": "CPO",
        "status": "CONNECTED",
        "last_updated": "2026-01-01T00:00:00Z",
    }


# ---------------------------------------------------------------------- authentication


def test_unknown_missing_or_malformed_token_is_401(node, partner_factory) -> None:
    partner = partner_factory()
    token_c = _registered(node, partner)
    token_a = _invite(node)  # a second, merely invited partner
    before = stored_state(node)
    unknown = new_token()
    bad_headers: dict[str, dict[str, str]] = {
        "unknown token (Base64)": {"Authorization": f"Token {b64(unknown)}"},
        "unknown token (raw)": {"Authorization": f"Token {unknown}"},
        "no Authorization header": {},
        "empty Authorization header": {"Authorization": ""},
        "scheme only": {"Authorization": "Token"},
        "Bearer scheme with a valid token": {"Authorization": f"Bearer {b64(token_c)}"},
        "Basic scheme": {"Authorization": f"Basic {b64('user:' + token_c)}"},
        "no scheme": {"Authorization": b64(token_c)},
        "two values": {"Authorization": f"Token {b64(token_c)} {b64(token_c)}"},
        "oversized header": {"Authorization": f"Token {'A' * 600}"},
    }
    calls = [
        ("GET", "/ocpi/versions", None),
        ("GET", "/ocpi/2.2.1", None),
        ("GET", CREDENTIALS, None),
        ("POST", CREDENTIALS, partner.credentials(new_token())),
        ("PUT", CREDENTIALS, partner.credentials(new_token())),
        ("DELETE", CREDENTIALS, None),
        ("PUT", HUBCLIENTINFO, _client_info()),
    ]
    for label, headers in bad_headers.items():
        for method, path, body in calls:
            resp = node.ocpi(method, path, None, headers=headers, json=body)
            try:
                assert_envelope(resp, 401, 2000)
            except AssertionError as exc:
                raise AssertionError(f"{label}: {exc}") from None
    assert stored_state(node) == before
    _works(node, token_c)
    _opens_versions(node, token_a)
    assert [p["status"] for p in partners(node)] == ["CONNECTED", "PLANNED"]


def test_token_a_after_the_handshake_is_401(node, partner_factory) -> None:
    partner = partner_factory()
    token_a = _invite(node)
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)
    token_c = partner.node.token
    assert token_c
    before = stored_state(node)
    mark = len(partner.calls)

    for method, path in (("GET", "/ocpi/versions"), ("GET", "/ocpi/2.2.1"), ("GET", CREDENTIALS)):
        assert_envelope(node.ocpi(method, path, token_a), 401, 2000)
    for raw in (False, True):
        resp = node.ocpi(
            "POST",
            CREDENTIALS,
            token_a,
            raw_token=raw,
            json=partner.credentials(partner.issue_token()),
        )
        assert_envelope(resp, 401, 2000)

    assert partner.calls_since(mark) == []  # the node did not start a discovery
    assert stored_state(node) == before
    _works(node, token_c)


def test_token_a_on_a_module_other_than_versions_and_credentials_is_401(
    node, partner_factory
) -> None:
    partner = partner_factory()
    token_a = _invite(node)
    before = stored_state(node)

    for method, body in (("PUT", _client_info()), ("GET", None)):
        for raw in (False, True):
            resp = node.ocpi(method, HUBCLIENTINFO, token_a, raw_token=raw, json=body)
            assert_envelope(resp, 401, 2000)

    assert stored_state(node) == before
    assert [p["status"] for p in partners(node)] == ["PLANNED"]
    _opens_versions(node, token_a)
    # ...and it still registers.
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)


# ---------------------------------------------------------------------- wrong method for the state


def test_second_post_from_registered_partner_is_405(node, partner_factory) -> None:
    partner = partner_factory()
    token_c = _registered(node, partner)
    before = stored_state(node)
    mark = len(partner.calls)

    resp = node.ocpi("POST", CREDENTIALS, token_c, json=partner.credentials(partner.issue_token()))
    assert_envelope(resp, 405, 2000)

    assert partner.calls_since(mark) == []
    assert stored_state(node) == before
    _works(node, token_c)


def test_put_and_delete_before_registration_are_405(node, partner_factory) -> None:
    partner = partner_factory()
    token_a = _invite(node)
    before = stored_state(node)

    resp = node.ocpi("PUT", CREDENTIALS, token_a, json=partner.credentials(partner.issue_token()))
    assert_envelope(resp, 405, 2000)
    assert_envelope(node.ocpi("DELETE", CREDENTIALS, token_a), 405, 2000)

    assert partner.calls == []
    assert stored_state(node) == before
    _opens_versions(node, token_a)


# ---------------------------------------------------------------------- updates refused


def test_put_changing_country_code_or_party_id_is_2001_and_changes_nothing(
    node, partner_factory
) -> None:
    partner = partner_factory()
    token_c = _registered(node, partner)
    before = stored_state(node)
    mark = len(partner.calls)

    for change, new_party in (({"party_id": "XYZ"}, "DE-XYZ"), ({"country_code": "BE"}, "BE-MAN")):
        body = partner.credentials(partner.issue_token(), **change)
        resp = node.ocpi("PUT", CREDENTIALS, token_c, json=body)
        assert_envelope(resp, 200, 2001, "country_code/party_id", "DE-MAN", new_party)

    assert partner.calls_since(mark) == []
    assert stored_state(node) == before
    [shown] = partners(node)
    assert [(r["country_code"], r["party_id"], r["role"]) for r in shown["roles"]] == [
        ("DE", "MAN", "EMSP")
    ]
    _works(node, token_c)
    # The same parties in another case are no change (CiString): accepted.
    same = partner.credentials(partner.issue_token(), country_code="de", party_id="man")
    assert_envelope(node.ocpi("PUT", CREDENTIALS, token_c, json=same), 200, 1000)
    [shown] = partners(node)
    assert (shown["country_code"], shown["party_id"]) == ("DE", "MAN")


def test_put_when_partner_api_is_unusable_is_3001_and_keeps_the_old_token(
    node, partner_factory
) -> None:
    partner = partner_factory()
    token_c = _registered(node, partner)
    before = stored_state(node)

    partner.mode = "http_500"
    assert_envelope(partner.update_at_node(), 200, 3001)
    partner.mode = "ok"
    # A new token we never accept: the node's re-discovery is refused.
    body = partner.credentials(new_token())
    assert_envelope(node.ocpi("PUT", CREDENTIALS, token_c, json=body), 200, 3001)

    assert stored_state(node) == before
    _works(node, token_c)
    assert_envelope(partner.update_at_node(), 200, 1000)  # a good update still goes through


# ---------------------------------------------------------------------- registrations refused


def test_partner_versions_down_is_3001_and_invitation_survives(node, partner_factory) -> None:
    partner = partner_factory()
    token_a = _invite(node)
    before = stored_state(node)

    body = partner.credentials(new_token()) | {"url": unused_versions_url()}
    assert_envelope(node.ocpi("POST", CREDENTIALS, token_a, json=body), 200, 3001)

    assert stored_state(node) == before
    [shown] = partners(node)
    assert (shown["status"], shown["registered"], shown["roles"]) == ("PLANNED", False, [])
    # One log line says who was refused and why (the reason stays in the log).
    [line] = [ln for ln in node.log().splitlines() if "registration by" in ln]
    assert "DE-MAN" in line and "refused" in line and "127.0.0.1" in line
    _opens_versions(node, token_a)
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)


def test_partner_api_answering_garbage_is_3001_and_stores_nothing(node, partner_factory) -> None:
    partner = partner_factory()
    token_a = _invite(node)
    before = stored_state(node)

    for mode in ("not_json", "no_envelope", "http_500", "data_not_list", "details_not_json"):
        partner.mode = mode
        mark = len(partner.calls)
        assert_envelope(partner.register_with(node.versions_url, token_a), 200, 3001)
        assert partner.calls_since(mark), f"{mode}: the node did not try our versions endpoint"
        assert stored_state(node) == before, mode
        _opens_versions(node, token_a)
    partner.mode = "ok"
    # A token B that our own versions endpoint refuses.
    body = partner.credentials(new_token())
    assert_envelope(node.ocpi("POST", CREDENTIALS, token_a, json=body), 200, 3001)
    assert stored_state(node) == before

    assert [p["status"] for p in partners(node)] == ["PLANNED"]
    _opens_versions(node, token_a)
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)


def test_token_a_is_revoked_after_repeated_failed_registrations(
    node_factory: Callable[..., NodeProcess], partner_factory: Callable[..., FakePartner]
) -> None:
    node = node_factory(
        "NL", "CPO", roles=("CPO",), extra_env={"EVROAM_MAX_REGISTRATION_ATTEMPTS": "2"}
    )
    partner = partner_factory()
    token_a = _invite(node)
    partner.mode = "not_json"
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 3001)
    _opens_versions(node, token_a)
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 3001)
    _refused(node, token_a)
    assert "token A revoked after 2 failed registrations" in node.log()


@pytest.mark.parametrize(
    ("mode", "ocpi_status"),
    [("no_2_2_1", 3002), ("no_credentials_endpoint", 3003)],
    ids=["no-2.2.1-is-3002", "no-credentials-endpoint-is-3003"],
)
def test_partner_without_2_2_1_or_credentials_endpoint_is_refused_and_stores_nothing(
    node, partner_factory, mode: str, ocpi_status: int
) -> None:
    partner = partner_factory()
    partner.mode = mode
    token_a = _invite(node)
    before = stored_state(node)

    assert_envelope(partner.register_with(node.versions_url, token_a), 200, ocpi_status)

    assert [c.path for c in partner.calls][:1] == ["/ocpi/versions"]
    assert stored_state(node) == before
    assert [p["status"] for p in partners(node)] == ["PLANNED"]
    _opens_versions(node, token_a)
    partner.mode = "ok"
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)


# ---------------------------------------------------------------------- bad bodies


def test_malformed_json_body_is_400(node, partner_factory) -> None:
    partner = partner_factory()
    token_c = _registered(node, partner)
    token_a = _invite(node)
    before = stored_state(node)
    mark = len(partner.calls)

    for method, token in (("POST", token_a), ("PUT", token_c)):
        for raw in (b'{"token": "abc", "url": ', b"token=abc", b"\xff\xfe{}"):
            resp = node.ocpi(
                method,
                CREDENTIALS,
                token,
                content=raw,
                headers={"Content-Type": "application/json"},
            )
            assert_envelope(resp, 400, 2000)

    assert partner.calls_since(mark) == []
    assert stored_state(node) == before
    _works(node, token_c)
    _opens_versions(node, token_a)


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _with_role(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return body | {"roles": [body["roles"][0] | changes]}


def test_missing_or_invalid_field_is_2001_naming_it(node, partner_factory) -> None:
    partner = partner_factory()
    token_a = _invite(node)
    before = stored_state(node)
    good = partner.credentials(partner.issue_token())
    cases: list[tuple[str, Any, str]] = [
        ("roles missing", _without(good, "roles"), "roles"),
        ("roles empty", good | {"roles": []}, "roles"),
        ("token missing", _without(good, "token"), "token"),
        ("url missing", _without(good, "url"), "url"),
        ("url not a URL", good | {"url": "versions, please"}, "url"),
        ("url not http", good | {"url": "ftp://127.0.0.1/ocpi/versions"}, "url"),
        ("url too long", good | {"url": "http://x/" + "v" * 250}, "url"),
        ("token too long", good | {"token": "t" * 65}, "token"),
        ("token with a blank", good | {"token": "two words"}, "token"),
        ("party_id too long", _with_role(good, party_id="ABCD"), "party_id"),
        ("country_code too long", _with_role(good, country_code="DEU"), "country_code"),
        ("unknown role", _with_role(good, role="DRIVER"), "role"),
        (
            "business_details.name too long",
            _with_role(good, business_details={"name": "n" * 101}),
            "business_details.name",
        ),
        ("business_details null", _with_role(good, business_details=None), "business_details"),
        ("body is a list", [good], "body"),
        ("body is null", None, "body"),
    ]
    for label, body, field in cases:
        resp = node.ocpi("POST", CREDENTIALS, token_a, json=body)
        try:
            assert_envelope(resp, 200, 2001, field)
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from None

    assert partner.calls == []
    assert stored_state(node) == before
    _opens_versions(node, token_a)
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)


def test_party_held_by_another_partner_is_2001(node, partner_factory) -> None:
    first = partner_factory()
    token_c = _registered(node, first)
    second = partner_factory()
    token_a = _invite(node)
    before = stored_state(node)

    # The same party in another case is the same party (CiString).
    resp = second.register_with(node.versions_url, token_a, country_code="de", party_id="man")
    assert_envelope(resp, 200, 2001, "DE-MAN")
    # This node's own party is not for a partner to take either.
    resp = second.register_with(node.versions_url, token_a, country_code="NL", party_id="CPO")
    assert_envelope(resp, 200, 2001, "NL-CPO")

    assert second.calls == []
    assert stored_state(node) == before
    _works(node, token_c)
    _opens_versions(node, token_a)
    assert_envelope(second.register_with(node.versions_url, token_a, party_id="TWO"), 200, 1000)


# ---------------------------------------------------------------------- accepted forms, races


def test_raw_and_base64_token_forms_are_both_accepted(node, partner_factory) -> None:
    partner = partner_factory()
    token_a = _invite(node)

    assert_envelope(node.ocpi("GET", "/ocpi/versions", token_a, raw_token=True), 200, 1000)
    assert_envelope(node.ocpi("GET", "/ocpi/versions", token_a), 200, 1000)
    body = assert_envelope(
        partner.register_with(node.versions_url, token_a, raw_token=True), 200, 1000
    )
    token_c = body["data"]["token"]

    with_newline = base64.b64encode(f"{token_c}\n".encode()).decode()  # as the spec examples
    for header in (f"Token {token_c}", f"Token {b64(token_c)}", f"Token {with_newline}"):
        resp = node.ocpi("GET", CREDENTIALS, None, headers={"Authorization": header})
        assert assert_envelope(resp, 200, 1000)["data"]["token"] == token_c, header


def test_concurrent_posts_with_one_token_a_register_once(node, partner_factory) -> None:
    partner = partner_factory()
    partner.hold_versions = 2  # both registrations are past their checks before either ends
    token_a = _invite(node)

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(partner.register_with, node.versions_url, token_a) for _ in range(2)]
        answers = [f.result() for f in futures]

    codes = sorted((r.status_code, r.json()["status_code"]) for r in answers)
    # One registers; the other is told it is already registered (405), or that token A
    # is spent (401), but never handed a second token C that the first one cancels.
    assert codes[0] == (200, 1000), [r.text for r in answers]
    assert codes[1] in [(401, 2000), (405, 2000)], [r.text for r in answers]
    [winner] = [r.json() for r in answers if r.status_code == 200]
    _works(node, winner["data"]["token"])
    [shown] = partners(node)
    assert shown["status"] == "CONNECTED"
    assert len(issued_token_hashes(node)) == 1
    _refused(node, token_a)


# ---------------------------------------------------------------------- the node as initiator


def test_register_with_unreachable_or_unusable_partner_is_502_and_stores_nothing(
    node, partner_factory
) -> None:
    partner = partner_factory()
    token_a = partner.issue_token_a()
    attempts = [
        (unused_versions_url(), "ok", "PartnerUnreachable"),
        (partner.versions_url, "not_json", "PartnerUnreachable"),
        (partner.versions_url, "http_500", "PartnerUnreachable"),
        (partner.versions_url, "no_2_2_1", "NoMutualVersion"),
        (partner.versions_url, "no_credentials_endpoint", "MissingEndpoints"),
    ]
    for url, mode, error in attempts:
        partner.mode = mode
        answer = node.api(
            "POST", "/partners/register", {"versions_url": url, "token": token_a}, expect=502
        )
        assert answer["error"] == error, (mode, answer)
        assert partners(node) == [], mode
        assert issued_token_hashes(node) == [], mode
    assert not any(c.method == "POST" for c in partner.calls)


def test_register_with_wrong_token_a_is_502_and_stores_nothing(node_factory) -> None:
    us = node_factory("NL", "CPO", roles=("CPO",))
    them = node_factory("DE", "MSP", roles=("EMSP",))
    invitation = them.api("POST", "/partners/invite", {}, expect=201)
    theirs_before = stored_state(them)

    for wrong in (new_token(), invitation["token"][:-1]):
        answer = us.api(
            "POST",
            "/partners/register",
            {"versions_url": them.versions_url, "token": wrong},
            expect=502,
        )
        assert answer["error"] == "PartnerRefused"
        assert "401" in answer["detail"]
        assert partners(us) == []
        assert issued_token_hashes(us) == []
    failed = [ln for ln in us.log().splitlines() if "registration with" in ln]
    assert len(failed) == 2 and all("failed" in ln and "401" in ln for ln in failed)

    assert stored_state(them) == theirs_before
    _opens_versions(them, invitation["token"])
    shown = us.api(
        "POST",
        "/partners/register",
        {"versions_url": them.versions_url, "token": invitation["token"]},
        expect=201,
    )
    assert shown["status"] == "CONNECTED"


def test_registration_refused_by_partner_is_502_and_token_b_is_revoked(
    node, partner_factory
) -> None:
    partner = partner_factory()
    token_a = partner.issue_token_a()
    partner.registration_error = 2001

    answer = node.api(
        "POST",
        "/partners/register",
        {"versions_url": partner.versions_url, "token": token_a},
        expect=502,
    )
    assert answer["error"] == "PartnerRefused"
    assert "2001" in answer["detail"]
    [posted] = partner.posted
    _refused(node, posted["token"])  # the token B it offered is gone with the attempt
    assert partners(node) == []
    assert issued_token_hashes(node) == []

    partner.registration_error = None
    shown = node.api(
        "POST",
        "/partners/register",
        {"versions_url": partner.versions_url, "token": token_a},
        expect=201,
    )
    assert shown["status"] == "CONNECTED"
    assert token_out(node, shown["id"]) in partner.accepted
