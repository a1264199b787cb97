"""Tokens end to end on the shared pair (NL-CPO, a CPO; DE-MSP, an eMSP registered with
it), on SQLite and PostgreSQL: the eMSP operator loads its tokens; the CPO side reads the
eMSP's Sender and asks for real-time authorization through the node's own client code
(``tokens/client.py``, run here with the token the CPO node holds for the eMSP); the eMSP
side writes the CPO's Receiver the same way. Routing headers are checked on requests and
answers, and what the nodes serve against the OCPI OpenAPI files. Object ids start with
``TKT`` so other modules' tests on the pair never collide with these."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from evroam.core.objects import ObjectKey
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.deviations import DeviationLog
from evroam.ocpi.v2_2_1.tokens import MODULE
from evroam.ocpi.v2_2_1.tokens.client import TokensClient, routing_headers
from tests.integration.fake_partner import token_out
from tests.ocpi_schema import schemas_missing_reason, validate_221
from tests.support import NodeProcess

R = TypeVar("R")
CPO, MSP = ("NL", "CPO"), ("DE", "MSP")
CLIENT = MODULE.client
assert isinstance(CLIENT, TokensClient)


def _run(fn: Callable[[OcpiClient], Awaitable[R]]) -> R:
    async def go() -> R:
        async with httpx.AsyncClient(timeout=30) as http:
            return await fn(OcpiClient(http, DeviationLog()))

    return asyncio.run(go())


def _partner_token(node: NodeProcess) -> str:
    listed = node.api("GET", "/partners", expect=200)
    token = token_out(node, int(listed[0]["id"]))
    assert token
    return token


def _token(uid: str, party: tuple[str, str] = MSP, **over: Any) -> dict[str, Any]:
    doc = {
        "country_code": party[0],
        "party_id": party[1],
        "uid": uid,
        "type": "RFID",
        "contract_id": f"{party[0]}-{party[1]}-{uid}",
        "issuer": "evroam tests",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-11-20T10:00:00Z",
    }
    doc.update(over)
    return doc


def _schema_errors(schema: str, instance: object) -> list[str]:
    reason = schemas_missing_reason()
    if reason:
        pytest.skip(reason)
    return validate_221("tokens", schema, instance)


def _routing_answered(r: httpx.Response, ours: tuple[str, str], theirs: tuple[str, str]) -> None:
    """The answer swaps the request's routing headers: FROM the node, TO the caller."""
    h = r.headers
    assert (h["ocpi-from-country-code"], h["ocpi-from-party-id"]) == ours, r.headers
    assert (h["ocpi-to-country-code"], h["ocpi-to-party-id"]) == theirs, r.headers


