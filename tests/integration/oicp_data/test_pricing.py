"""Dynamic pricing through a real hub over mutual TLS, on SQLite and PostgreSQL: pricing
products per offer (one EMP or ``*``) and EVSE pricing with each ActionType, 018/022/017
refusals that leave nothing stored, pulls that answer only what is offered to the
caller or to all, and LastCall."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.integration.oicp_data.support import OK, Operator, Provider, refused
from tests.integration.oicp_hub.support import HubProcess


@pytest.fixture(scope="module")
def emp(hub: HubProcess) -> Provider:
    return Provider(hub, "DE-EMP")


@pytest.fixture(scope="module")
def rival(hub: HubProcess) -> Provider:
    return Provider(hub, "DE-RIV")


@pytest.fixture(scope="module")
def counter() -> Iterator[Iterator[int]]:
    yield iter(range(100, 999))


@pytest.fixture
def cpo(hub: HubProcess, counter: Iterator[int]) -> Operator:
    return Operator(hub, f"DE*{next(counter)}")


def product(pid: str, price: float = 0.39) -> dict[str, Any]:
    return {
        "ProductID": pid,
        "ReferenceUnit": "KILOWATT_HOUR",
        "ProductPriceCurrency": "EUR",
        "PricePerReferenceUnit": price,
        "MaximumProductChargingPower": 22,
        "IsValid24hours": True,
        "ProductAvailabilityTimes": [],
    }


def push_products(
    cpo: Operator, action: str, provider: str, products: list[dict[str, Any]]
) -> httpx.Response:
    body = {
        "ActionType": action,
        "PricingProductData": {
            "OperatorID": cpo.id,
            "OperatorName": "Op",
            "ProviderID": provider,
            "PricingDefaultPrice": 0.5,
            "PricingDefaultPriceCurrency": "EUR",
            "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
            "PricingProductDataRecords": products,
        },
    }
    path = f"/dynamicpricing/v10/operators/{cpo.id}/pricing-products"
    return cpo.http.post(cpo.hub.url + path, json=body)


def push_evse_pricing(
    cpo: Operator, action: str, items: list[tuple[str, str, list[str]]]
) -> httpx.Response:
    body = {
        "ActionType": action,
        "EVSEPricing": [
            {"EvseID": e, "ProviderID": p, "EvseIDProductList": products}
            for e, p, products in items
        ],
    }
    path = f"/dynamicpricing/v10/operators/{cpo.id}/evse-pricing"
    return cpo.http.post(cpo.hub.url + path, json=body)


def pull_products(emp: Provider, cpo: Operator, **body: Any) -> dict[str, list[str]]:
    path = f"/dynamicpricing/v10/providers/{emp.id}/pricing-products"
    r = emp.http.post(emp.hub.url + path, json={"OperatorIDs": [cpo.id], **body})
    assert r.status_code == 200, r.text
    return {
        offer["ProviderID"]: [p["ProductID"] for p in offer["PricingProductDataRecords"]]
        for offer in r.json()["PricingProductData"]
    }


def pull_evse_pricing(emp: Provider, cpo: Operator, **body: Any) -> set[tuple[str, str, str]]:
    path = f"/dynamicpricing/v10/providers/{emp.id}/evse-pricing"
    payload = {"ProviderID": emp.id, "OperatorIDs": [cpo.id], **body}
    r = emp.http.post(emp.hub.url + path, json=payload)
    assert r.status_code == 200, r.text
    return {
        (e["EvseID"], e["ProviderID"], ",".join(e["EvseIDProductList"]))
        for block in r.json()["EVSEPricing"]
        for e in block["EVSEPricing"]
    }


def ok(r: httpx.Response) -> None:
    assert (r.status_code, r.json()) == (200, OK), r.text


def test_products_per_offer_with_each_action_and_visibility(
    emp: Provider, rival: Provider, cpo: Operator
) -> None:
    ok(push_products(cpo, "fullLoad", "*", [product("AC1"), product("DC")]))
    ok(push_products(cpo, "fullLoad", emp.id, [product("VIP")]))
    # A full load for one offer leaves the other alone.
    assert pull_products(emp, cpo) == {"*": ["AC1", "DC"], emp.id: ["VIP"]}
    assert pull_products(rival, cpo) == {"*": ["AC1", "DC"]}
    ok(push_products(cpo, "insert", "*", [product("HPC")]))
    ok(push_products(cpo, "update", "*", [product("AC1", 0.29)]))
    ok(push_products(cpo, "delete", "*", [product("DC")]))
    assert pull_products(rival, cpo) == {"*": ["AC1", "HPC"]}


def test_product_refusals_leave_nothing_stored(emp: Provider, cpo: Operator) -> None:
    ok(push_products(cpo, "fullLoad", "*", [product("AC1")]))
    assert "AC1" in refused(push_products(cpo, "insert", "*", [product("AC1")]), 200, "022")
    assert "XX" in refused(push_products(cpo, "update", "*", [product("XX")]), 200, "022")
    twice = [product("N1"), product("N1")]
    refused(push_products(cpo, "fullLoad", "*", twice), 200, "022")
    bad = product("AC3")
    bad["PricePerReferenceUnit"] = "cheap"
    refused(push_products(cpo, "fullLoad", "*", [bad]), 400, "022")
    assert pull_products(emp, cpo) == {"*": ["AC1"]}


def test_evse_pricing_with_each_action_and_visibility(
    emp: Provider, rival: Provider, cpo: Operator
) -> None:
    e1, e2 = cpo.evse(1), cpo.evse(2)
    ok(push_evse_pricing(cpo, "fullLoad", [(e1, "*", ["AC1"]), (e1, emp.id, ["VIP", "AC1"])]))
    assert pull_evse_pricing(emp, cpo) == {(e1, "*", "AC1"), (e1, emp.id, "VIP,AC1")}
    assert pull_evse_pricing(rival, cpo) == {(e1, "*", "AC1")}
    ok(push_evse_pricing(cpo, "insert", [(e2, "*", ["DC"])]))
    ok(push_evse_pricing(cpo, "update", [(e2, "*", ["HPC"])]))
    ok(push_evse_pricing(cpo, "delete", [(e1, emp.id, ["VIP"])]))
    assert pull_evse_pricing(emp, cpo) == {(e1, "*", "AC1"), (e2, "*", "HPC")}
    ok(push_evse_pricing(cpo, "fullLoad", [(e2, "*", ["DC"])]))
    assert pull_evse_pricing(emp, cpo) == {(e2, "*", "DC")}


def test_evse_pricing_refusals_leave_nothing_stored(emp: Provider, cpo: Operator) -> None:
    e1 = cpo.evse(1)
    ok(push_evse_pricing(cpo, "fullLoad", [(e1, "*", ["AC1"])]))
    before = pull_evse_pricing(emp, cpo)
    info = refused(push_evse_pricing(cpo, "fullLoad", [("DE*ZZZ*E1", "*", ["AC1"])]), 200, "018")
    assert "DE*ZZZ*E1" in info
    refused(push_evse_pricing(cpo, "insert", [(e1, "*", ["DC"])]), 200, "022")
    refused(push_evse_pricing(cpo, "update", [(cpo.evse(7), "*", ["DC"])]), 200, "022")
    refused(push_evse_pricing(cpo, "fullLoad", [(e1, "*", ["A"]), (e1, "*", ["B"])]), 200, "022")
    refused(push_evse_pricing(cpo, "fullLoad", []), 400, "022")  # one to n items
    assert pull_evse_pricing(emp, cpo) == before


def test_pulls_with_another_providers_id_are_017(emp: Provider, cpo: Operator) -> None:
    path = f"/dynamicpricing/v10/providers/{emp.id}/evse-pricing"
    body = {"ProviderID": "DE-RIV", "OperatorIDs": [cpo.id]}
    refused(emp.http.post(emp.hub.url + path, json=body), 200, "017")
    path = "/dynamicpricing/v10/providers/DE-RIV/pricing-products"
    refused(emp.http.post(emp.hub.url + path, json={"OperatorIDs": [cpo.id]}), 200, "017")


def test_last_call_answers_changed_offers_whole_and_changed_evse_pricing(
    emp: Provider, cpo: Operator
) -> None:
    e1, e2 = cpo.evse(1), cpo.evse(2)
    ok(push_products(cpo, "fullLoad", "*", [product("AC1"), product("DC")]))
    ok(push_products(cpo, "fullLoad", emp.id, [product("VIP")]))
    ok(push_evse_pricing(cpo, "fullLoad", [(e1, "*", ["AC1"]), (e2, "*", ["DC"])]))
    time.sleep(0.05)
    since = datetime.now(UTC).isoformat(timespec="milliseconds")
    time.sleep(0.05)
    ok(push_products(cpo, "delete", emp.id, [product("VIP")]))
    ok(push_evse_pricing(cpo, "update", [(e2, "*", ["HPC"])]))
    assert pull_products(emp, cpo, LastCall=since) == {emp.id: []}
    assert pull_evse_pricing(emp, cpo, LastCall=since) == {(e2, "*", "HPC")}
