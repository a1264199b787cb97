"""Partner lifecycle end to end: real ``evroam serve`` processes over loopback HTTP.

Register (each node once as the initiator), update and rotate from each side, unregister,
reset. Tokens between two real nodes are read from each node's database (the partner's
token it sends); with a fake partner (``partner_factory``) the test plays one side and sees
every token on the wire.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.fake_partner import Call, assert_envelope, partners, token_out
from tests.support import NodeProcess

CREDENTIALS = "/ocpi/2.2.1/credentials"


def _works(issuer: NodeProcess, token: str) -> dict[str, Any]:
    """The token opens the issuer's credentials GET, which shows the issuer's url and roles."""
    body = assert_envelope(issuer.ocpi("GET", CREDENTIALS, token), 200, 1000)
    data: dict[str, Any] = body["data"]
    assert data["token"] == token
    assert data["url"] == issuer.versions_url
    return data


def _refused(issuer: NodeProcess, token: str) -> None:
    for path in ("/ocpi/versions", CREDENTIALS):
        assert_envelope(issuer.ocpi("GET", path, token), 401, 2000)


def _no_token_listed(node: NodeProcess, tokens: list[str]) -> None:
    listed = partners(node)
    text = json.dumps(listed)
    for token in tokens:
        assert token not in text
    for p in listed:
        assert not [k for k in p if "token" in k.lower()], p


def _only_partner(node: NodeProcess) -> dict[str, Any]:
    listed = partners(node)
    assert len(listed) == 1, listed
    return listed[0]


def _roles(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["country_code"], r["party_id"], r["role"]) for r in data["roles"]]


# ---------------------------------------------------------------------- two real nodes


@pytest.mark.parametrize("initiator", ["cpo", "emsp"])
def test_two_nodes_register_update_rotate_and_unregister(node_factory, initiator: str) -> None:
    cpo = node_factory("NL", "CPO", roles=("CPO",))
    emsp = node_factory("DE", "MSP", roles=("EMSP",))
    first, second = (cpo, emsp) if initiator == "cpo" else (emsp, cpo)

    invitation = second.api("POST", "/partners/invite", {"note": "pilot"}, expect=201)
    assert invitation["versions_url"] == second.versions_url
    assert invitation["partner"]["status"] == "PLANNED"
    token_a = invitation["token"]
    registered = first.api(
        "POST",
        "/partners/register",
        {"versions_url": invitation["versions_url"], "token": token_a},
        expect=201,
    )
    assert registered["status"] == "CONNECTED"

    emsp_at_cpo, cpo_at_emsp = _only_partner(cpo), _only_partner(emsp)
    for seen, (cc, pid), by_us in (
        (emsp_at_cpo, ("DE", "MSP"), initiator == "cpo"),
        (cpo_at_emsp, ("NL", "CPO"), initiator == "emsp"),
    ):
        assert (seen["country_code"], seen["party_id"]) == (cc, pid)
        assert (seen["status"], seen["registered"], seen["version"]) == ("CONNECTED", True, "2.2.1")
        assert seen["initiated_by_us"] is by_us
        assert any(e["identifier"] == "credentials" for e in seen["endpoints"])
    assert _only_partner(second)["note"] == "pilot"

    # A partner is addressed by its id or by its party, in any case.
    for node, partner, party in ((cpo, emsp_at_cpo, "DE-MSP"), (emsp, cpo_at_emsp, "NL-CPO")):
        for ref in (str(partner["id"]), party, party.lower(), party.title()):
            assert node.api("GET", f"/partners/{ref}", expect=200)["id"] == partner["id"]
        node.api("GET", "/partners/XX-YYY", expect=404)
        node.api("GET", f"/partners/{partner['id'] + 100}", expect=404)

    def wire_tokens() -> list[tuple[NodeProcess, str]]:
        """(issuer, token) for both directions: what each node sends the other."""
        to_cpo = token_out(emsp, cpo_at_emsp["id"])
        to_emsp = token_out(cpo, emsp_at_cpo["id"])
        assert to_cpo and to_emsp
        return [(cpo, to_cpo), (emsp, to_emsp)]

    current = wire_tokens()
    for issuer, token in current:
        data = _works(issuer, token)
        own = ("NL", "CPO", "CPO") if issuer is cpo else ("DE", "MSP", "EMSP")
        assert _roles(data) == [own]
    _refused(second, token_a)
    seen_tokens = [token_a] + [t for _, t in current]

    steps = [
        (cpo, "update", "de-msp"),
        (emsp, "update", "NL-CPO"),
        (cpo, "rotate-token", str(emsp_at_cpo["id"])),
        (emsp, "rotate-token", "nl-cpo"),
    ]
    for node, action, ref in steps:
        answer = node.api("POST", f"/partners/{ref}/{action}", expect=200)
        assert answer["status"] == "CONNECTED"
        new = wire_tokens()
        for (issuer, old), (_, fresh) in zip(current, new, strict=True):
            assert fresh != old, f"{action} from {node.url} kept a token"
            _refused(issuer, old)
            _works(issuer, fresh)
        current = new
        seen_tokens += [t for _, t in current]
        for n in (cpo, emsp):
            assert _only_partner(n)["status"] == "CONNECTED"
            _no_token_listed(n, seen_tokens)

    ref = "de-msp" if first is cpo else "nl-cpo"
    result = first.api("POST", f"/partners/{ref}/unregister", expect=200)
    assert (result["remote_ok"], result["remote_error"]) == (True, None)
    assert result["partner"]["status"] == "SUSPENDED"
    for node, partner in ((cpo, emsp_at_cpo), (emsp, cpo_at_emsp)):
        shown = _only_partner(node)
        assert (shown["status"], shown["registered"]) == ("SUSPENDED", False)
        assert token_out(node, partner["id"]) is None
        node.api("POST", f"/partners/{partner['id']}/rotate-token", expect=409)
    for issuer, token in current:
        _refused(issuer, token)
    for token in seen_tokens:
        for node in (cpo, emsp):
            _refused(node, token)


# ---------------------------------------------------------------------- a fake partner


def test_partner_registers_rotates_and_is_unregistered_over_the_wire(
    node_factory, partner_factory
) -> None:
    node = node_factory("NL", "CPO", roles=("CPO",))
    partner = partner_factory()
    token_a = node.api("POST", "/partners/invite", {}, expect=201)["token"]

    # Token A opens versions and version details before the handshake.
    assert assert_envelope(node.ocpi("GET", "/ocpi/versions", token_a), 200, 1000)["data"] == [
        {"version": "2.2.1", "url": f"{node.url}/ocpi/2.2.1"}
    ]
    details = assert_envelope(node.ocpi("GET", "/ocpi/2.2.1", token_a), 200, 1000)["data"]
    assert f"{node.url}{CREDENTIALS}" in [e["url"] for e in details["endpoints"]]

    body = assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)
    [token_b] = partner.accepted
    token_c = body["data"]["token"]
    assert token_c not in (token_a, token_b)
    assert body["data"]["url"] == node.versions_url
    assert _roles(body["data"]) == [("NL", "CPO", "CPO")]
    # The node mirrored our discovery with token B, never with token A.
    assert partner.calls == [
        Call("GET", "/ocpi/versions", token_b),
        Call("GET", "/ocpi/2.2.1", token_b),
    ]
    shown = _only_partner(node)
    assert (shown["country_code"], shown["party_id"], shown["status"]) == ("DE", "MAN", "CONNECTED")
    assert (shown["registered"], shown["initiated_by_us"]) == (True, False)
    assert shown["versions_url"] == partner.versions_url
    assert partner.credentials_url in [e["url"] for e in shown["endpoints"]]
    data = _works(node, token_c)
    assert data == {"token": token_c, "url": node.versions_url, "roles": body["data"]["roles"]}
    _refused(node, token_a)
    issued = [token_a, token_c]
    _no_token_listed(node, issued + [token_b])

    # The node rotates: PUT with the token we gave it, a new token for us in the body.
    mark = len(partner.calls)
    node.api("POST", "/partners/de-man/rotate-token", expect=200)
    assert partner.calls_since(mark) == [Call("PUT", CREDENTIALS, token_b)]
    token_c2 = partner.node.token
    assert token_c2 and token_c2 != token_c
    _refused(node, token_c)
    _works(node, token_c2)
    [token_b2] = partner.accepted
    issued.append(token_c2)

    # The node updates: it re-discovers us with the token we answered (B is dead for us).
    mark = len(partner.calls)
    assert node.api("POST", f"/partners/{shown['id']}/update", expect=200)["status"] == "CONNECTED"
    assert [(c.method, c.path) for c in partner.calls_since(mark)] == [
        ("GET", "/ocpi/versions"),
        ("GET", "/ocpi/2.2.1"),
        ("PUT", CREDENTIALS),
    ]
    assert {c.token for c in partner.calls_since(mark)} == {token_b2}
    token_c3 = partner.node.token
    assert token_c3 and token_c3 not in issued
    _refused(node, token_c2)
    _works(node, token_c3)
    issued.append(token_c3)

    # We rotate: PUT with token C3 and a new token B; the node re-discovers us with it.
    mark = len(partner.calls)
    body = assert_envelope(partner.update_at_node(), 200, 1000)
    [token_b4] = partner.accepted
    assert partner.calls_since(mark) == [
        Call("GET", "/ocpi/versions", token_b4),
        Call("GET", "/ocpi/2.2.1", token_b4),
    ]
    token_c4 = body["data"]["token"]
    assert token_c4 not in issued
    _refused(node, token_c3)
    _works(node, token_c4)
    issued.append(token_c4)
    assert _only_partner(node)["status"] == "CONNECTED"
    _no_token_listed(node, issued + [token_b, token_b2, token_b4])

    # The node unregisters: DELETE with our latest token, then every token of ours is dead.
    mark = len(partner.calls)
    result = node.api("POST", "/partners/DE-MAN/unregister", expect=200)
    assert result["remote_ok"] is True
    assert partner.calls_since(mark) == [Call("DELETE", CREDENTIALS, token_b4)]
    shown = _only_partner(node)
    assert (shown["status"], shown["registered"]) == ("SUSPENDED", False)
    for token in issued:
        _refused(node, token)
    assert_envelope(
        node.ocpi("POST", CREDENTIALS, token_c4, json=partner.credentials("x")), 401, 2000
    )


def test_node_registers_with_partner_and_both_rotate_over_the_wire(
    node_factory, partner_factory
) -> None:
    node = node_factory("NL", "CPO", roles=("CPO",))
    partner = partner_factory()
    token_a = partner.issue_token_a()

    shown = node.api(
        "POST",
        "/partners/register",
        {"versions_url": partner.versions_url, "token": token_a},
        expect=201,
    )
    assert (shown["country_code"], shown["party_id"]) == ("DE", "MAN")
    assert (shown["status"], shown["initiated_by_us"]) == ("CONNECTED", True)
    assert [(c.method, c.path, c.token) for c in partner.calls] == [
        ("GET", "/ocpi/versions", token_a),
        ("GET", "/ocpi/2.2.1", token_a),
        ("POST", CREDENTIALS, token_a),
    ]
    # The token B the node posted is what we call it with; it opened the node to our callback.
    [posted] = partner.posted
    assert posted["url"] == node.versions_url
    assert _roles(posted) == [("NL", "CPO", "CPO")]
    token_b = posted["token"]
    assert partner.node.token == token_b
    _works(node, token_b)
    [token_c] = partner.accepted

    # The node rotates: PUT with token C, a new token B in the body.
    mark = len(partner.calls)
    node.api("POST", "/partners/DE-MAN/rotate-token", expect=200)
    assert partner.calls_since(mark) == [Call("PUT", CREDENTIALS, token_c)]
    token_b2 = partner.node.token
    assert token_b2 and token_b2 != token_b
    _refused(node, token_b)
    _works(node, token_b2)

    # We rotate: the node re-discovers us with our new token and hands out a new one.
    body = assert_envelope(partner.update_at_node(), 200, 1000)
    token_b3 = body["data"]["token"]
    assert token_b3 not in (token_b, token_b2)
    _refused(node, token_b2)
    _works(node, token_b3)

    # We unregister: DELETE with the node's token; the node suspends us and kills the token.
    assert_envelope(node.ocpi("DELETE", CREDENTIALS, token_b3), 200, 1000)
    shown = _only_partner(node)
    assert (shown["status"], shown["registered"]) == ("SUSPENDED", False)
    for token in (token_b, token_b2, token_b3):
        _refused(node, token)
    node.api("POST", "/partners/de-man/rotate-token", expect=409)


def test_partner_delete_suspends_it_and_the_party_may_register_anew(
    node_factory, partner_factory
) -> None:
    node = node_factory("NL", "CPO", roles=("CPO",))
    partner = partner_factory()
    token_a = node.api("POST", "/partners/invite", {}, expect=201)["token"]
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)
    token_c = partner.node.token
    assert token_c
    old_id = _only_partner(node)["id"]

    assert_envelope(node.ocpi("DELETE", CREDENTIALS, token_c), 200, 1000)
    shown = _only_partner(node)
    assert (shown["status"], shown["registered"]) == ("SUSPENDED", False)
    _refused(node, token_c)
    assert_envelope(node.ocpi("DELETE", CREDENTIALS, token_c), 401, 2000)

    # A suspended partner no longer holds its party: a new invitation may take it.
    invitation = node.api("POST", "/partners/invite", {}, expect=201)
    assert_envelope(partner.register_with(node.versions_url, invitation["token"]), 200, 1000)
    listed = {p["id"]: p["status"] for p in partners(node)}
    assert listed == {old_id: "SUSPENDED", invitation["partner"]["id"]: "CONNECTED"}
    assert node.api("GET", "/partners/de-man", expect=200)["id"] == invitation["partner"]["id"]
    _works(node, partner.node.token or "")
    _refused(node, token_c)


def test_reset_revokes_every_token_and_partner_registers_again_as_itself(
    node_factory, partner_factory
) -> None:
    node = node_factory("NL", "CPO", roles=("CPO",))
    partner = partner_factory()
    token_a = node.api("POST", "/partners/invite", {}, expect=201)["token"]
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)
    token_c = partner.node.token
    assert token_c
    _works(node, token_c)
    partner_id = _only_partner(node)["id"]

    reset = node.api("POST", "/partners/de-man/reset", expect=200)
    token_a2 = reset["token"]
    assert token_a2 not in (token_a, token_c)
    assert reset["versions_url"] == node.versions_url
    assert (reset["partner"]["id"], reset["partner"]["status"]) == (partner_id, "PLANNED")
    _refused(node, token_c)
    _refused(node, token_a)
    assert_envelope(node.ocpi("GET", "/ocpi/versions", token_a2), 200, 1000)
    shown = _only_partner(node)
    assert (shown["status"], shown["registered"]) == ("PLANNED", False)
    assert (shown["country_code"], shown["party_id"]) == ("DE", "MAN")
    _no_token_listed(node, [token_a, token_a2, token_c])
    assert token_out(node, partner_id) is None

    # It must come back as itself: another party is refused and changes nothing.
    body = assert_envelope(
        partner.register_with(node.versions_url, token_a2, party_id="OTH"),
        200,
        2001,
        "DE-MAN",
        "DE-OTH",
    )
    assert "data" not in body or not body["data"]
    assert _only_partner(node)["status"] == "PLANNED"
    assert_envelope(node.ocpi("GET", "/ocpi/versions", token_a2), 200, 1000)

    body = assert_envelope(partner.register_with(node.versions_url, token_a2), 200, 1000)
    token_c2 = body["data"]["token"]
    shown = _only_partner(node)
    assert (shown["id"], shown["status"], shown["party_id"]) == (partner_id, "CONNECTED", "MAN")
    _works(node, token_c2)
    for token in (token_a, token_a2, token_c):
        _refused(node, token)


def test_unregister_of_unreachable_partner_still_suspends_and_revokes(
    node_factory, partner_factory
) -> None:
    node = node_factory("NL", "CPO", roles=("CPO",))
    partner = partner_factory()
    token_a = node.api("POST", "/partners/invite", {}, expect=201)["token"]
    assert_envelope(partner.register_with(node.versions_url, token_a), 200, 1000)
    token_c = partner.node.token
    assert token_c
    partner_id = _only_partner(node)["id"]
    partner.stop()

    result = node.api("POST", "/partners/De-Man/unregister", expect=200)
    assert result["remote_ok"] is False
    assert result["remote_error"]
    shown = _only_partner(node)
    assert (shown["status"], shown["registered"]) == ("SUSPENDED", False)
    assert token_out(node, partner_id) is None
    _refused(node, token_c)


def test_update_with_only_a_note_changes_the_note_and_nothing_else(
    node_factory, partner_factory
) -> None:
    node = node_factory("NL", "CPO")
    fake = partner_factory()
    shown = node.api(
        "POST",
        "/partners/register",
        {"versions_url": fake.versions_url, "token": fake.issue_token_a()},
        expect=201,
    )
    before_out, before_in = token_out(node, shown["id"]), fake.node.token
    fake.clear_requests()
    noted = node.api("POST", f"/partners/{shown['id']}/update", {"note": "primary"}, expect=200)
    assert noted["note"] == "primary"
    # No credentials exchange: the partner heard nothing, both tokens are unchanged.
    assert fake.requests == []
    assert token_out(node, shown["id"]) == before_out and fake.node.token == before_in
    _works(node, before_in)
    patched = node.api("PATCH", f"/partners/{shown['id']}", {"note": None}, expect=200)
    assert patched["note"] is None and fake.requests == []
