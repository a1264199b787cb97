"""EVSE statuses through a real hub over mutual TLS: the push rules of each ActionType,
the three pulls and the shared path, and every refusal with nothing stored.

What is stored is read back through an EMP's pull by operator (a different caller and
code path than the push), never from the hub's internals. Each test works on its own
operator, so the module's shared hub needs no reset.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.oicp_hub.support import HubProcess

EMP = "DE-XYZ"


def push_path(operator: str) -> str:
    return f"/evsepush/v21/operators/{operator}/status-records"


def pull_path(provider: str = EMP, suffix: str = "") -> str:
    return f"/evsepull/v21/providers/{provider}/status-records{suffix}"


def push_body(operator: str, action: str, records: dict[str, str]) -> dict[str, Any]:
    return {
        "ActionType": action,
        "OperatorEvseStatus": {
            "OperatorID": operator,
            "EvseStatusRecord": [{"EvseID": e, "EvseStatus": s} for e, s in records.items()],
        },
    }


class Cpo:
    """One operator of the shared hub, with its own client certificate."""

    def __init__(self, hub: HubProcess, operator_id: str, **fields: Any) -> None:
        self.hub = hub
        self.id = operator_id
        hub.add_partner(operator_id, "CPO", **fields)
        self.http = hub.client(operator_id)

    def push(self, action: str, records: dict[str, str], **kw: Any) -> httpx.Response:
        body = kw.pop("body", None) or push_body(kw.pop("body_id", self.id), action, records)
        path = push_path(kw.pop("path_id", self.id))
        return self.http.post(self.hub.url + path, json=body, **kw)

    def ok(self, action: str, records: dict[str, str]) -> None:
        r = self.push(action, records)
        assert (r.status_code, r.json()) == (
            200,
            {"Result": True, "StatusCode": {"Code": "000", "Description": "Success"}},
        ), r.text


@pytest.fixture(scope="module")
def emp(hub: HubProcess) -> httpx.Client:
    hub.add_partner(EMP, "EMP", name="XYZ mobility")
    return hub.client(EMP)


def stored(hub: HubProcess, emp: httpx.Client, operator: str) -> dict[str, str]:
    """The operator's statuses as an EMP pulls them."""
    r = emp.post(
        hub.url + pull_path(suffix="-by-operator-id"),
        json={"ProviderID": EMP, "OperatorID": [operator]},
    )
    assert r.status_code == 200, r.text
    blocks = r.json()["EvseStatuses"]["OperatorEvseStatus"]
    return {
        rec["EvseID"]: rec["EvseStatus"] for block in blocks for rec in block["EvseStatusRecord"]
    }


def refused(r: httpx.Response, http: int, code: str) -> str:
    assert r.status_code == http, r.text
    body = r.json()
    assert body["Result"] is False and body["StatusCode"]["Code"] == code, body
    return str(body["StatusCode"].get("AdditionalInfo", ""))


@pytest.fixture(scope="module")
def counter() -> Iterator[Iterator[int]]:
    yield iter(range(100, 999))


@pytest.fixture
def cpo(hub: HubProcess, counter: Iterator[int]) -> Cpo:
    """A fresh operator for each test (DE*nnn)."""
    return Cpo(hub, f"DE*{next(counter)}")


# --------------------------------------------------------------------------- the push rules


def test_full_load_replaces_the_operators_whole_set(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo
) -> None:
    e = f"{cpo.id}*E"
    cpo.ok("fullLoad", {e + "1": "Available", e + "2": "Occupied"})
    cpo.ok("fullLoad", {e + "2": "Reserved", e + "3": "Available"})
    assert stored(hub, emp, cpo.id) == {e + "2": "Reserved", e + "3": "Available"}
    cpo.ok("fullLoad", {})
    assert stored(hub, emp, cpo.id) == {}


