"""Tariffs between two real nodes (OCPI 2.2.1 mod_tariffs), on SQLite and PostgreSQL.

The CPO (NL-CPO) owns tariffs, the eMSP (DE-MSP) receives them. The operator loads the
CPO's own tariffs through the operator API; the eMSP's own client code
(``tariffs/client.py``, run here with an httpx client and the token the eMSP holds for
the CPO) pulls the CPO's Sender to the last ``Link``; the CPO's client code pushes every
2.2.1 example to the eMSP's Receiver and reads it back. What the nodes serve is checked
against the OCPI OpenAPI 3.1 schema. Object ids start with ``trf-`` (the node pair is
shared by this module's tests).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evroam.core.objects import ObjectKey
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    Partner,
    Party,
    Role,
)
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.v2_2_1.tariffs.client import CLIENT
from tests.integration.fake_partner import token_out
from tests.ocpi_schema import schemas_missing_reason, validate_221
from tests.support import NodeProcess

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ocpi" / "examples" / "2.2.1"
CPO, MSP = ("NL", "CPO"), ("DE", "MSP")
ROUTING = (
    "OCPI-from-country-code",
    "OCPI-from-party-id",
    "OCPI-to-country-code",
    "OCPI-to-party-id",
)


def tariff(
    tariff_id: str, updated: str = "2026-11-25T10:00:00Z", price: float = 0.25
) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": tariff_id,
        "currency": "EUR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": price, "vat": 21, "step_size": 1}]}
        ],
        "last_updated": updated,
    }


def partner_seen_by(node: NodeProcess) -> Partner:
    """The other node as ``node`` stores it, with the token ``node`` sends it."""
    [p] = node.api("GET", "/partners", expect=200)
    return Partner(
        id=p["id"],
        status=ConnectionStatus.CONNECTED,
        version=p["version"],
        endpoints=[
            Endpoint(e["identifier"], InterfaceRole(e["role"]) if e["role"] else None, e["url"])
            for e in p["endpoints"]
        ],
        roles=[
            Party(r["country_code"], r["party_id"], Role(r["role"]), BusinessDetails(r["name"]))
            for r in p["roles"]
        ],
        token_out=token_out(node, p["id"]),
    )


def url_of(partner: Partner, role: InterfaceRole) -> str:
    ep = partner.endpoint("tariffs", role)
    assert ep is not None, f"{partner.label} lists no tariffs {role}"
    return ep.url


def schema_errors(obj: object) -> list[str]:
    if schemas_missing_reason():
        return []
    return validate_221("tariffs", "Tariff", obj)


def assert_routing(
    headers: httpx.Headers | dict[str, str], ours: tuple[str, str], theirs: tuple[str, str]
) -> None:
    got = tuple(headers.get(h) for h in ROUTING)
    assert got == (*ours, *theirs), got


@pytest.fixture
def seen(connected_nodes: tuple[NodeProcess, NodeProcess]) -> tuple[Partner, Partner]:
    """(the CPO as the eMSP sees it, the eMSP as the CPO sees it); read outside the event
    loop (``token_out`` runs its own)."""
    cpo, emsp = connected_nodes
    return partner_seen_by(emsp), partner_seen_by(cpo)


@pytest.fixture
async def ocpi_http() -> AsyncIterator[OcpiClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield OcpiClient(http, DeviationLog())


def test_each_node_offers_the_tariffs_interface_of_its_role(
    connected_nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = connected_nodes
    # digest §5.8: CPO tariffs Sender, eMSP tariffs Receiver.
    assert {e.role for e in partner_seen_by(emsp).endpoints if e.identifier == "tariffs"} == {
        InterfaceRole.SENDER
    }
    assert {e.role for e in partner_seen_by(cpo).endpoints if e.identifier == "tariffs"} == {
        InterfaceRole.RECEIVER
    }


async def test_emsp_client_pulls_the_cpo_sender_to_the_last_link(
    connected_nodes: tuple[NodeProcess, NodeProcess],
    ocpi_http: OcpiClient,
    seen: tuple[Partner, Partner],
) -> None:
    cpo, emsp = connected_nodes
    ids = [f"trf-pull-{i}" for i in range(5)]
    for i, tid in enumerate(ids):
        r = cpo.api(
            "PUT", f"/tariffs/NL/CPO/{tid}", tariff(tid, f"2026-11-2{i}T10:00:00Z"), expect=201
        )
        assert r["status_code"] == 1000
    again = cpo.api("PUT", f"/tariffs/NL/CPO/{ids[0]}", tariff(ids[0], "2026-11-20T11:00:00Z", 0.3))
    assert again["status_code"] == 1000

    cpo_seen = seen[0]
    pages = [p async for p in CLIENT.pull(ocpi_http, cpo_seen, MSP, params={"limit": "2"})]
    assert len(pages) >= 3
    assert not [r for p in pages for r in p.refused]
    got = {t["id"]: t for p in pages for t in p.tariffs}
    assert set(ids) <= set(got)
    assert got[ids[0]]["elements"][0]["price_components"][0]["price"] == 0.3
    assert got[ids[1]] == tariff(ids[1], "2026-11-21T10:00:00Z")

    # The raw first page: OCPI page headers, absolute Link, routing headers swapped.
    url = url_of(cpo_seen, InterfaceRole.SENDER)
    r = emsp.ocpi(
        "GET",
        url,
        cpo_seen.token_out,
        params={"limit": "2"},
        headers=dict(zip(ROUTING, (*MSP, *CPO), strict=True)),
    )
    assert r.status_code == 200, r.text
    assert_routing(r.headers, CPO, MSP)
    assert int(r.headers["X-Total-Count"]) >= 5 and r.headers["X-Limit"]
    assert r.headers["Link"].startswith(f"<{url}?") and 'rel="next"' in r.headers["Link"]
    body = r.json()
    assert body["status_code"] == 1000 and len(body["data"]) == 2
    for obj in body["data"]:
        assert schema_errors(obj) == []

    # date_from/date_to on last_updated: inclusive / exclusive.
    window = {"date_from": "2026-11-21T10:00:00Z", "date_to": "2026-11-23T10:00:00Z"}
    pages = [p async for p in CLIENT.pull(ocpi_http, cpo_seen, MSP, params=window)]
    assert sorted(t["id"] for p in pages for t in p.tariffs) == ids[1:3]


def test_sender_get_one_and_unknown(connected_nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = connected_nodes
    cpo.api("PUT", "/tariffs/NL/CPO/trf-one", tariff("trf-one"), expect=201)
    cpo_seen = partner_seen_by(emsp)
    url = url_of(cpo_seen, InterfaceRole.SENDER)
    r = emsp.ocpi("GET", f"{url}/TRF-ONE", cpo_seen.token_out)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == tariff("trf-one")
    assert schema_errors(r.json()["data"]) == []
    assert_routing(r.headers, CPO, MSP)
    r = emsp.ocpi("GET", f"{url}/trf-none", cpo_seen.token_out)
    assert r.status_code == 404 and r.json()["status_code"] == 2000


def example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    # tariff_put_example.json lacks the required last_updated: refused (unit tests).
    return sorted(p for p in EXAMPLES.glob("tariff*.json") if p.name != "tariff_put_example.json")


async def test_cpo_client_pushes_every_example_and_reads_it_back(
    connected_nodes: tuple[NodeProcess, NodeProcess],
    ocpi_http: OcpiClient,
    seen: tuple[Partner, Partner],
) -> None:
    if not EXAMPLES.is_dir():
        pytest.skip(f"OCPI 2.2.1 examples not found at {EXAMPLES} (../shared is absent)")
    cpo, emsp = connected_nodes
    emsp_seen = seen[1]
    files = example_files()
    assert len(files) >= 18
    for n, path in enumerate(files):
        # The examples belong to DE-ALL and reuse ids: re-owned by NL-CPO with ids of ours.
        sent = json.loads(path.read_text()) | {
            "country_code": "NL",
            "party_id": "CPO",
            "id": f"trf-ex-{n}",
        }
        answer = await CLIENT.put(ocpi_http, emsp_seen, sent)
        assert (answer.http_status, answer.status_code) == (201, 1000), path.name
        assert_routing(answer.headers, MSP, CPO)
        back = await CLIENT.get(ocpi_http, emsp_seen, CPO, f"trf-ex-{n}")
        assert back == sent, path.name
        stored = emsp.api("GET", f"/tariffs/NL/CPO/trf-ex-{n}", expect=200)["data"]
        assert stored == sent, path.name
        assert schema_errors(stored) == [], path.name
    listed = emsp.api("GET", "/tariffs?party=NL-CPO&own=false&limit=1000", expect=200)["data"]
    assert {f"trf-ex-{n}" for n in range(len(files))} <= {t["id"] for t in listed}


async def test_receiver_keeps_the_newer_put_and_deletes(
    connected_nodes: tuple[NodeProcess, NodeProcess],
    ocpi_http: OcpiClient,
    seen: tuple[Partner, Partner],
) -> None:
    cpo, emsp = connected_nodes
    emsp_seen = seen[1]
    newer = tariff("trf-life", "2026-11-25T12:00:00Z", 0.4)
    assert (await CLIENT.put(ocpi_http, emsp_seen, newer)).http_status == 201
    stale = await CLIENT.put(ocpi_http, emsp_seen, tariff("trf-life", "2026-11-25T11:00:00Z", 0.1))
    assert (stale.http_status, stale.status_code) == (200, 1000)
    assert "nothing changed" in str(stale.status_message)
    assert await CLIENT.get(ocpi_http, emsp_seen, CPO, "trf-life") == newer
    replaced = tariff("trf-life", "2026-11-25T13:00:00Z", 0.5)
    assert (await CLIENT.put(ocpi_http, emsp_seen, replaced)).http_status == 200
    assert await CLIENT.get(ocpi_http, emsp_seen, CPO, "TRF-LIFE") == replaced

    answer = await CLIENT.delete(ocpi_http, emsp_seen, ObjectKey("NL", "CPO", "trf-life"))
    assert answer.status_code == 1000
    assert_routing(answer.headers, MSP, CPO)
    assert await CLIENT.get(ocpi_http, emsp_seen, CPO, "trf-life") is None
    with pytest.raises(PartnerError) as info:
        await CLIENT.delete(ocpi_http, emsp_seen, ObjectKey("NL", "CPO", "trf-life"))
    assert info.value.http_status == 404


BAD_PUTS: list[tuple[str, str, Any, int, int, str]] = [
    # (name, url party/id, body, HTTP, OCPI status, text in the message)
    (
        "wrong party in URL",
        "DE/ALL/trf-bad",
        tariff("trf-bad") | {"country_code": "DE", "party_id": "ALL"},
        200,
        2001,
        "DE-ALL",
    ),
    (
        "body party differs",
        "NL/CPO/trf-bad",
        tariff("trf-bad") | {"party_id": "XYZ"},
        200,
        2001,
        "NL-XYZ",
    ),
    ("body id differs", "NL/CPO/trf-bad", tariff("trf-other"), 200, 2001, "id"),
    ("invalid enum", "NL/CPO/trf-bad", tariff("trf-bad") | {"type": "WEEKEND"}, 200, 2001, "type"),
    (
        "string too long",
        "NL/CPO/trf-bad",
        tariff("trf-bad") | {"currency": "EURO"},
        200,
        2001,
        "currency",
    ),
    (
        "wrong type",
        "NL/CPO/trf-bad",
        tariff("trf-bad") | {"elements": "none"},
        200,
        2001,
        "elements",
    ),
    ("list body", "NL/CPO/trf-bad", [tariff("trf-bad")], 200, 2001, "body"),
    ("malformed JSON", "NL/CPO/trf-bad", b'{"id": "trf-bad",', 400, 2000, "JSON"),
]


@pytest.mark.parametrize(
    ("name", "path", "body", "http", "status", "text"), BAD_PUTS, ids=[b[0] for b in BAD_PUTS]
)
def test_bad_put_is_refused_and_stores_nothing(
    connected_nodes: tuple[NodeProcess, NodeProcess],
    name: str,
    path: str,
    body: Any,
    http: int,
    status: int,
    text: str,
) -> None:
    cpo, emsp = connected_nodes
    emsp_seen = partner_seen_by(cpo)
    url = f"{url_of(emsp_seen, InterfaceRole.RECEIVER)}/{path}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = cpo.ocpi(
        "PUT",
        url,
        emsp_seen.token_out,
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == http, r.text
    assert r.json()["status_code"] == status
    assert text in r.json()["status_message"]
    for key in ("NL/CPO/trf-bad", "NL/CPO/trf-other", "DE/ALL/trf-bad"):
        assert emsp.api("GET", f"/tariffs/{key}")["status_code"] == 2000


def test_patch_is_not_a_tariffs_method(connected_nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = connected_nodes
    emsp_seen = partner_seen_by(cpo)
    url = f"{url_of(emsp_seen, InterfaceRole.RECEIVER)}/NL/CPO/trf-patch"
    r = cpo.ocpi("PATCH", url, emsp_seen.token_out, json={"last_updated": "2026-11-25T10:00:00Z"})
    assert r.status_code == 405 and r.headers["Allow"] == "GET, PUT, DELETE"
    assert r.json()["status_code"] == 2000 and "PUT" in r.json()["status_message"]
    assert r.json()["timestamp"]


def test_receiver_get_of_another_partys_tariff_is_refused(
    connected_nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = connected_nodes
    emsp_seen = partner_seen_by(cpo)
    r = cpo.ocpi(
        "GET", f"{url_of(emsp_seen, InterfaceRole.RECEIVER)}/DE/ALL/trf-x", emsp_seen.token_out
    )
    assert r.json()["status_code"] == 2001 and "DE-ALL" in r.json()["status_message"]


def test_operator_api_writes_only_own_parties_and_checks_the_body(
    connected_nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = connected_nodes
    # The eMSP node does not own NL-CPO: its operator cannot write the CPO's tariffs.
    r = emsp.api("PUT", "/tariffs/NL/CPO/trf-op", tariff("trf-op"), expect=400)
    assert r["status_code"] == 2001 and "NL-CPO" in r["status_message"]
    r = cpo.api("PUT", "/tariffs/NL/CPO/trf-op", tariff("trf-op") | {"currency": 3}, expect=400)
    assert r["status_code"] == 2001 and "currency" in r["status_message"]
    r = cpo.api("PUT", "/tariffs/NL/CPO/trf-op", tariff("trf-op2"), expect=400)
    assert r["status_code"] == 2001
    assert cpo.api("GET", "/tariffs/NL/CPO/trf-op", expect=404)["status_code"] == 2000
    cpo.api("PUT", "/tariffs/NL/CPO/trf-op", tariff("trf-op"), expect=201)
    own = cpo.api("GET", "/tariffs?party=NL-CPO&own=true&limit=1000", expect=200)["data"]
    assert "trf-op" in {t["id"] for t in own}
    assert cpo.api("GET", "/tariffs?own=false", expect=200)["data"] == []
    assert cpo.api("GET", "/tariffs?party=nope", expect=400)["status_code"] == 2001
    assert cpo.api("DELETE", "/tariffs/NL/CPO/trf-op", expect=200)["status_code"] == 1000
    assert cpo.api("DELETE", "/tariffs/NL/CPO/trf-op", expect=404)["status_code"] == 2000


def test_operator_list_link_repeats_its_filters(
    connected_nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, _ = connected_nodes
    for i in range(3):
        cpo.api("PUT", f"/tariffs/NL/CPO/trf-link-{i}", tariff(f"trf-link-{i}"), expect=201)
    r = cpo.http.get(
        f"{cpo.url}/api/v1/tariffs",
        params={"party": "NL-CPO", "own": "true", "limit": "1"},
        headers={"Authorization": f"Bearer {cpo.admin_token}"},
    )
    link = r.headers["Link"]
    assert (
        link.startswith(f"<{cpo.url}/api/v1/tariffs?")
        and "party=NL-CPO" in link
        and "own=true" in link
    )
