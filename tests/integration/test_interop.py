"""Interoperability with real-world OCPI partners, over HTTP against real nodes.

A fake partner platform (``fake_partner.py``) bends the spec the way real platforms do;
evroam must cope both when it starts the handshake ("node registers": the operator API
``POST /partners/register``) and when it receives it ("partner registers": the fake POSTs
its credentials with token A), log each deviation once per partner at WARNING level, and
itself send exactly what OCPI 2.2.1 prescribes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.integration.fake_partner import FakeFleet, FakePartner, Recorded, b64, deviation_lines
from tests.support import NodeProcess

NODE_REGISTERS = "node-registers"
PARTNER_REGISTERS = "partner-registers"
DIRECTIONS = [NODE_REGISTERS, PARTNER_REGISTERS]
ROUTING_HEADERS = (
    "ocpi-from-country-code",
    "ocpi-from-party-id",
    "ocpi-to-country-code",
    "ocpi-to-party-id",
)

NodeFactory = Callable[..., NodeProcess]


@pytest.fixture
def backend() -> str:
    """HTTP behaviour does not depend on the database: these run on SQLite only (the
    lifecycle and negative tests cover PostgreSQL)."""
    return "sqlite"


@pytest.fixture
def node(node_factory: NodeFactory) -> NodeProcess:
    return node_factory("DE", "EVR", roles=("CPO",))


def connect(node: NodeProcess, fake: FakePartner, direction: str) -> dict[str, Any]:
    """Complete the handshake in ``direction``; return the partner as the node shows it."""
    if direction == NODE_REGISTERS:
        token_a = fake.issue_token_a()
        return dict(
            node.api(
                "POST",
                "/partners/register",
                {"versions_url": fake.versions_url, "token": token_a},
                expect=201,
            )
        )
    invitation = node.api("POST", "/partners/invite", {}, expect=201)
    r = fake.register_with(invitation["versions_url"], invitation["token"])
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
    return dict(node.api("GET", f"/partners/{invitation['partner']['id']}", expect=200))


def interact_again(node: NodeProcess, fake: FakePartner, direction: str) -> None:
    """A second full exchange with the same partner: versions, details and credentials."""
    if direction == NODE_REGISTERS:
        node.api("POST", f"/partners/{fake.label}/update", expect=200)
    else:
        r = fake.update_at_node()
        assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text


def assert_connected(partner: dict[str, Any], fake: FakePartner) -> None:
    assert partner["status"] == "CONNECTED"
    assert partner["registered"] is True
    assert partner["version"] == "2.2.1"
    assert (partner["country_code"].upper(), partner["party_id"].upper()) == (
        fake.country_code,
        fake.party_id,
    )


def authorization_tokens(requests: list[Recorded]) -> list[tuple[str, str]]:
    """(form, token) of each request's Authorization header: form is "b64" or "raw"."""
    out = []
    for r in requests:
        value = (r.authorization or "").removeprefix("Token ")
        try:
            decoded = base64.b64decode(value, validate=True).decode()
            out.append(("b64", decoded))
        except ValueError:
            out.append(("raw", value))
    return out


# --------------------------------------------------------------------------- what evroam sends


def assert_spec_request(r: Recorded, tokens: set[str]) -> None:
    where = f"{r.method} {r.path}"
    auth = r.authorization or ""
    assert auth.startswith("Token "), where
    assert auth.count(" ") == 1, f"{where}: exactly one space after 'Token'"
    assert auth in {f"Token {b64(t)}" for t in tokens}, f"{where}: {auth!r} is not Base64 token"
    assert r.headers.get("x-request-id"), f"{where}: no X-Request-ID"
    assert r.headers.get("x-correlation-id"), f"{where}: no X-Correlation-ID"
    for name in ROUTING_HEADERS:
        assert name not in r.headers, f"{where}: routing header {name} on a configuration module"
    if r.method in ("POST", "PUT"):
        assert r.headers.get("content-type", "").split(";")[0] == "application/json", where