def test_insert_is_refused_whole_when_one_evse_exists(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo
) -> None:
    e = f"{cpo.id}*E"
    cpo.ok("fullLoad", {e + "1": "Available"})
    info = refused(cpo.push("insert", {e + "5": "Occupied", e + "1": "Occupied"}), 200, "022")
    assert e + "1" in info
    assert stored(hub, emp, cpo.id) == {e + "1": "Available"}
    cpo.ok("insert", {e + "5": "Occupied", e + "6": "Unknown"})
    assert stored(hub, emp, cpo.id) == {
        e + "1": "Available",
        e + "5": "Occupied",
        e + "6": "Unknown",
    }


def test_update_is_refused_whole_when_one_evse_is_unknown(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo
) -> None:
    e = f"{cpo.id}*E"
    cpo.ok("fullLoad", {e + "1": "Available", e + "2": "Available"})
    info = refused(cpo.push("update", {e + "1": "Occupied", e + "9": "Occupied"}), 200, "022")
    assert e + "9" in info
    assert stored(hub, emp, cpo.id) == {e + "1": "Available", e + "2": "Available"}
    cpo.ok("update", {e + "1": "OutOfService"})
    assert stored(hub, emp, cpo.id) == {e + "1": "OutOfService", e + "2": "Available"}


def test_delete_removes_only_the_listed_evses(hub: HubProcess, emp: httpx.Client, cpo: Cpo) -> None:
    e = f"{cpo.id}*E"
    cpo.ok("fullLoad", {e + "1": "Available", e + "2": "Occupied", e + "3": "Reserved"})
    cpo.ok("delete", {e + "1": "Available", e + "3": "Available"})
    assert stored(hub, emp, cpo.id) == {e + "2": "Occupied"}


def test_evse_ids_compare_in_canonical_form(hub: HubProcess, emp: httpx.Client, cpo: Cpo) -> None:
    compact = cpo.id.replace("*", "")
    cpo.ok("fullLoad", {f"{cpo.id}*E1": "Available"})
    # The same EVSE written without separators and in lower case is the same EVSE.
    cpo.ok("update", {f"{compact.lower()}E1": "Occupied"})
    assert stored(hub, emp, cpo.id) == {f"{compact.lower()}E1": "Occupied"}


def test_evse_of_another_operator_is_018_with_nothing_stored(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo
) -> None:
    cpo.ok("fullLoad", {f"{cpo.id}*E1": "Available"})
    r = cpo.push("fullLoad", {f"{cpo.id}*E2": "Occupied", "DE*OTH*E1": "Occupied"})
    assert "DE*OTH*E1" in refused(r, 200, "018")
    assert stored(hub, emp, cpo.id) == {f"{cpo.id}*E1": "Available"}
    assert stored(hub, emp, "DE*OTH") == {}


def test_one_evse_twice_in_a_push_is_022(hub: HubProcess, emp: httpx.Client, cpo: Cpo) -> None:
    body = push_body(cpo.id, "fullLoad", {})
    body["OperatorEvseStatus"]["EvseStatusRecord"] = [
        {"EvseID": f"{cpo.id}*E1", "EvseStatus": "Available"},
        {"EvseID": f"{cpo.id.replace('*', '')}E1", "EvseStatus": "Occupied"},
    ]
    refused(cpo.push("fullLoad", {}, body=body), 200, "022")
    assert stored(hub, emp, cpo.id) == {}


# --------------------------------------------------------------------------- who may act


def test_certificate_of_another_operator_is_017_with_nothing_stored(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo, counter: Iterator[int]
) -> None:
    other = Cpo(hub, f"DE*{next(counter)}")
    records = {f"{cpo.id}*E1": "Available"}
    # Path and body name cpo, the certificate is other's.
    r = other.push("fullLoad", records, path_id=cpo.id, body_id=cpo.id)
    assert cpo.id in refused(r, 200, "017")
    # Path its own, body someone else's.
    refused(other.push("fullLoad", records, body_id=cpo.id), 200, "017")
    # Path someone else's, body its own.
    refused(other.push("fullLoad", {}, path_id=cpo.id), 200, "017")
    assert stored(hub, emp, cpo.id) == {}
    assert stored(hub, emp, other.id) == {}


