"""HubClientInfo over HTTP: a hub partner pushes ClientInfo to a node (Receiver), and a node
with the HUB role lists every party it connects, paginated (Sender)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.common.pagination import next_link
from tests.integration.fake_partner import FakeFleet, FakePartner
from tests.support import NodeProcess

NodeFactory = Callable[..., NodeProcess]


def register(node: NodeProcess, fake: FakePartner) -> None:
    invitation = node.api("POST", "/partners/invite", {}, expect=201)
    r = fake.register_with(invitation["versions_url"], invitation["token"])
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text


def endpoints(node: NodeProcess, fake: FakePartner) -> set[tuple[str, str]]:
    r = fake.call_node("GET", f"{node.url}/ocpi/2.2.1")
    assert r.status_code == 200, r.text
    return {(e["identifier"], e["role"]) for e in r.json()["data"]["endpoints"]}


def client_info(cc: str, pid: str, status: str = "CONNECTED", **over: Any) -> dict[str, Any]:
    body = {
        "party_id": pid,
        "country_code": cc,
        "role": "CPO",
        "status": status,
        "last_updated": "2026-11-20T10:00:00Z",
    }
    body.update(over)
    return body


# --------------------------------------------------------------------------- (a) Receiver


@pytest.fixture
def node(node_factory: NodeFactory) -> NodeProcess:
    return node_factory("DE", "EVR", roles=("EMSP",))


@pytest.fixture
def hub(node: NodeProcess, fakes: FakeFleet) -> FakePartner:
    """A hub platform registered with the node; it knows the node's receiver URL."""
    fake = fakes.start("DE", "HUB", role="HUB", name="Fake Hub")
    register(node, fake)
    return fake


def receiver_url(fake: FakePartner) -> str:
    return fake.node_endpoint("hubclientinfo", "RECEIVER")


def test_node_announces_a_hubclientinfo_receiver(node: NodeProcess, hub: FakePartner) -> None:
    found = endpoints(node, hub)
    assert ("hubclientinfo", "RECEIVER") in found
    assert ("hubclientinfo", "SENDER") not in found  # not a hub itself
    assert receiver_url(hub).startswith(f"{node.url}/ocpi/2.2.1/")


def test_hub_pushes_client_info_created_then_updated_then_read(
    node: NodeProcess, hub: FakePartner
) -> None:
    url = f"{receiver_url(hub)}/NL/XYZ"
    created = hub.call_node("PUT", url, json_body=client_info("NL", "XYZ", "PLANNED"))
    assert created.status_code == 201, created.text
    assert created.json()["status_code"] == 1000

    body = client_info("NL", "XYZ", "CONNECTED", last_updated="2026-11-21T08:30:00Z")
    updated = hub.call_node("PUT", url, json_body=body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["status_code"] == 1000

    got = hub.call_node("GET", url)
    assert got.status_code == 200
    assert got.json()["status_code"] == 1000
    assert got.json()["data"] == body
    # Country code and party id are CiStrings: any case finds the same object.
    lower = hub.call_node("GET", f"{receiver_url(hub)}/nl/xyz")
    assert lower.json()["data"] == body
    # No routing headers on a configuration module, in the answer either.
    assert not any(h.lower().startswith("ocpi-") for h in got.headers)


def test_an_older_put_does_not_undo_a_newer_one_and_the_operator_sees_it(
    node: NodeProcess, hub: FakePartner
) -> None:
    """Pushes may arrive out of order: the newer ``last_updated`` is kept, and what is
    stored is what the operator API shows."""
    url = f"{receiver_url(hub)}/NL/XYZ"
    newer = client_info("NL", "XYZ", "SUSPENDED", last_updated="2026-11-22T09:00:00Z")
    older = client_info("NL", "XYZ", "CONNECTED", last_updated="2026-11-21T09:00:00Z")
    assert hub.call_node("PUT", url, json_body=newer).status_code == 201
    late = hub.call_node("PUT", url, json_body=older)
    assert late.status_code == 200 and late.json()["status_code"] == 1000
    assert hub.call_node("GET", url).json()["data"] == newer

    listed = node.api("GET", "/partners/DE-HUB/client-info", expect=200)
    assert listed == [
        {
            "country_code": "NL",
            "party_id": "XYZ",
            "role": "CPO",
            "status": "SUSPENDED",
            "last_updated": "2026-11-22T09:00:00Z",
        }
    ]


def test_unknown_client_info_is_404(node: NodeProcess, hub: FakePartner) -> None:
    r = hub.call_node("GET", f"{receiver_url(hub)}/FR/NOP")
    assert r.status_code == 404
    assert r.json()["status_code"] == 2000


def test_client_info_url_party_must_match_the_body(node: NodeProcess, hub: FakePartner) -> None:
    r = hub.call_node("PUT", f"{receiver_url(hub)}/NL/XYZ", json_body=client_info("NL", "ABC"))
    assert r.status_code == 200, r.text
    assert r.json()["status_code"] == 2001
    assert hub.call_node("GET", f"{receiver_url(hub)}/NL/XYZ").status_code == 404
    assert hub.call_node("GET", f"{receiver_url(hub)}/NL/ABC").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"status": "ONLINE"},
        {"role": "GARAGE"},
        {"last_updated": "yesterday"},
        {"party_id": "TOOLONG"},
    ],
    ids=["status", "role", "last_updated", "party_id"],
)
def test_invalid_client_info_is_2001(
    node: NodeProcess, hub: FakePartner, change: dict[str, str]
) -> None:
    body = client_info("NL", "XYZ", **change)
    pid = body["party_id"]
    r = hub.call_node("PUT", f"{receiver_url(hub)}/NL/{pid}", json_body=body)
    assert r.status_code == 200, r.text
    assert r.json()["status_code"] == 2001
    assert next(iter(change)) in r.json()["status_message"]
    assert hub.call_node("GET", f"{receiver_url(hub)}/NL/XYZ").status_code == 404


