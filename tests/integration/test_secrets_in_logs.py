"""No secret ever reaches a log: a whole lifecycle between two real nodes (invite,
register in both directions, rotate from both sides, unregister, reset), then every log
line of both nodes is searched for every token that crossed the wire and both admin
tokens. The tokens are read from the nodes' own databases (the token each node holds to
send) and from the operator API's answers (tokens A), so the test checks the real values,
not a key name."""

from __future__ import annotations

import base64
from collections.abc import Callable

from tests.integration.fake_partner import token_out
from tests.support import NodeProcess


def test_no_token_appears_in_any_log_line(node_factory: Callable[..., NodeProcess]) -> None:
    cpo = node_factory("NL", "CPO", admin_token="admin-token-of-the-cpo-node")
    msp = node_factory("DE", "MSP", roles=("EMSP",), admin_token="admin-token-of-the-msp-node")
    secrets: set[str] = {cpo.admin_token, msp.admin_token}

    def held() -> None:
        """Every token each node currently holds to send to the other."""
        for node in (cpo, msp):
            for p in node.api("GET", "/partners", expect=200):
                value = token_out(node, p["id"])
                if value:
                    secrets.add(value)

    # Direction 1: the eMSP registers with the CPO.
    invite = cpo.api("POST", "/partners/invite", {}, expect=201)
    secrets.add(invite["token"])
    msp_side = msp.api(
        "POST",
        "/partners/register",
        {"versions_url": cpo.versions_url, "token": invite["token"]},
        expect=201,
    )
    held()
    msp.api("POST", f"/partners/{msp_side['id']}/rotate-token", expect=200)
    held()
    cpo.api("POST", "/partners/DE-MSP/rotate-token", expect=200)
    held()
    msp.api("POST", f"/partners/{msp_side['id']}/update", expect=200)
    held()
    msp.api("POST", f"/partners/{msp_side['id']}/unregister", expect=200)

    # Direction 2: the CPO registers with the eMSP, then the eMSP resets it after a "breach".
    invite2 = msp.api("POST", "/partners/invite", {}, expect=201)
    secrets.add(invite2["token"])
    cpo.api(
        "POST",
        "/partners/register",
        {"versions_url": msp.versions_url, "token": invite2["token"]},
        expect=201,
    )
    held()
    cpo.api("POST", "/partners/DE-MSP/rotate-token", expect=200)
    held()
    reset = msp.api("POST", "/partners/NL-CPO/reset", expect=200)
    secrets.add(reset["token"])
    # A refused registration with a wrong token logs its refusal, not the token.
    bogus = "bogus-token-that-must-not-be-logged-0123"
    r = msp.api("POST", "/partners/register", {"versions_url": cpo.versions_url, "token": bogus})
    assert "error" in r
    secrets.add(bogus)

    assert len(secrets) >= 10, secrets
    for node in (cpo, msp):
        log = node.log()
        assert "registered" in log  # the logs are real, not empty
        for secret in secrets:
            encoded = base64.b64encode(secret.encode()).decode()
            assert secret not in log, f"a token appears in {node.log_path.name}"
            assert encoded not in log, f"a Base64 token appears in {node.log_path.name}"