def assert_spec_credentials(body: Any, node: NodeProcess) -> None:
    assert set(body) == {"token", "url", "roles"}
    assert body["url"] == node.versions_url
    assert isinstance(body["token"], str) and 1 <= len(body["token"]) <= 64
    assert body["roles"] == [
        {
            "role": "CPO",
            "business_details": {"name": "evroam node"},
            "party_id": "EVR",
            "country_code": "DE",
        }
    ]
    for role in body["roles"]:
        assert list(role) == ["role", "business_details", "party_id", "country_code"]


def test_node_registering_sends_exactly_what_ocpi_prescribes(
    node: NodeProcess, fakes: FakeFleet
) -> None:
    fake = fakes.start()
    token_a = fake.issue_token_a()
    node.api(
        "POST",
        "/partners/register",
        {"versions_url": fake.versions_url, "token": token_a},
        expect=201,
    )
    first = fake.requests[0]
    assert (first.method, first.path) == ("GET", "/ocpi/versions")
    assert first.authorization == f"Token {b64(token_a)}"
    assert [(r.method, r.base_path) for r in fake.requests] == [
        ("GET", "/ocpi/versions"),
        ("GET", "/ocpi/2.2.1"),
        ("POST", "/ocpi/2.2.1/credentials"),
    ]
    for r in fake.requests:
        assert_spec_request(r, {token_a})
    post = fake.requests[-1]
    assert_spec_credentials(post.json, node)
    # The token in the body is the plain token: the fake called the node back with it.
    assert fake.callback_errors == []
    assert fake.node.token == post.json["token"]
    ids = [r.headers["x-request-id"] for r in fake.requests]
    assert len(set(ids)) == len(ids), "X-Request-ID must be unique per request"

    # Update, rotation and unregistration use the token the fake issued, same rules.
    fake.clear_requests()
    node.api("POST", f"/partners/{fake.label}/update", expect=200)
    node.api("POST", f"/partners/{fake.label}/rotate-token", expect=200)
    latest = fake.issued
    result = node.api("POST", f"/partners/{fake.label}/unregister", expect=200)
    assert result["remote_ok"] is True
    methods = [(r.method, r.base_path) for r in fake.requests]
    assert methods.count(("PUT", "/ocpi/2.2.1/credentials")) == 2
    assert methods[-1] == ("DELETE", "/ocpi/2.2.1/credentials")
    assert latest and fake.requests[-1].authorization == f"Token {b64(latest)}"
    for r in fake.requests:
        assert_spec_request(r, set(fake.issued_history))
        if r.method == "PUT":
            assert_spec_credentials(r.json, node)
        if r.method in ("GET", "DELETE"):
            assert r.body == b""
    assert deviation_lines(node.log()) == []


def test_node_receiving_a_registration_calls_back_per_spec(
    node: NodeProcess, fakes: FakeFleet
) -> None:
    fake = fakes.start()
    invitation = node.api("POST", "/partners/invite", {}, expect=201)
    r = fake.register_with(invitation["versions_url"], invitation["token"])
    assert r.status_code == 200
    body = r.json()
    assert body["status_code"] == 1000
    assert_spec_credentials(body["data"], node)
    # The answer echoes the fake's request ID and carries its correlation ID.
    assert r.headers["x-request-id"] == r.request.headers["x-request-id"]
    assert r.headers["x-correlation-id"] == r.request.headers["x-correlation-id"]
    token_b = fake.requests[0].authorization
    assert [(x.method, x.base_path) for x in fake.requests] == [
        ("GET", "/ocpi/versions"),
        ("GET", "/ocpi/2.2.1"),
    ]
    assert token_b is not None
    for x in fake.requests:
        assert_spec_request(x, {tok for _f, tok in authorization_tokens([x])})
        assert x.authorization == token_b
    # The callbacks used token B, the token from our credentials POST, Base64-encoded.
    assert fake.issued is not None and token_b == f"Token {b64(fake.issued)}"
    assert deviation_lines(node.log()) == []