def test_emp_acting_as_an_operator_it_is_not_is_017(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo
) -> None:
    # DE*XYZ is the EMP's own ID in operator spelling, but it holds no CPO role.
    r = emp.post(
        hub.url + push_path("DE*XYZ"),
        json=push_body("DE*XYZ", "fullLoad", {"DE*XYZ*E1": "Available"}),
    )
    refused(r, 200, "017")
    r = emp.post(hub.url + push_path(cpo.id), json=push_body(cpo.id, "fullLoad", {}))
    refused(r, 200, "017")
    assert stored(hub, emp, "DE*XYZ") == {}
    # And an EMP pulling as another provider.
    refused(emp.post(hub.url + pull_path("DE-OTH"), json={"ProviderID": "DE-OTH"}), 200, "017")
    refused(emp.post(hub.url + pull_path(), json={"ProviderID": "DE-OTH"}), 200, "017")


def test_partner_with_both_roles_pushes_and_pulls_under_one_id(hub: HubProcess) -> None:
    hub.add_partner("DE*BTH", "CPO", "EMP")
    both = hub.client("DE*BTH")
    r = both.post(
        hub.url + push_path("DE*BTH"),
        json=push_body("DE*BTH", "fullLoad", {"DE*BTH*E1": "Available"}),
    )
    assert r.json()["Result"] is True, r.text
    r = both.post(
        hub.url + pull_path("DE*BTH", "-by-id"),
        json={"ProviderID": "DEBTH", "EvseID": ["DE*BTH*E1"]},
    )
    assert r.json()["EVSEStatusRecords"]["EvseStatusRecord"] == [
        {"EvseID": "DE*BTH*E1", "EvseStatus": "Available"}
    ]


def test_certificate_naming_no_partner_is_403_017(hub: HubProcess, emp: httpx.Client) -> None:
    stranger = hub.client("DE*UNK")
    r = stranger.post(
        hub.url + push_path("DE*UNK"),
        json=push_body("DE*UNK", "fullLoad", {"DE*UNK*E1": "Available"}),
    )
    refused(r, 403, "017")
    assert stored(hub, emp, "DE*UNK") == {}


def _handshake_refused(client: httpx.Client, url: str) -> None:
    with pytest.raises(
        (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, ssl.SSLError)
    ):
        client.post(url, json={"ProviderID": EMP})


def test_no_certificate_and_a_foreign_ca_certificate_fail_the_handshake(
    hub: HubProcess, emp: httpx.Client
) -> None:
    url = hub.url + pull_path()
    _handshake_refused(hub.client(None), url)
    _handshake_refused(hub.client(hub.pki.foreign_cert(EMP)), url)
    assert emp.post(url, json={"ProviderID": EMP}).status_code == 200


def test_address_outside_the_allowlist_is_403_017_until_it_is_allowed(
    hub: HubProcess, emp: httpx.Client, counter: Iterator[int]
) -> None:
    cpo = Cpo(hub, f"DE*{next(counter)}", allowed_networks=["10.0.0.0/8", "2001:db8::/32"])
    records = {f"{cpo.id}*E1": "Available"}
    assert "127.0.0.1" in refused(cpo.push("fullLoad", records), 403, "017")
    assert stored(hub, emp, cpo.id) == {}
    hub.api(
        "PATCH",
        f"/oicp/partners/{cpo.id}",
        {"allowed_networks": ["10.0.0.0/8", "127.0.0.1/32"]},
        expect=200,
    )
    cpo.ok("fullLoad", records)
    assert stored(hub, emp, cpo.id) == records


