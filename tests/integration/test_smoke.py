"""Two real nodes register with each other over HTTP."""

from __future__ import annotations


def test_two_nodes_register(node_factory) -> None:
    cpo = node_factory("NL", "CPO", roles=("CPO",))
    emsp = node_factory("DE", "MSP", roles=("EMSP",))
    invitation = cpo.api("POST", "/partners/invite", {}, expect=201)
    partner = emsp.api(
        "POST",
        "/partners/register",
        {"versions_url": invitation["versions_url"], "token": invitation["token"]},
        expect=201,
    )
    assert partner["status"] == "CONNECTED"
    assert (partner["country_code"], partner["party_id"]) == ("NL", "CPO")
    listed = cpo.api("GET", "/partners", expect=200)
    assert [(p["country_code"], p["party_id"], p["status"]) for p in listed] == [
        ("DE", "MSP", "CONNECTED")
    ]