def test_node_answers_carry_request_and_correlation_ids(node: NodeProcess) -> None:
    token = node.api("POST", "/partners/invite", {}, expect=201)["token"]
    echoed = node.ocpi(
        "GET",
        "/ocpi/versions",
        token,
        headers={"X-Request-ID": "req-12345", "X-Correlation-ID": "corr-67890"},
    )
    assert echoed.status_code == 200
    assert echoed.headers["x-request-id"] == "req-12345"
    assert echoed.headers["x-correlation-id"] == "corr-67890"
    fresh = node.ocpi("GET", "/ocpi/2.2.1", token)
    assert fresh.status_code == 200
    assert fresh.headers.get("x-request-id")
    assert fresh.headers.get("x-correlation-id")
    # Errors too: a refused token still gets both IDs and the caller's request ID back.
    refused = node.ocpi("GET", "/ocpi/versions", "wrong", headers={"X-Request-ID": "req-401"})
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] == "req-401"
    assert refused.headers.get("x-correlation-id")
    assert refused.json()["status_code"] == 2000


# --------------------------------------------------------------------------- 1. URLs and slashes


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_trailing_slash_urls_work_when_the_partner_answers_both_forms(
    node: NodeProcess, fakes: FakeFleet, direction: str
) -> None:
    fake = fakes.start(advertise_slash=True)
    assert_connected(connect(node, fake, direction), fake)
    interact_again(node, fake, direction)
    # Not a deviation: URLs are the partner's to choose.
    assert deviation_lines(node.log()) == []
    # The node used the URLs as announced, without a detour.
    assert all(r.path.endswith("/") for r in fake.requests if r.base_path != "/ocpi/versions")


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(
    ("advertise_slash", "accept_path"),
    [(True, "no_slash"), (False, "slash")],
    ids=["announces-slash-serves-without", "announces-without-serves-slash"],
)
def test_partner_answering_only_the_other_slash_form_works(
    node: NodeProcess,
    fakes: FakeFleet,
    direction: str,
    advertise_slash: bool,
    accept_path: str,
) -> None:
    fake = fakes.start(advertise_slash=advertise_slash, accept_path=accept_path)
    assert_connected(connect(node, fake, direction), fake)
    lines = deviation_lines(node.log(), "trailing-slash")
    assert len(lines) == 1, lines
    if direction == NODE_REGISTERS:
        # The POST was re-sent, body intact, to the form the partner answers.
        posts = [r for r in fake.requests if r.method == "POST"]
        assert posts[-1].path.endswith("/") is (accept_path == "slash")
        assert set(posts[-1].json) == {"token", "url", "roles"}


@pytest.mark.parametrize(
    ("direction", "status"),
    # The node's POST and PUT must survive every redirect code; as Receiver it only GETs.
    [(NODE_REGISTERS, 301), (NODE_REGISTERS, 307), (NODE_REGISTERS, 308), (PARTNER_REGISTERS, 307)],
)
def test_redirects_to_the_right_url_are_followed(
    node: NodeProcess, fakes: FakeFleet, direction: str, status: int
) -> None:
    fake = fakes.start(advertise_slash=True, accept_path="no_slash", wrong_path_status=status)
    assert_connected(connect(node, fake, direction), fake)
    lines = deviation_lines(node.log(), "redirect")
    assert len(lines) == 1, lines
    assert str(status) in lines[0]
    if direction == NODE_REGISTERS:
        posts = [r for r in fake.requests if r.method == "POST"]
        assert [p.path for p in posts] == [
            "/ocpi/2.2.1/credentials/",
            "/ocpi/2.2.1/credentials",
        ]
        assert posts[-1].json == posts[0].json
        assert posts[-1].authorization == posts[0].authorization
        fake.clear_requests()
        interact_again(node, fake, direction)
        puts = [r for r in fake.requests if r.method == "PUT"]
        if status in (301, 308):
            # A permanent redirect is remembered: later calls go straight to the target.
            assert [p.path for p in puts] == ["/ocpi/2.2.1/credentials"]
        else:
            assert [p.path for p in puts] == [
                "/ocpi/2.2.1/credentials/",
                "/ocpi/2.2.1/credentials",
            ]
            assert puts[-1].json == puts[0].json