def test_a_narrowed_allowlist_or_a_removed_partner_is_refused_at_once(
    hub: HubProcess, emp: httpx.Client, counter: Iterator[int]
) -> None:
    """The hub remembers the partner of a certificate (CallerDirectory): a change made
    through the operator API must apply to the very next request, not after the cache's
    time-to-live."""
    cpo = Cpo(hub, f"DE*{next(counter)}")
    records = {f"{cpo.id}*E1": "Available"}
    cpo.ok("fullLoad", records)  # found and remembered
    hub.api("PATCH", f"/oicp/partners/{cpo.id}", {"allowed_networks": ["10.0.0.0/8"]}, expect=200)
    assert "127.0.0.1" in refused(cpo.push("fullLoad", records), 403, "017")
    hub.api("PATCH", f"/oicp/partners/{cpo.id}", {"allowed_networks": []}, expect=200)
    cpo.ok("fullLoad", records)
    hub.api("DELETE", f"/oicp/partners/{cpo.id}", None, expect=204)
    refused(cpo.push("fullLoad", records), 403, "017")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"ActionType": "fullLoad", ', "not JSON"),
        (b"[1, 2]", "object"),
        (
            b'{"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": "DE*CXX", '
            b'"EvseStatusRecord": "DE*CXX*E1"}}',
            "EvseStatusRecord",
        ),
        (
            b'{"ActionType": "replaceAll", "OperatorEvseStatus": {"OperatorID": "DE*CXX", '
            b'"EvseStatusRecord": []}}',
            "ActionType",
        ),
        (
            b'{"ActionType": "insert", "OperatorEvseStatus": {"OperatorID": "DE*CXX", '
            b'"EvseStatusRecord": [{"EvseID": "DE*CXX*X1", "EvseStatus": "Available"}]}}',
            "EvseID",
        ),
        (
            b'{"ActionType": "insert", "OperatorEvseStatus": {"OperatorID": "DE*CXX", '
            b'"EvseStatusRecord": [{"EvseID": "DE*CXX*E1", "EvseStatus": "Free"}]}}',
            "EvseStatus",
        ),
        (
            b'{"ActionType": null, "OperatorEvseStatus": {"OperatorID": "DE*CXX", '
            b'"EvseStatusRecord": []}}',
            "ActionType",
        ),
    ],
    ids=["malformed", "array", "wrong-type", "action", "evse-id", "status", "null-action"],
)
def test_bad_push_bodies_are_400_022_with_nothing_stored(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo, content: bytes, why: str
) -> None:
    cpo.ok("fullLoad", {f"{cpo.id}*E7": "Available"})
    body = content.replace(b"DE*CXX", cpo.id.encode())
    r = cpo.http.post(
        hub.url + push_path(cpo.id), content=body, headers={"Content-Type": "application/json"}
    )
    assert why in refused(r, 400, "022")
    assert stored(hub, emp, cpo.id) == {f"{cpo.id}*E7": "Available"}


def test_unknown_path_and_wrong_method(hub: HubProcess, emp: httpx.Client) -> None:
    refused(emp.post(hub.url + "/evsepull/v99/whatever", json={}), 404, "022")
    refused(emp.get(hub.url + pull_path()), 405, "022")


# --------------------------------------------------------------------------- pulls


@pytest.fixture(scope="module")
def pulled(hub: HubProcess, emp: httpx.Client) -> str:
    """An operator with a known set, for the pull tests."""
    cpo = Cpo(hub, "DE*PUL", name="Pull & <Co>")
    cpo.ok(
        "fullLoad",
        {"DE*PUL*E1": "Available", "DE*PUL*E2": "Occupied", "DE*PUL*E3": "Available"},
    )
    return cpo.id


def test_pull_by_id_answers_unknown_ids_evse_not_found(
    hub: HubProcess, emp: httpx.Client, pulled: str
) -> None:
    body = {"ProviderID": EMP, "EvseID": ["de*pul*E2", "DE*PUL*E9", "DE*PUL*E1"]}
    for path in (pull_path(suffix="-by-id"), pull_path()):
        r = emp.post(hub.url + path, json=body)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "EVSEStatusRecords": {
                "EvseStatusRecord": [
                    {"EvseID": "DE*PUL*E2", "EvseStatus": "Occupied"},
                    {"EvseID": "DE*PUL*E9", "EvseStatus": "EvseNotFound"},
                    {"EvseID": "DE*PUL*E1", "EvseStatus": "Available"},
                ]
            },
            "StatusCode": {"Code": "000", "Description": "Success"},
        }