def test_cpo_reads_the_emsp_sender_following_link(
    connected_nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = connected_nodes
    uids = [f"TKT-LIST-{i}" for i in range(5)]
    for uid in uids:
        r = emsp.api("PUT", f"/tokens/DE/MSP/{uid}", _token(uid), expect=201)
        assert r["status_code"] == 1000
    emsp.api("PUT", f"/tokens/DE/MSP/{uids[0]}", _token(uids[0], issuer="again"), expect=200)
    url = f"{emsp.url}/ocpi/2.2.1/sender/tokens"
    token = _partner_token(cpo)

    async def read(ocpi: OcpiClient) -> list[list[dict[str, Any]]]:
        return [
            page
            async for page in CLIENT.pages(
                ocpi,
                url,
                token,
                partner="DE-MSP",
                routing=routing_headers(CPO, MSP),
                params={"limit": "2", "date_from": "2026-11-20T10:00:00Z"},
            )
        ]

    pages = _run(read)
    assert all(len(p) <= 2 for p in pages) and len(pages) >= 3  # Link followed to the end
    seen = {t["uid"]: t for p in pages for t in p}
    assert set(uids) <= set(seen)
    assert seen[uids[0]]["issuer"] == "again"

    # The raw answer: routing headers swapped, absolute Link, schema-valid Tokens.
    r = emsp.ocpi(
        "GET", f"{url}?limit=2", token, headers=routing_headers(CPO, MSP) | {"X-Request-ID": "x1"}
    )
    assert r.status_code == 200 and r.headers["x-limit"]
    assert r.headers["link"].startswith(f"<{url}?")
    _routing_answered(r, MSP, CPO)
    for item in r.json()["data"]:
        assert "null" not in json.dumps(item)
        assert _schema_errors("Token", item) == []


def test_real_time_authorization(connected_nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = connected_nodes
    emsp.api("PUT", "/tokens/DE/MSP/TKT-AUTH-OK", _token("TKT-AUTH-OK"), expect=201)
    emsp.api("PUT", "/tokens/DE/MSP/TKT-AUTH-BLK", _token("TKT-AUTH-BLK", valid=False), expect=201)
    app = _token("TKT-AUTH-OK", type="APP_USER", valid=False)
    emsp.api("PUT", "/tokens/DE/MSP/TKT-AUTH-OK?type=APP_USER", app, expect=201)
    url = f"{emsp.url}/ocpi/2.2.1/sender/tokens"
    token = _partner_token(cpo)
    loc = {"location_id": "TKT-LOC", "evse_uids": ["E1", "E2"]}

    async def ask(ocpi: OcpiClient) -> list[Any]:
        out = []
        for uid, kind, body in (
            ("TKT-AUTH-OK", "RFID", loc),
            ("tkt-auth-ok", "RFID", None),
            ("TKT-AUTH-OK", "APP_USER", loc),
            ("TKT-AUTH-BLK", "RFID", loc),
            ("TKT-AUTH-NONE", "RFID", loc),
        ):
            out.append(
                await CLIENT.authorize(
                    ocpi,
                    url,
                    token,
                    uid,
                    partner="DE-MSP",
                    routing=routing_headers(CPO, MSP),
                    token_type=kind,
                    location=body,
                )
            )
        return out

    ok, ok_no_loc, app_user, blocked, unknown = _run(ask)
    assert ok.allowed == "ALLOWED" and ok.token.uid == "TKT-AUTH-OK"
    assert ok.location is not None and ok.location.evse_uids == ["E1", "E2"]
    assert ok.authorization_reference and ok_no_loc.location is None
    assert ok.authorization_reference != ok_no_loc.authorization_reference
    assert app_user.allowed == "BLOCKED" and app_user.token.type == "APP_USER"
    assert blocked.allowed == "BLOCKED" and blocked.location is None
    assert unknown is None

    # On the wire: known-but-not-allowed is HTTP 200, unknown is HTTP 404 with 2004, and
    # both carry the routing headers.
    headers = routing_headers(CPO, MSP)
    r = emsp.ocpi("POST", f"{url}/TKT-AUTH-BLK/authorize", token, json=loc, headers=headers)
    assert r.status_code == 200 and r.json()["data"]["allowed"] == "BLOCKED"
    _routing_answered(r, MSP, CPO)
    assert _schema_errors("AuthorizationInfo", r.json()["data"]) == []
    r = emsp.ocpi("POST", f"{url}/TKT-AUTH-OK/authorize", token, json=loc, headers=headers)
    assert _schema_errors("AuthorizationInfo", r.json()["data"]) == []
    r = emsp.ocpi("POST", f"{url}/TKT-AUTH-NONE/authorize", token, headers=headers)
    assert r.status_code == 404 and r.json()["status_code"] == 2004
    _routing_answered(r, MSP, CPO)
    r = emsp.ocpi("POST", f"{url}/TKT-AUTH-OK/authorize?type=CARD", token, headers=headers)
    assert r.json()["status_code"] == 2001
    r = emsp.ocpi("POST", f"{url}/TKT-AUTH-OK/authorize", token, json=[loc], headers=headers)
    assert r.json()["status_code"] == 2001
    _routing_answered(r, MSP, CPO)


def test_emsp_writes_the_cpo_receiver(connected_nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = connected_nodes
    url = f"{cpo.url}/ocpi/2.2.1/receiver/tokens"
    token = _partner_token(emsp)
    routing = routing_headers(MSP, CPO)
    doc = _token("TKT-RCV-1", visual_number="V-1")
    key = ObjectKey("DE", "MSP", "TKT-RCV-1", "RFID")

    async def write(ocpi: OcpiClient) -> tuple[Any, ...]:
        put = await CLIENT.put(ocpi, url, token, doc, partner="NL-CPO", routing=routing)
        patch = await CLIENT.patch(
            ocpi,
            url,
            token,
            key,
            {"valid": False, "last_updated": "2026-11-21T10:00:00Z"},
            partner="NL-CPO",
            routing=routing,
        )
        got = await CLIENT.get(ocpi, url, token, key, partner="NL-CPO", routing=routing)
        app = await CLIENT.get(
            ocpi,
            url,
            token,
            ObjectKey("DE", "MSP", "TKT-RCV-1", "APP_USER"),
            partner="NL-CPO",
            routing=routing,
        )
        return put, patch, got, app

    put, patch, got, app = _run(write)
    assert put.status_code == 1000 and patch.status_code == 1000
    _routing_answered_headers(put.headers, CPO, MSP)
    assert got is not None and got["valid"] is False and got["visual_number"] == "V-1"
    assert got["last_updated"] == "2026-11-21T10:00:00Z"
    assert app is None  # the same uid with another type is another token

    # The CPO's operator sees what the partner sent, one and as a page.
    shown = cpo.api("GET", "/tokens/DE/MSP/TKT-RCV-1", expect=200)
    assert shown["data"]["valid"] is False
    listed = cpo.api("GET", "/tokens?party=DE-MSP&own=false&limit=1000", expect=200)
    assert "TKT-RCV-1" in {t["uid"] for t in listed["data"]}
    r = cpo.ocpi("GET", f"{url}/DE/MSP/TKT-RCV-1", token, headers=routing)
    _routing_answered(r, CPO, MSP)
    assert _schema_errors("Token", r.json()["data"]) == []


def _routing_answered_headers(h: httpx.Headers, ours: tuple[str, str], theirs: Any) -> None:
    assert (h["ocpi-from-country-code"], h["ocpi-from-party-id"]) == ours
    assert (h["ocpi-to-country-code"], h["ocpi-to-party-id"]) == theirs


def test_receiver_bad_input_changes_nothing(
    connected_nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = connected_nodes
    url = f"{cpo.url}/ocpi/2.2.1/receiver/tokens"
    token = _partner_token(emsp)
    h = routing_headers(MSP, CPO)
    base = _token("TKT-BAD-1", last_updated="2026-11-22T10:00:00Z")
    r = cpo.ocpi("PUT", f"{url}/DE/MSP/TKT-BAD-1", token, json=base, headers=h)
    assert r.status_code == 201 and r.json()["status_code"] == 1000

    def status(method: str, path: str, **kw: Any) -> tuple[int, int]:
        r = cpo.ocpi(method, f"{url}{path}", token, headers=h | kw.pop("headers", {}), **kw)
        _routing_answered(r, CPO, MSP)
        return r.status_code, r.json()["status_code"]

    wrong_party = _token("TKT-BAD-1", party=CPO)
    cases = {
        "wrong party in the URL": status("PUT", "/NL/CPO/TKT-BAD-1", json=wrong_party),
        "URL party differs from body": status("PUT", "/DE/MSP/TKT-BAD-1", json=wrong_party),
        "URL id differs from body": status("PUT", "/DE/MSP/TKT-BAD-X", json=base),
        "URL type differs from body": status(
            "PUT", "/DE/MSP/TKT-BAD-1?type=APP_USER", json=base | {"issuer": "changed"}
        ),
        "patch without last_updated": status("PATCH", "/DE/MSP/TKT-BAD-1", json={"valid": False}),
        "invalid enum": status("PUT", "/DE/MSP/TKT-BAD-1", json=base | {"whitelist": "MAYBE"}),
        "string too long": status("PUT", "/DE/MSP/TKT-BAD-1", json=base | {"issuer": "x" * 65}),
        "wrong type": status("PUT", "/DE/MSP/TKT-BAD-1", json=base | {"valid": "false"}),
        "list for an object": status("PUT", "/DE/MSP/TKT-BAD-1", json=[base]),
        "patch of an invalid value": status(
            "PATCH",
            "/DE/MSP/TKT-BAD-1",
            json={"whitelist": "NO", "last_updated": "2026-11-23T10:00:00Z"},
        ),
    }
    for name, got in cases.items():
        assert got == (200, 2001), name
    r = cpo.ocpi(
        "PUT",
        f"{url}/DE/MSP/TKT-BAD-1",
        token,
        content=b'{"uid": ',
        headers=h | {"Content-Type": "application/json"},
    )
    assert r.status_code == 400
    # Older than stored: accepted (1000) and ignored.
    older = {"valid": False, "last_updated": "2026-11-01T10:00:00Z"}
    assert status("PATCH", "/DE/MSP/TKT-BAD-1", json=older) == (200, 1000)
    assert status("PUT", "/DE/MSP/TKT-BAD-1", json=base | older) == (200, 1000)
    # An unknown token's PATCH is HTTP 404.
    fresh = {"valid": False, "last_updated": "2026-11-23T10:00:00Z"}
    assert status("PATCH", "/DE/MSP/TKT-BAD-404", json=fresh)[0] == 404

    stored = cpo.api("GET", "/tokens/DE/MSP/TKT-BAD-1", expect=200)["data"]
    assert stored == base  # nothing above changed it
    assert cpo.api("GET", "/tokens/DE/MSP/TKT-BAD-1?type=APP_USER")["status_code"] == 2000


def test_operator_api_own_tokens(connected_nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = connected_nodes
    # A write for a party that is not the node's own is refused.
    r = emsp.http.put(
        f"{emsp.url}/api/v1/tokens/NL/CPO/TKT-OP-1",
        json=_token("TKT-OP-1", party=CPO),
        headers={"Authorization": f"Bearer {emsp.admin_token}"},
    )
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    assert "not one of this node's EMSP parties" in r.json()["status_message"]
    emsp.api("PUT", "/tokens/DE/MSP/TKT-OP-1", _token("TKT-OP-1"), expect=201)
    r = emsp.api("PATCH", "/tokens/DE/MSP/TKT-OP-1", {"valid": False}, expect=400)
    r = emsp.api(
        "PATCH",
        "/tokens/DE/MSP/TKT-OP-1",
        {"whitelist": "NEVER", "last_updated": "2026-11-24T00:00:00Z"},
        expect=200,
    )
    assert r["status_code"] == 1000
    shown = emsp.api("GET", "/tokens/DE/MSP/tkt-op-1", expect=200)["data"]
    assert shown["whitelist"] == "NEVER" and shown["uid"] == "TKT-OP-1"
    r = emsp.api("PUT", "/tokens/DE/MSP/TKT-OP-1", {"uid": 1}, expect=400)
    assert r["status_code"] == 2001
    emsp.api("GET", "/tokens/DE/MSP/TKT-OP-404", expect=404)
    emsp.api(
        "PATCH", "/tokens/DE/MSP/TKT-OP-404", {"last_updated": "2026-11-24T00:00:00Z"}, expect=404
    )
    page = emsp.api("GET", "/tokens?party=DE-MSP&own=true&limit=1", expect=200)
    assert len(page["data"]) == 1