def test_redirect_to_another_host_is_not_followed(node: NodeProcess, fakes: FakeFleet) -> None:
    """A redirect must never carry our token to another origin."""
    elsewhere = fakes.start("BE", "OTH")
    fake = fakes.start(
        advertise_slash=True,
        accept_path="no_slash",
        wrong_path_status=307,
        redirect_base=elsewhere.base_url,
    )
    r = httpx.post(
        f"{node.url}/api/v1/partners/register",
        json={"versions_url": fake.versions_url, "token": fake.issue_token_a()},
        headers={"Authorization": f"Bearer {node.admin_token}"},
        timeout=60,
    )
    assert r.status_code == 502, r.text
    assert "another host" in r.json()["detail"]
    assert elsewhere.requests == []
    assert node.api("GET", "/partners", expect=200) == []


# --------------------------------------------------------------------------- 2. CiString case


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_party_ids_in_another_case_are_matched_case_insensitively(
    node: NodeProcess, fakes: FakeFleet, direction: str
) -> None:
    fake = fakes.start("NL", "ABC", lowercase_ids=True)
    partner = connect(node, fake, direction)
    assert_connected(partner, fake)
    for ref in ("NL-ABC", "nl-abc", "Nl-aBc", str(partner["id"])):
        found = node.api("GET", f"/partners/{ref}", expect=200)
        assert found["id"] == partner["id"], ref
    # The same party in the other case is not a "party change": updates go through.
    interact_again(node, fake, direction)
    fake.lowercase_ids = False
    interact_again(node, fake, direction)
    shown = node.api("GET", "/partners/nl-abc", expect=200)
    assert shown["status"] == "CONNECTED"
    assert {(r["country_code"].upper(), r["party_id"].upper()) for r in shown["roles"]} == {
        ("NL", "ABC")
    }
    # Case is not a deviation (CiString).
    assert deviation_lines(node.log()) == []


def test_party_conflict_check_ignores_case(node: NodeProcess, fakes: FakeFleet) -> None:
    first = fakes.start("NL", "ABC")
    connect(node, first, PARTNER_REGISTERS)
    second = fakes.start("nl", "abc", lowercase_ids=True)
    invitation = node.api("POST", "/partners/invite", {}, expect=201)
    r = second.register_with(invitation["versions_url"], invitation["token"])
    assert r.status_code == 200
    assert r.json()["status_code"] == 2001, r.text
    assert "NL-ABC" in r.json()["status_message"].upper()
    shown = node.api("GET", f"/partners/{invitation['partner']['id']}", expect=200)
    assert shown["status"] == "PLANNED" and shown["registered"] is False
    # A refusal changes nothing: token A still opens the versions endpoint.
    assert node.ocpi("GET", "/ocpi/versions", invitation["token"]).status_code == 200


# --------------------------------------------------------------------------- 3. version alias


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_version_2_2_is_understood_as_2_2_1(
    node: NodeProcess, fakes: FakeFleet, direction: str
) -> None:
    fake = fakes.start(version_label="2.2")
    partner = connect(node, fake, direction)
    assert_connected(partner, fake)
    lines = deviation_lines(node.log(), "version-alias")
    assert len(lines) == 1, lines
    assert "'2.2'" in lines[0]


# --------------------------------------------------------------------------- 4. 403, not OCPI


@pytest.mark.parametrize("answer", ["html", "plain"])
def test_token_refused_with_403_and_non_ocpi_body_is_a_clear_error(
    node: NodeProcess, fakes: FakeFleet, answer: str
) -> None:
    fake = fakes.start(bad_token_answer=answer)
    r = httpx.post(
        f"{node.url}/api/v1/partners/register",
        json={"versions_url": fake.versions_url, "token": "not-the-token-you-gave-us"},
        headers={"Authorization": f"Bearer {node.admin_token}"},
        timeout=60,
    )
    assert r.status_code == 502, r.text
    detail = r.json()["detail"]
    assert "refused" in detail and "403" in detail, detail
    assert fake.versions_url in detail
    assert node.api("GET", "/partners", expect=200) == []
    # One retry with the raw form, then it gave up: no credentials were ever POSTed.
    assert [(x.method, x.base_path) for x in fake.requests] == [("GET", "/ocpi/versions")] * 2
    assert [form for form, _t in authorization_tokens(fake.requests)] == ["b64", "raw"]