def test_client_info_from_a_partner_that_is_no_hub_is_2001(
    node: NodeProcess, fakes: FakeFleet
) -> None:
    cpo = fakes.start("NL", "CPO", role="CPO")
    register(node, cpo)
    url = f"{cpo.node_endpoint('hubclientinfo', 'RECEIVER')}/NL/XYZ"
    r = cpo.call_node("PUT", url, json_body=client_info("NL", "XYZ"))
    assert r.status_code == 200, r.text
    assert r.json()["status_code"] == 2001
    assert "HUB" in r.json()["status_message"]


def test_client_info_needs_a_registered_partner(node: NodeProcess, hub: FakePartner) -> None:
    url = f"{receiver_url(hub)}/NL/XYZ"
    token_a = node.api("POST", "/partners/invite", {}, expect=201)["token"]
    assert node.ocpi("PUT", url, token_a, json=client_info("NL", "XYZ")).status_code == 401
    assert node.ocpi("PUT", url, None, json=client_info("NL", "XYZ")).status_code == 401
    no_body = hub.call_node("PUT", url, headers={"Content-Type": "application/json"})
    assert no_body.status_code == 200
    assert no_body.json()["status_code"] == 2001


# --------------------------------------------------------------------------- (b) Sender


@pytest.fixture
def hub_node(node_factory: NodeFactory) -> NodeProcess:
    return node_factory("DE", "HUB", roles=("HUB",))


PARTIES = [("NL", "AAA", "CPO"), ("BE", "BBB", "EMSP"), ("FR", "CCC", "CPO")]


@pytest.fixture
def members(hub_node: NodeProcess, fakes: FakeFleet) -> list[FakePartner]:
    out = []
    for cc, pid, role in PARTIES:
        fake = fakes.start(cc, pid, role=role)
        register(hub_node, fake)
        out.append(fake)
    return out


def sender_url(fake: FakePartner) -> str:
    return fake.node_endpoint("hubclientinfo", "SENDER")


def crawl(fake: FakePartner, url: str) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    items: list[dict[str, Any]] = []
    answers: list[httpx.Response] = []
    next_url: str | None = url
    while next_url:
        r = fake.call_node("GET", next_url)
        assert r.status_code == 200, r.text
        assert r.json()["status_code"] == 1000
        answers.append(r)
        items += r.json()["data"]
        next_url = next_link(r.headers.get("link"))
        assert len(answers) <= 10, "Link never ends"
    return items, answers


def test_hub_node_announces_a_hubclientinfo_sender(
    hub_node: NodeProcess, members: list[FakePartner]
) -> None:
    found = endpoints(hub_node, members[0])
    assert {("hubclientinfo", "SENDER"), ("hubclientinfo", "RECEIVER")} <= found


