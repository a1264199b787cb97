"""Locations between two real nodes (shared ``connected_nodes`` pair, SQLite and
PostgreSQL): the CPO's operator loads its Locations, the eMSP reads the CPO's Sender
with the node's own client code (``LocationsClient`` over ``OcpiClient``, following
``Link`` to the end), and the CPO's client code writes into the eMSP's Receiver. What
the nodes serve is checked against the OCPI OpenAPI 3.1 schema of the module. Object ids
here start with ``LT-`` so they never meet another test's objects."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.v2_2_1.locations.client import LocationsClient, routing
from tests.integration.fake_partner import partners, token_out
from tests.ocpi_schema import schemas_missing_reason, validate_221
from tests.support import NodeProcess

Pair = tuple[NodeProcess, NodeProcess]
CPO, MSP = ("NL", "CPO"), ("DE", "MSP")
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ocpi" / "examples" / "2.2.1"
FROM_TO = (
    "ocpi-from-country-code",
    "ocpi-from-party-id",
    "ocpi-to-country-code",
    "ocpi-to-party-id",
)


def location(lid: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": lid,
        "publish": True,
        "address": "Street 1",
        "city": "Town",
        "country": "NLD",
        "coordinates": {"latitude": "52.123456", "longitude": "4.123456"},
        "time_zone": "Europe/Amsterdam",
        "evses": [evse("E1"), evse("E2")],
        "last_updated": "2026-11-20T10:00:00Z",
    }
    doc.update(over)
    return doc


def evse(uid: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "uid": uid,
        "status": "AVAILABLE",
        "connectors": [connector("1")],
        "last_updated": "2026-11-20T10:00:00Z",
    }
    doc.update(over)
    return doc


def connector(cid: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "last_updated": "2026-11-20T10:00:00Z",
    }
    doc.update(over)
    return doc


def endpoint(node: NodeProcess, role: str) -> tuple[int, str]:
    """(partner id, URL of its locations interface ``role``) as the node registered it."""
    (partner,) = partners(node)
    for e in partner["endpoints"]:
        if e["identifier"] == "locations" and e["role"] == role:
            return int(partner["id"]), str(e["url"])
    raise AssertionError(f"no locations {role} in {partner['endpoints']}")


def schema_errors(name: str, instance: Any) -> list[str]:
    reason = schemas_missing_reason()
    if reason:
        pytest.skip(reason)
    return validate_221("locations", name, instance)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def with_client(fn: Any) -> Any:
    async with httpx.AsyncClient(timeout=30) as http:
        return await fn(OcpiClient(http, DeviationLog()))


def op_put(node: NodeProcess, path: str, body: Any, expect: int = 200) -> Any:
    answer = node.api("PUT", f"/locations/{path}", body, expect=expect)
    return answer


# --------------------------------------------------------------------------- Sender


def test_partner_reads_the_cpo_sender_following_link(connected_nodes: Pair) -> None:
    cpo, emsp = connected_nodes
    for i in range(3):
        assert op_put(cpo, f"NL/CPO/LT-S{i}", location(f"LT-S{i}"))["status_code"] == 1000
    hidden = location("LT-HIDDEN", publish=False)
    assert op_put(cpo, "NL/CPO/LT-HIDDEN", hidden)["status_code"] == 1000
    # The operator adds an EVSE and moves a connector's tariff: parents move along.
    op_put(cpo, "NL/CPO/LT-S0/E3", evse("E3", last_updated="2026-11-21T00:00:00Z"))
    patched = cpo.api(
        "PATCH",
        "/locations/NL/CPO/LT-S0/E3/1",
        {"tariff_ids": ["T1"], "last_updated": "2026-11-22T00:00:00Z"},
        expect=200,
    )
    assert patched["status_code"] == 1000
    pid, url = endpoint(emsp, "SENDER")
    token = token_out(emsp, pid)
    assert token
    hdrs = routing(MSP, CPO)
    client = LocationsClient()

    async def read(api: OcpiClient) -> Any:
        pages = [
            page
            async for page in client.pages(
                api, url, token, partner="NL-CPO", routing=hdrs, params={"limit": "1"}
            )
        ]
        one = await api.request("GET", f"{url}/LT-S0", token, partner="NL-CPO", routing=hdrs)
        got_evse = await client.get(api, url, token, "LT-S0", "E3", partner="x", routing=hdrs)
        got_conn = await client.get(api, url, token, "lt-s0", "e3", "1", partner="x", routing=hdrs)
        with pytest.raises(PartnerError) as err:
            await client.get(api, url, token, "LT-HIDDEN", partner="x", routing=hdrs)
        return pages, one, got_evse, got_conn, err.value

    pages, one, got_evse, got_conn, hidden_err = run(with_client(read))
    ids = [loc["id"] for page in pages for loc in page]
    assert [i for i in ids if i.startswith("LT-")] == ["LT-S0", "LT-S1", "LT-S2"]
    assert len(pages) == len(ids)  # one per page: Link was followed to the end
    assert "LT-HIDDEN" not in ids and hidden_err.http_status == 404
    assert hidden_err.ocpi_status == 2003
    # The answer swaps the routing headers of the request.
    assert [one.headers[h] for h in FROM_TO] == ["NL", "CPO", "DE", "MSP"]
    loc = one.data
    assert loc["last_updated"] == "2026-11-22T00:00:00Z"
    assert got_evse["last_updated"] == "2026-11-22T00:00:00Z"
    assert got_conn["tariff_ids"] == ["T1"]
    assert schema_errors("Location", loc) == []
    assert schema_errors("EVSE", got_evse) == []
    assert schema_errors("Connector", got_conn) == []
    for page in pages:
        for item in page:
            assert schema_errors("Location", item) == []


def test_sender_list_headers_and_filters(connected_nodes: Pair) -> None:
    cpo, emsp = connected_nodes
    op_put(cpo, "NL/CPO/LT-D1", location("LT-D1", last_updated="2030-01-01T00:00:00Z"))
    pid, url = endpoint(emsp, "SENDER")
    token = token_out(emsp, pid)
    r = emsp.ocpi(
        "GET",
        url,
        token,
        params={"date_from": "2030-01-01T00:00:00Z", "limit": "100000"},
        headers={k: v for k, v in routing(MSP, CPO).items()},
    )
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["data"]] == ["LT-D1"]
    assert r.headers["x-total-count"] == "1" and int(r.headers["x-limit"]) >= 1
    assert r.headers["ocpi-to-party-id"] == "MSP"


# --------------------------------------------------------------------------- Receiver


def test_cpo_client_writes_the_emsp_receiver(connected_nodes: Pair) -> None:
    cpo, emsp = connected_nodes
    pid, url = endpoint(cpo, "RECEIVER")
    token = token_out(cpo, pid)
    assert token
    hdrs = routing(CPO, MSP)
    client = LocationsClient()

    async def push(api: OcpiClient) -> Any:
        put = await client.push(
            api, "PUT", url, token, CPO, "LT-R1", location("LT-R1"), partner="DE-MSP", routing=hdrs
        )
        status = {"status": "CHARGING", "last_updated": "2026-11-21T10:00:00Z"}
        patch = await client.push(
            api, "PATCH", url, token, CPO, "LT-R1", status, "E1", partner="x", routing=hdrs
        )
        older = {"status": "OUTOFORDER", "last_updated": "2026-11-20T11:00:00Z"}
        stale = await client.push(
            api, "PATCH", url, token, CPO, "LT-R1", older, "E1", partner="x", routing=hdrs
        )
        conn = connector("2", last_updated="2026-11-23T00:00:00Z")
        await client.push(
            api, "PUT", url, token, CPO, "LT-R1", conn, "E2", "2", partner="x", routing=hdrs
        )
        got = await api.request("GET", f"{url}/NL/CPO/lt-r1", token, partner="x", routing=hdrs)
        return put, patch, stale, got

    put, patch, stale, got = run(with_client(push))
    assert put.status_code == patch.status_code == stale.status_code == 1000
    assert "kept the newer" in (stale.status_message or "")
    assert [put.headers[h] for h in FROM_TO] == ["DE", "MSP", "NL", "CPO"]
    stored = got.data
    assert stored["evses"][0]["status"] == "CHARGING"
    assert stored["evses"][1]["connectors"][1]["id"] == "2"
    # The Connector PUT moved its EVSE and the Location (§"PUT Method").
    assert stored["evses"][1]["last_updated"] == "2026-11-23T00:00:00Z"
    assert stored["last_updated"] == "2026-11-23T00:00:00Z"
    assert schema_errors("Location", stored) == []
    # The eMSP's operator reads what the partner sent.
    page = emsp.api("GET", "/locations?party=NL-CPO&own=false", expect=200)
    assert "LT-R1" in [x["id"] for x in page["data"]]
    assert emsp.api("GET", "/locations/NL/CPO/LT-R1/E1", expect=200)["data"]["status"] == "CHARGING"


def raw(node: NodeProcess, method: str, url: str, token: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return node.ocpi(
        method,
        url,
        token,
        content=content,
        headers={"Content-Type": "application/json", **routing(CPO, MSP)},
    )


BAD_PUTS: list[tuple[str, str, Any, int, int, str]] = [
    (
        "PUT",
        "DE/MSP/LT-B1",
        location("LT-B1", country_code="DE", party_id="MSP"),
        200,
        2001,
        "not one of your parties",
    ),
    ("PUT", "NL/CPO/LT-B1", location("LT-OTHER"), 200, 2001, "differs from the URL"),
    (
        "PUT",
        "NL/CPO/LT-B1",
        location("LT-B1", evses=[evse("E1"), evse("E1")]),
        200,
        2001,
        "appears twice",
    ),
    (
        "PUT",
        "NL/CPO/LT-B1",
        location("LT-B1", coordinates={"latitude": "91.000000", "longitude": "4.123456"}),
        200,
        2001,
        "latitude",
    ),
    ("PUT", "NL/CPO/LT-B1", location("LT-B1", parking_type="ROOFTOP"), 200, 2001, "parking_type"),
    ("PUT", "NL/CPO/LT-B1", location("LT-B1", city="x" * 46), 200, 2001, "city"),
    ("PUT", "NL/CPO/LT-B1", location("LT-B1", publish="true"), 200, 2001, "publish"),
    ("PUT", "NL/CPO/LT-B1", [location("LT-B1")], 200, 2001, ""),
    ("PUT", "NL/CPO/LT-B1", b'{"id": "LT-B1",', 400, 2001, ""),
    ("PUT", "NL/CPO/LT-B1/E1", evse("E1"), 404, 2003, "unknown Location"),
    ("PATCH", "NL/CPO/LT-B1", {"name": "x", "last_updated": "2026-11-21T00:00:00Z"}, 404, 2003, ""),
    ("PATCH", "NL/CPO/LT-B1", {"name": "x"}, 200, 2001, "last_updated"),
]


@pytest.mark.parametrize(("method", "path", "body", "http", "code", "text"), BAD_PUTS)
def test_bad_input_into_the_receiver_stores_nothing(
    connected_nodes: Pair, method: str, path: str, body: Any, http: int, code: int, text: str
) -> None:
    cpo, emsp = connected_nodes
    pid, url = endpoint(cpo, "RECEIVER")
    token = token_out(cpo, pid)
    assert token
    r = raw(cpo, method, f"{url}/{path}", token, body)
    assert r.status_code == http, r.text
    if code == 2001 and http == 400:
        assert r.json()["status_code"] >= 2000  # malformed JSON: HTTP 400
    else:
        assert r.json()["status_code"] == code, r.text
        assert text in r.json().get("status_message", ""), r.text
    assert emsp.api("GET", "/locations/NL/CPO/LT-B1")["status_code"] == 2003
    assert emsp.api("GET", "/locations/DE/MSP/LT-B1")["status_code"] == 2003


def test_operator_write_for_a_foreign_party_is_refused(connected_nodes: Pair) -> None:
    cpo, _ = connected_nodes
    answer = op_put(cpo, "DE/MSP/LT-F1", location("LT-F1", country_code="DE", party_id="MSP"), 400)
    assert (
        answer["status_code"] == 2001
        and "not one of this node's CPO parties" in answer["status_message"]
    )
    assert cpo.api("GET", "/locations/DE/MSP/LT-F1", expect=404)["status_code"] == 2003


# --------------------------------------------------------------------------- spec examples


def example(name: str) -> Any:
    if not EXAMPLES.is_dir():
        pytest.skip(f"OCPI examples not found at {EXAMPLES} (../shared is absent)")
    return json.loads((EXAMPLES / name).read_text())


LOCATION_EXAMPLES = [
    "location_example.json",
    "location_example_parking_garage_opening_hours.json",
    "location_example_uc2_destination_charger.json",
    "location_example_uc3_destination_charger_not_published.json",
    "location_example_uc4_limited_visibility.json",
    "location_example_uc5_home_charge_point.json",
]


def test_spec_examples_go_through_the_receiver(connected_nodes: Pair) -> None:
    """Each example Location, put by the CPO partner under its own party (the examples
    name BE-BEC, NL-ALL, DE-ALL: parties the eMSP must refuse from NL-CPO, so the owner
    and id are rewritten), is served back equal in meaning; the PATCH examples apply."""
    cpo, emsp = connected_nodes
    pid, url = endpoint(cpo, "RECEIVER")
    token = token_out(cpo, pid)
    assert token
    for n, name in enumerate(LOCATION_EXAMPLES):
        data = example(name) | {"country_code": "NL", "party_id": "CPO", "id": f"LT-X{n}"}
        r = raw(cpo, "PUT", f"{url}/NL/CPO/LT-X{n}", token, data)
        assert r.json()["status_code"] == 1000, (name, r.text)
        got = raw(cpo, "GET", f"{url}/NL/CPO/LT-X{n}", token, b"").json()["data"]
        assert got == data, name
        assert schema_errors("Location", got) == []
    # location_example.json has EVSEs 3256 (connectors 1, 2) and 3257.
    base = f"{url}/NL/CPO/LT-X0"
    for name, where in [
        ("location_patch_example_location.json", base),
        ("location_patch_example_status.json", f"{base}/3256"),
        ("location_patch_example_tariff.json", f"{base}/3256/2"),
        ("location_patch_example_remove_evse.json", f"{base}/3257"),
    ]:
        r = raw(cpo, "PATCH", where, token, example(name))
        assert r.json()["status_code"] == 1000, (name, r.text)
    got = raw(cpo, "GET", base, token, b"").json()["data"]
    assert got["name"] == "Interparking Gent Zuid"
    assert [e["status"] for e in got["evses"]] == ["CHARGING", "REMOVED"]
    assert got["evses"][0]["connectors"][1]["tariff_ids"] == ["15"]
    # The add-EVSE example is itself wrong (digest §7.14: ``floor``, a number for
    # physical_reference, connectors without power fields): refused with 2001, and the
    # Location keeps its two EVSEs.
    add = example("location_put_example_add_evse.json")
    r = raw(cpo, "PUT", f"{base}/3256", token, copy.deepcopy(add))
    assert r.json()["status_code"] == 2001 and "physical_reference" in r.json()["status_message"]
    got = raw(cpo, "GET", base, token, b"").json()["data"]
    assert len(got["evses"]) == 2


# --------------------------------------------------------------------------- operator lists


@pytest.mark.parametrize("module", ["locations", "tariffs", "tokens", "sessions", "cdrs"])
def test_operator_lists_share_one_filter_behaviour(connected_nodes: Pair, module: str) -> None:
    """Every module's ``GET /api/v1/{module}`` (web/admin/pages.py): a bad ``party`` or
    ``own`` is 400 with 2001 (not FastAPI's 422), and paging is the OCPI one."""
    cpo, _ = connected_nodes
    for query in ("party=nope", "party=NL-", "own=maybe", "limit=-1"):
        r = cpo.http.get(
            f"{cpo.url}/api/v1/{module}?{query}",
            headers={"Authorization": f"Bearer {cpo.admin_token}"},
        )
        assert r.status_code == 400, (query, r.text)
        assert r.json()["status_code"] == 2001, (query, r.text)
    page = cpo.http.get(
        f"{cpo.url}/api/v1/{module}?party=NL-CPO&own=true",
        headers={"Authorization": f"Bearer {cpo.admin_token}"},
    )
    assert page.status_code == 200 and page.json()["status_code"] == 1000
    assert page.headers["X-Limit"] and page.headers["X-Total-Count"].isdigit()


def test_operator_list_link_repeats_every_filter(connected_nodes: Pair) -> None:
    cpo, _ = connected_nodes
    for i in range(3):
        op_put(cpo, f"NL/CPO/LT-L{i}", location(f"LT-L{i}"))
    r = cpo.http.get(
        f"{cpo.url}/api/v1/locations?party=NL-CPO&own=true&limit=1",
        headers={"Authorization": f"Bearer {cpo.admin_token}"},
    )
    link = r.headers["Link"]
    assert link.startswith(f"<{cpo.url}/api/v1/locations?") and link.endswith('>; rel="next"')
    assert "party=NL-CPO" in link and "own=true" in link and "limit=1" in link
    seen: list[str] = []
    url: str | None = link[1 : link.index(">")]
    while url:
        r = cpo.http.get(url, headers={"Authorization": f"Bearer {cpo.admin_token}"})
        seen += [d["id"] for d in r.json()["data"]]
        nxt = r.headers.get("Link")
        url = nxt[1 : nxt.index(">")] if nxt else None
    assert {"LT-L1", "LT-L2"} <= set(seen)