def test_token_refused_per_spec_is_a_clear_error_and_no_deviation(
    node: NodeProcess, fakes: FakeFleet
) -> None:
    fake = fakes.start(bad_token_answer="ocpi")
    r = httpx.post(
        f"{node.url}/api/v1/partners/register",
        json={"versions_url": fake.versions_url, "token": "not-the-token-you-gave-us"},
        headers={"Authorization": f"Bearer {node.admin_token}"},
        timeout=60,
    )
    assert r.status_code == 502, r.text
    detail = r.json()["detail"]
    assert "refused" in detail and "401" in detail, detail
    assert node.api("GET", "/partners", expect=200) == []
    assert deviation_lines(node.log()) == []


@pytest.mark.parametrize("answer", ["html", "plain"])
def test_403_with_non_ocpi_body_is_logged_as_a_deviation_once(
    node: NodeProcess, fakes: FakeFleet, answer: str
) -> None:
    fake = fakes.start(bad_token_answer=answer)
    body = {"versions_url": fake.versions_url, "token": "not-the-token-you-gave-us"}
    for _ in range(2):
        r = httpx.post(
            f"{node.url}/api/v1/partners/register",
            json=body,
            headers={"Authorization": f"Bearer {node.admin_token}"},
            timeout=60,
        )
        assert r.status_code == 502
    lines = deviation_lines(node.log())
    assert len(lines) == 1, lines
    assert "403" in lines[0]