def test_hub_lists_every_party_one_page_at_a_time(
    hub_node: NodeProcess, members: list[FakePartner]
) -> None:
    items, answers = crawl(members[0], f"{sender_url(members[0])}?limit=1")
    assert len(answers) == 3
    for i, r in enumerate(answers):
        assert len(r.json()["data"]) == 1
        assert r.headers["x-total-count"] == "3"
        assert int(r.headers["x-limit"]) >= 1
        link = r.headers.get("link")
        if i < 2:
            assert link and 'rel="next"' in link
            query = parse_qs(urlsplit(next_link(link) or "").query)
            assert query["limit"] == ["1"] and query["offset"] == [str(i + 1)]
        else:
            assert link is None
    assert [(x["country_code"], x["party_id"], x["role"]) for x in items] == PARTIES
    assert {x["status"] for x in items} == {"CONNECTED"}
    for x in items:
        assert set(x) == {"party_id", "country_code", "role", "status", "last_updated"}
        assert x["last_updated"].endswith("Z")


def test_hub_list_shows_each_partys_status(
    hub_node: NodeProcess, members: list[FakePartner]
) -> None:
    leaving = members[2]
    r = leaving.call_node("DELETE", leaving.node_endpoint("credentials"))
    assert r.json()["status_code"] == 1000
    hub_node.api("POST", "/partners/invite", {}, expect=201)  # PLANNED, no party yet
    items, _ = crawl(members[0], sender_url(members[0]))
    assert {(x["country_code"], x["party_id"]): x["status"] for x in items} == {
        ("NL", "AAA"): "CONNECTED",
        ("BE", "BBB"): "CONNECTED",
        ("FR", "CCC"): "SUSPENDED",
    }


def test_hub_list_filters_on_last_updated(
    hub_node: NodeProcess, members: list[FakePartner]
) -> None:
    everyone, _ = crawl(members[0], sender_url(members[0]))
    middle = everyone[1]["last_updated"]
    since, answers = crawl(members[0], f"{sender_url(members[0])}?limit=1&date_from={middle}")
    assert [x["party_id"] for x in since] == ["BBB", "CCC"]
    assert answers[0].headers["x-total-count"] == "2"
    query = parse_qs(urlsplit(next_link(answers[0].headers["link"]) or "").query)
    assert query["date_from"] == [middle]  # the Link repeats every filter
    before, _ = crawl(members[0], f"{sender_url(members[0])}?date_to={middle}")
    assert [x["party_id"] for x in before] == ["AAA"]


@pytest.mark.parametrize(
    "query",
    ["limit=abc", "offset=-1", "limit=0", "date_from=yesterday", "offset=x"],
)
def test_hub_list_refuses_bad_pagination_parameters(
    hub_node: NodeProcess, members: list[FakePartner], query: str
) -> None:
    r = members[0].call_node("GET", f"{sender_url(members[0])}?{query}")
    assert r.status_code == 200, r.text
    assert r.json()["status_code"] == 2001
    assert query.split("=")[0] in r.json()["status_message"]


def test_hub_list_needs_a_registered_partner(
    hub_node: NodeProcess, members: list[FakePartner]
) -> None:
    token_a = hub_node.api("POST", "/partners/invite", {}, expect=201)["token"]
    assert hub_node.ocpi("GET", sender_url(members[0]), token_a).status_code == 401


async def test_ocpi_client_follows_link_to_the_last_page(
    hub_node: NodeProcess, members: list[FakePartner]
) -> None:
    fake = members[1]
    assert fake.node.token
    deviations = DeviationLog()
    async with httpx.AsyncClient(timeout=30) as http:
        client = OcpiClient(http, deviations)
        pages = [
            page
            async for page in client.get_pages(
                sender_url(fake), fake.node.token, partner="DE-HUB", params={"limit": "1"}
            )
        ]
    assert [len(p) for p in pages] == [1, 1, 1]
    assert [(p[0]["country_code"], p[0]["party_id"]) for p in pages] == [
        (cc, pid) for cc, pid, _ in PARTIES
    ]
    host = urlsplit(sender_url(fake)).netloc
    assert not deviations.seen(host, "no-request-id")
    assert not deviations.raw_token_hosts
    assert not deviations.rewrites
