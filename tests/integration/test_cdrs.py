"""CDRs end to end (OCPI 2.2.1 mod_cdrs) on the shared pair of real nodes: NL-CPO owns
CDRs, DE-MSP receives them.

The operator of the CPO loads its CDRs through the operator API; the eMSP side reads the
CPO's Sender with the node's own client code (``cdrs/client.py`` over ``OcpiClient``,
run here with the token the eMSP node holds), following ``Link`` to the end; the CPO
side POSTs to the eMSP's Receiver with the same client and reads the CDR back at the
``Location`` it was given. What the nodes serve is checked against the OCPI OpenAPI
files. Object ids start with ``CDRT-``; nothing else in the pair's tests uses CDRs.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.v2_2_1.cdrs.client import CdrsClient221, routing_headers
from tests.integration.fake_partner import partners, token_out
from tests.ocpi_schema import schemas_missing_reason, validate_221
from tests.support import NodeProcess
from tests.unit.test_cdrs_models import complete, example

Pair = tuple[NodeProcess, NodeProcess]
CPO, MSP = ("NL", "CPO"), ("DE", "MSP")
SENDER = "/ocpi/2.2.1/sender/cdrs"
RECEIVER = "/ocpi/2.2.1/receiver/cdrs"
CPO_TO_MSP = routing_headers(CPO, MSP)
MSP_TO_CPO = routing_headers(MSP, CPO)


def cdr(cdr_id: str, last_updated: str, remark: str = "first") -> dict[str, Any]:
    data = complete() | {"country_code": "NL", "party_id": "CPO", "id": cdr_id}
    return data | {"last_updated": last_updated, "remark": remark}


def token_for(node: NodeProcess) -> str:
    """The token ``node`` sends to its one partner (read from its database)."""
    token = token_out(node, partners(node)[0]["id"])
    assert token
    return token


@pytest.fixture
async def ocpi() -> AsyncIterator[OcpiClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield OcpiClient(http, DeviationLog())


def schema_errors(instance: object) -> list[str]:
    reason = schemas_missing_reason()
    if reason:
        pytest.skip(reason)
    return validate_221("cdrs", "CDR", instance)


def admin_post(node: NodeProcess, body: Any) -> httpx.Response:
    return node.http.post(
        f"{node.url}/api/v1/cdrs",
        content=body if isinstance(body, bytes) else json.dumps(body),
        headers={"Authorization": f"Bearer {node.admin_token}"},
    )


SENDER_IDS = ["CDRT-S1", "CDRT-S2", "CDRT-S3"]


def load_sender_cdrs(cpo: NodeProcess) -> None:
    for i, cdr_id in enumerate(SENDER_IDS):
        if cpo.api("GET", f"/cdrs/NL/CPO/{cdr_id}")["status_code"] == 1000:
            continue  # loaded by an earlier test of this module
        r = admin_post(cpo, cdr(cdr_id, f"2026-01-01T00:00:0{i}Z"))
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"{cpo.url}/api/v1/cdrs/NL/CPO/{cdr_id}"


async def test_emsp_client_reads_the_cpo_sender_following_link_to_the_end(
    connected_nodes: Pair, ocpi: OcpiClient
) -> None:
    cpo, emsp = connected_nodes
    load_sender_cdrs(cpo)
    token = await asyncio.to_thread(token_for, emsp)  # token_out runs its own event loop
    client = CdrsClient221()
    pages = [
        [c.id for c in page]
        async for page in client.fetch(
            ocpi,
            f"{cpo.url}{SENDER}",
            token,
            partner="NL-CPO",
            routing=MSP_TO_CPO,
            date_from=datetime(2026, 1, 1, tzinfo=UTC),
            date_to=datetime(2026, 1, 2, tzinfo=UTC),
            limit=1,
        )
    ]
    assert pages == [["CDRT-S1"], ["CDRT-S2"], ["CDRT-S3"]]
    # date_from inclusive, date_to exclusive (transport_and_format §"Pagination").
    window = [
        c.id
        async for page in client.fetch(
            ocpi,
            f"{cpo.url}{SENDER}",
            token,
            partner="NL-CPO",
            routing=MSP_TO_CPO,
            date_from=datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
            date_to=datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC),
        )
        for c in page
    ]
    assert window == ["CDRT-S2"]


def test_sender_answer_swaps_routing_headers_links_absolutely_and_matches_the_schema(
    connected_nodes: Pair,
) -> None:
    cpo, emsp = connected_nodes
    load_sender_cdrs(cpo)
    r = cpo.ocpi(
        "GET",
        f"{SENDER}?limit=2&date_from=2026-01-01T00:00:00Z&date_to=2026-01-02T00:00:00Z",
        token_for(emsp),
        headers=MSP_TO_CPO,
    )
    assert r.status_code == 200, r.text
    assert {k: r.headers[k] for k in CPO_TO_MSP} == CPO_TO_MSP
    assert r.headers["x-total-count"] == "3"
    assert r.headers["link"].startswith(f"<{cpo.url}{SENDER}?offset=2&limit=2")
    assert "date_from=2026-01-01T00%3A00%3A00Z" in r.headers["link"]
    body = r.json()
    assert [c["id"] for c in body["data"]] == ["CDRT-S1", "CDRT-S2"]
    for item in body["data"]:
        assert schema_errors(item) == []
    # Routing headers that name another party than the caller's are refused (2001).
    wrong = cpo.ocpi("GET", SENDER, token_for(emsp), headers=routing_headers(("BE", "BEC"), CPO))
    assert wrong.json()["status_code"] == 2001


def test_operator_refuses_duplicates_foreign_parties_and_bad_bodies(
    connected_nodes: Pair,
) -> None:
    cpo, _ = connected_nodes
    assert admin_post(cpo, cdr("CDRT-OP1", "2026-02-01T00:00:00Z")).status_code == 201
    again = admin_post(cpo, cdr("cdrt-op1", "2026-02-02T00:00:00Z", remark="changed"))
    assert again.status_code == 400 and again.json()["status_code"] == 2001
    assert "Credit CDR" in again.json()["status_message"]
    stored = cpo.api("GET", "/cdrs/NL/CPO/CDRT-OP1", expect=200)["data"]
    assert stored["remark"] == "first" and stored["last_updated"] == "2026-02-01T00:00:00Z"

    foreign = cdr("CDRT-OP2", "2026-02-01T00:00:00Z") | {"country_code": "BE", "party_id": "BEC"}
    refused = admin_post(cpo, foreign)
    assert refused.status_code == 400 and "BE-BEC" in refused.json()["status_message"]
    # Own CDRs are sent by evroam: the token's owner is required (unlike on the Receiver).
    assert admin_post(cpo, example() | {"country_code": "NL", "party_id": "CPO"}).status_code == 400
    assert admin_post(cpo, b"{not json").status_code == 400
    listed = admin_post(cpo, [cdr("CDRT-OP3", "2026-02-01T00:00:00Z")])
    assert listed.status_code == 400 and listed.json()["status_code"] == 2001
    for cdr_id in ("CDRT-OP2", "CDRT-OP3"):
        missing = cpo.http.get(
            f"{cpo.url}/api/v1/cdrs/NL/CPO/{cdr_id}",
            headers={"Authorization": f"Bearer {cpo.admin_token}"},
        )
        assert missing.status_code == 404
    page = cpo.api("GET", "/cdrs?party=NL-CPO&own=true&date_from=2026-02-01T00:00:00Z", expect=200)
    assert [c["id"] for c in page["data"]] == ["CDRT-OP1"]


async def test_cpo_client_posts_to_the_emsp_receiver_and_reads_the_location(
    connected_nodes: Pair, ocpi: OcpiClient
) -> None:
    cpo, emsp = connected_nodes
    token = await asyncio.to_thread(token_for, cpo)  # token_out runs its own event loop
    client = CdrsClient221()
    doc = cdr("CDRT-R1", "2026-03-01T00:00:00Z")
    location = await client.post(
        ocpi, f"{emsp.url}{RECEIVER}", token, doc, partner="DE-MSP", routing=CPO_TO_MSP
    )
    assert location == f"{emsp.url}{RECEIVER}/NL/CPO/CDRT-R1"
    back = await client.get(ocpi, location, token, partner="DE-MSP", routing=CPO_TO_MSP)
    assert back.model_dump(mode="json", exclude_none=True) == doc
    raw = emsp.ocpi("GET", location, token, headers=CPO_TO_MSP)
    assert {k: raw.headers[k] for k in MSP_TO_CPO} == MSP_TO_CPO
    assert schema_errors(raw.json()["data"]) == []

    # CDRs never change after receipt: a second POST is refused, the first one stays.
    with pytest.raises(PartnerError) as err:
        await client.post(
            ocpi,
            f"{emsp.url}{RECEIVER}",
            token,
            cdr("CDRT-R1", "2026-03-02T00:00:00Z", remark="changed"),
            partner="DE-MSP",
            routing=CPO_TO_MSP,
        )
    assert err.value.ocpi_status == 2001 and err.value.http_status == 200
    assert "Credit CDR" in str(err.value)
    seen = emsp.api("GET", "/cdrs/NL/CPO/CDRT-R1", expect=200)["data"]
    assert seen == doc
    received = emsp.api("GET", "/cdrs?party=NL-CPO&own=false", expect=200)["data"]
    assert "CDRT-R1" in [c["id"] for c in received]
    assert emsp.api("GET", "/cdrs?party=NL-CPO&own=true", expect=200)["data"] == []


def test_spec_example_through_the_receiver(connected_nodes: Pair) -> None:
    cpo, emsp = connected_nodes
    token = token_for(cpo)
    # The example's owner BE-BEC is not the CPO's party: refused, naming the mismatch.
    refused = emsp.ocpi("POST", RECEIVER, token, json=example(), headers=CPO_TO_MSP)
    assert refused.status_code == 200
    assert refused.json()["status_code"] == 2001 and "BE-BEC" in refused.json()["status_message"]
    # Under the CPO's own party, the example is accepted as it is, although its cdr_token
    # lacks country_code/party_id (required since 2.2.1; digest §7.14): the Receiver
    # tolerates that and serves the CDR back as it came.
    sent = example() | {"country_code": "NL", "party_id": "CPO", "id": "CDRT-EX"}
    r = emsp.ocpi("POST", RECEIVER, token, json=sent, headers=CPO_TO_MSP)
    assert r.status_code == 201, r.text
    assert r.json()["status_code"] == 1000 and "data" not in r.json()
    assert {k: r.headers[k] for k in MSP_TO_CPO} == MSP_TO_CPO
    back = emsp.ocpi("GET", r.headers["location"], token, headers=CPO_TO_MSP).json()["data"]
    assert back == sent
    # The served CDR differs from the schema in exactly what the example lacks.
    assert schema_errors(back) == [
        "cdr_token: 'country_code' is a required property",
        "cdr_token: 'party_id' is a required property",
    ]


def test_receiver_bad_input_is_refused_and_stores_nothing(connected_nodes: Pair) -> None:
    cpo, emsp = connected_nodes
    token = token_for(cpo)

    def post(headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return emsp.ocpi("POST", RECEIVER, token, headers=CPO_TO_MSP | (headers or {}), **kwargs)

    good = cdr("CDRT-BAD", "2026-04-01T00:00:00Z")
    bad_enum = copy.deepcopy(good)
    bad_enum["cdr_location"]["connector_format"] = "PLUG"
    cases = {
        "invalid enum": post(json=bad_enum),
        "string over its length": post(json=good | {"remark": "x" * 256}),
        "wrong type": post(json=good | {"total_time": "1.9"}),
        "list body": post(json=[good]),
        "coordinates out of range": post(
            json=good
            | {
                "cdr_location": good["cdr_location"]
                | {"coordinates": {"latitude": "95.00000", "longitude": "3.72994"}}
            }
        ),
        "id over 36 without credit": post(json=good | {"id": "CDRT-" + "X" * 32}),
    }
    for what, r in cases.items():
        assert (r.status_code, r.json()["status_code"]) == (200, 2001), (what, r.text)
    malformed = post(content=b'{"id": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert emsp.api("GET", "/cdrs?party=NL-CPO&date_from=2026-04-01T00:00:00Z")["data"] == []
    # Unknown CDRs and CDRs of parties not the caller's are 404 (transport §1.3, §1.9).
    assert emsp.ocpi("GET", f"{RECEIVER}/NL/CPO/CDRT-NONE", token).status_code == 404
    assert emsp.ocpi("GET", f"{RECEIVER}/BE/BEC/12345", token).status_code == 404


def test_the_sender_serves_a_cdr_only_to_the_emsp_of_its_token(connected_nodes: Pair) -> None:
    """A CDR tells who charged where: another eMSP must not read it (mod_cdrs §"Sender
    Interface": the CPO returns the CDRs relevant to the caller)."""
    cpo, emsp = connected_nodes
    other = cdr("CDRT-OTHER", "2026-03-05T00:00:00Z")
    other["cdr_token"] = dict(other["cdr_token"], country_code="FR", party_id="XYZ")
    assert admin_post(cpo, other).status_code == 201
    token = token_for(emsp)
    listed = emsp.ocpi(
        "GET",
        f"{cpo.url}{SENDER}?date_from=2026-03-05T00:00:00Z&date_to=2026-03-06T00:00:00Z",
        token,
        headers=MSP_TO_CPO,
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == [] and listed.headers["X-Total-Count"] == "0"
    # The operator sees it.
    assert cpo.api("GET", "/cdrs/NL/CPO/CDRT-OTHER")["data"]["id"] == "CDRT-OTHER"