def test_pull_by_id_takes_at_most_100_ids(hub: HubProcess, emp: httpx.Client) -> None:
    body = {"ProviderID": EMP, "EvseID": [f"DE*PUL*E{i}" for i in range(101)]}
    assert "100" in refused(emp.post(hub.url + pull_path(suffix="-by-id"), json=body), 400, "022")


def test_pull_by_operator_on_both_paths(hub: HubProcess, emp: httpx.Client, pulled: str) -> None:
    body = {"ProviderID": EMP, "OperatorID": ["DEPUL", "DE*NON"]}
    for path in (pull_path(suffix="-by-operator-id"), pull_path()):
        r = emp.post(hub.url + path, json=body)
        assert r.json()["EvseStatuses"]["OperatorEvseStatus"] == [
            {
                "OperatorID": "DE*PUL",
                "OperatorName": "Pull & <Co>",
                "EvseStatusRecord": [
                    {"EvseID": "DE*PUL*E1", "EvseStatus": "Available"},
                    {"EvseID": "DE*PUL*E2", "EvseStatus": "Occupied"},
                    {"EvseID": "DE*PUL*E3", "EvseStatus": "Available"},
                ],
            }
        ]


@pytest.mark.parametrize("spelling", ["EVSEStatus", "EvseStatus"])
def test_plain_pull_filters_on_one_status(
    hub: HubProcess, emp: httpx.Client, pulled: str, spelling: str
) -> None:
    r = emp.post(hub.url + pull_path(), json={"ProviderID": EMP, spelling: "Occupied"})
    blocks = r.json()["EvseStatuses"]["OperatorEvseStatus"]
    ours = [b for b in blocks if b["OperatorID"] == pulled]
    assert ours[0]["EvseStatusRecord"] == [{"EvseID": "DE*PUL*E2", "EvseStatus": "Occupied"}]
    statuses = {rec["EvseStatus"] for b in blocks for rec in b["EvseStatusRecord"]}
    assert statuses == {"Occupied"}


def test_plain_pull_without_filter_lists_every_operator(
    hub: HubProcess, emp: httpx.Client, pulled: str
) -> None:
    r = emp.post(hub.url + pull_path(), json={"ProviderID": EMP, "EVSEStatus": None})
    blocks = {b["OperatorID"]: b for b in r.json()["EvseStatuses"]["OperatorEvseStatus"]}
    assert len(blocks[pulled]["EvseStatusRecord"]) == 3


def test_search_center_without_evse_data_finds_nothing(
    hub: HubProcess, emp: httpx.Client, cpo: Cpo
) -> None:
    """SearchCenter is answered from pushed EVSE data: an EVSE with a status but no
    data has no known position and is left out, never taken for one nearby."""
    cpo.ok("fullLoad", {f"{cpo.id}*E1": "Available"})
    body = {
        "ProviderID": EMP,
        "SearchCenter": {"GeoCoordinates": {"Google": {"Coordinates": "52.5 13.4"}}, "Radius": 5},
    }
    r = emp.post(hub.url + pull_path(), json=body)
    assert r.status_code == 200, r.text
    groups = r.json()["EvseStatuses"]["OperatorEvseStatus"]
    assert all(g["OperatorID"] != cpo.id for g in groups)


def test_combined_path_refuses_a_body_with_both_filters(hub: HubProcess, emp: httpx.Client) -> None:
    body = {"ProviderID": EMP, "EvseID": ["DE*PUL*E1"], "OperatorID": ["DE*PUL"]}
    refused(emp.post(hub.url + pull_path(), json=body), 400, "022")