def test_partner_refusing_our_callback_token_fails_registration_cleanly(
    node: NodeProcess, fakes: FakeFleet
) -> None:
    """The node as Receiver: its GETs with token B get a 403 HTML page -> OCPI 3001."""
    fake = fakes.start(bad_token_answer="html", refuse_tokens=True)
    invitation = node.api("POST", "/partners/invite", {}, expect=201)
    r = fake.register_with(invitation["versions_url"], invitation["token"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status_code"] == 3001
    # The partner learns that its API or token is the problem, not what the node saw;
    # the operator reads that in the log.
    assert "token" in body["status_message"] and "403" not in body["status_message"]
    [line] = [ln for ln in node.log().splitlines() if "registration by NL-ABC" in ln]
    assert "refused" in line and "403" in line
    shown = node.api("GET", f"/partners/{invitation['partner']['id']}", expect=200)
    assert shown["status"] == "PLANNED" and shown["registered"] is False
    assert shown["roles"] == []
    # Once the partner fixes its side, the same token A completes the registration.
    fake.refuse_tokens = False
    r = fake.register_with(invitation["versions_url"], invitation["token"])
    assert r.json()["status_code"] == 1000, r.text
    assert node.api("GET", "/partners/NL-ABC", expect=200)["status"] == "CONNECTED"


# --------------------------------------------------------------------------- 5. no X-Request-ID


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_partner_without_request_id_is_tolerated_and_logged(
    node: NodeProcess, fakes: FakeFleet, direction: str
) -> None:
    fake = fakes.start(omit_request_id=True)
    assert_connected(connect(node, fake, direction), fake)
    lines = deviation_lines(node.log(), "no-request-id")
    assert len(lines) == 1, lines


# --------------------------------------------------------------------------- 6. raw token only


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_raw_token_partner_gets_one_retry_in_the_raw_form(
    node: NodeProcess, fakes: FakeFleet, direction: str
) -> None:
    fake = fakes.start(raw_token_only=True)
    assert_connected(connect(node, fake, direction), fake)
    forms = [form for form, _t in authorization_tokens(fake.requests)]
    # Base64 first, as the spec says; then the raw form, remembered for every later call.
    assert forms[0] == "b64"
    assert forms[1:] == ["raw"] * (len(forms) - 1)
    assert fake.requests[0].base_path == fake.requests[1].base_path == "/ocpi/versions"
    lines = deviation_lines(node.log(), "raw-token")
    assert len(lines) == 1, lines


# --------------------------------------------------------------------------- once per partner

DEVIATIONS: dict[str, dict[str, Any]] = {
    "trailing-slash": {"advertise_slash": True, "accept_path": "no_slash"},
    "redirect": {"advertise_slash": True, "accept_path": "no_slash", "wrong_path_status": 308},
    "version-alias": {"version_label": "2.2"},
    "no-request-id": {"omit_request_id": True},
    "raw-token": {"raw_token_only": True},
}


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("kind", list(DEVIATIONS))
def test_a_deviation_is_not_logged_again_on_the_next_exchange(
    node: NodeProcess, fakes: FakeFleet, direction: str, kind: str
) -> None:
    fake = fakes.start(**DEVIATIONS[kind])
    connect(node, fake, direction)
    assert len(deviation_lines(node.log(), kind)) == 1
    fake.clear_requests()
    interact_again(node, fake, direction)
    interact_again(node, fake, direction)
    lines = deviation_lines(node.log(), kind)
    assert len(lines) == 1, "logged again for the same partner:\n" + "\n".join(lines)
    if kind == "raw-token":
        # Remembered: no more Base64 attempts at this partner.
        assert "b64" not in {form for form, _t in authorization_tokens(fake.requests)}


@pytest.mark.parametrize("kind", ["raw-token", "trailing-slash", "redirect"])
def test_what_a_partner_needs_is_remembered_across_a_restart(
    node: NodeProcess, fakes: FakeFleet, tmp_path: Any, kind: str
) -> None:
    """After a restart the node calls the partner the way that works at once: no Base64
    attempt at a raw-token partner, no request to a URL form it refuses or redirects."""
    fake = fakes.start(**DEVIATIONS[kind])
    connect(node, fake, NODE_REGISTERS)
    node.stop()
    again = NodeProcess(node.db_url, tmp_path, country_code="DE", party_id="EVR")
    try:
        fake.clear_requests()
        again.api("POST", f"/partners/{fake.label}/update", expect=200)
        if kind == "raw-token":
            assert {form for form, _t in authorization_tokens(fake.requests)} == {"raw"}
        else:
            # Every request went straight to the form that answers: no 404, no redirect.
            assert all(r.path.rstrip("/") == r.path for r in fake.requests), [
                r.path for r in fake.requests
            ]
        assert deviation_lines(again.log(), kind) == []
    finally:
        again.stop()


def test_deviations_are_logged_for_each_partner(node: NodeProcess, fakes: FakeFleet) -> None:
    one = fakes.start("NL", "ONE", raw_token_only=True)
    two = fakes.start("NL", "TWO", raw_token_only=True)
    connect(node, one, PARTNER_REGISTERS)
    connect(node, two, PARTNER_REGISTERS)
    lines = deviation_lines(node.log(), "raw-token")
    assert len(lines) == 2, lines
    assert any("NL-ONE" in line for line in lines)
    assert any("NL-TWO" in line for line in lines)


def test_a_partner_bending_every_rule_at_once_still_connects(
    node: NodeProcess, fakes: FakeFleet
) -> None:
    fake = fakes.start(
        advertise_slash=True,
        accept_path="no_slash",
        wrong_path_status=307,
        lowercase_ids=True,
        version_label="2.2",
        omit_request_id=True,
        raw_token_only=True,
    )
    assert_connected(connect(node, fake, NODE_REGISTERS), fake)
    kinds = {"redirect", "version-alias", "no-request-id", "raw-token"}
    for kind in kinds:
        assert len(deviation_lines(node.log(), kind)) == 1, kind
    result = node.api("POST", "/partners/nl-abc/unregister", expect=200)
    assert result["remote_ok"] is True, result
    assert fake.issued is None
