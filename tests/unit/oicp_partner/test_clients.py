"""Every client method: the operation's path from the table, the body in the wire
spelling, the answer parsed into its model; refusals and non-answers raised."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from evroam.oicp.v2_3.errors import OicpPartnerError
from evroam.oicp.v2_3.models.authorization import (
    AuthorizationStartResponse,
    AuthorizeStartRequest,
    AuthorizeStopRequest,
)
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord
from evroam.oicp.v2_3.models.common import Acknowledgement, ActionType
from evroam.oicp.v2_3.models.evse import EvseDataRecord
from evroam.oicp.v2_3.models.evsedata import PullEvseDataRequest
from evroam.oicp.v2_3.models.identification import Identification
from evroam.oicp.v2_3.models.notifications import ChargingNotification
from evroam.oicp.v2_3.models.pricing import EvsePricing, PricingProductData
from evroam.oicp.v2_3.partner.client import NoAnswer, NotAnOicpAnswer, base_url, masked
from evroam.oicp.v2_3.partner.cpo import CpoClient
from evroam.oicp.v2_3.partner.emp import EmpClient
from tests.unit.oicp.records import complete_record
from tests.unit.oicp_partner.stub import OK, StubHub

OP = "DE*EVR"
EMP = "DE-8EO"
EVSE = "DE*EVR*E0001*1"
EVCO = "DE-8EO-CAet5e4XY-3"
SESSION = "b2688855-7f00-0002-6d8e-48d883f6abb6"
URL = "https://hub.example/api/oicp"

SUCCESS = {"Code": "000", "Description": "Success"}
PAGE = {
    "content": [],
    "number": 0,
    "size": 2000,
    "totalElements": 0,
    "totalPages": 0,
    "numberOfElements": 0,
    "first": True,
    "last": True,
    "StatusCode": SUCCESS,
}
STATUSES = {"EvseStatuses": {"OperatorEvseStatus": []}, "StatusCode": SUCCESS}
CDR = {
    "SessionID": SESSION,
    "EvseID": EVSE,
    "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
    "ChargingStart": "2026-11-20T10:00:00+01:00",
    "ChargingEnd": "2026-11-20T11:00:00+01:00",
    "SessionStart": "2026-11-20T09:59:00+01:00",
    "SessionEnd": "2026-11-20T11:01:00+01:00",
    "ConsumedEnergy": 11.5,
}
RFID = {"RFIDMifareFamilyIdentification": {"UID": "1234ABCD"}}
PRODUCTS = {
    "OperatorID": OP,
    "ProviderID": "*",
    "PricingDefaultPrice": 0.3,
    "PricingDefaultPriceCurrency": "EUR",
    "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
    "PricingProductDataRecords": [],
}

Call = Callable[[Any], Awaitable[Any]]


async def _all_pages(pages: Any) -> list[Any]:
    return [p async for p in pages]


CPO_CASES: list[tuple[str, Call, str, dict[str, Any], Any]] = [
    (
        "push_evse_data",
        lambda c: c.push_evse_data([EvseDataRecord.model_validate(complete_record())]),
        f"/api/oicp/evsepush/v23/operators/{OP}/data-records",
        {
            "ActionType": "fullLoad",
            "OperatorEvseData": {
                "OperatorID": OP,
                "OperatorName": "Evroam",
                "EvseDataRecord": [complete_record()],
            },
        },
        OK,
    ),
    (
        "push_evse_status",
        lambda c: c.push_evse_status({EVSE: "Occupied"}),
        f"/api/oicp/evsepush/v21/operators/{OP}/status-records",
        {
            "ActionType": "update",
            "OperatorEvseStatus": {
                "OperatorID": OP,
                "OperatorName": "Evroam",
                "EvseStatusRecord": [{"EvseID": EVSE, "EvseStatus": "Occupied"}],
            },
        },
        OK,
    ),
    (
        "authorize_start",
        lambda c: c.authorize_start(
            AuthorizeStartRequest(
                OperatorID=OP, EvseID=EVSE, Identification=Identification.model_validate(RFID)
            )
        ),
        f"/api/oicp/charging/v21/operators/{OP}/authorize/start",
        {"OperatorID": OP, "EvseID": EVSE, "Identification": RFID},
        {"AuthorizationStatus": "Authorized", "SessionID": SESSION, "StatusCode": SUCCESS},
    ),
    (
        "authorize_stop",
        lambda c: c.authorize_stop(
            AuthorizeStopRequest(
                SessionID=SESSION, OperatorID=OP, Identification=Identification.model_validate(RFID)
            )
        ),
        f"/api/oicp/charging/v21/operators/{OP}/authorize/stop",
        {"SessionID": SESSION, "OperatorID": OP, "Identification": RFID},
        {"AuthorizationStatus": "Authorized", "StatusCode": SUCCESS},
    ),
    (
        "send_cdr",
        lambda c: c.send_cdr(ChargeDetailRecord.model_validate(CDR)),
        f"/api/oicp/cdrmgmt/v22/operators/{OP}/charge-detail-record",
        CDR,
        OK,
    ),
    (
        "push_pricing_products",
        lambda c: c.push_pricing_products(PricingProductData.model_validate(PRODUCTS)),
        f"/api/oicp/dynamicpricing/v10/operators/{OP}/pricing-products",
        {"ActionType": "fullLoad", "PricingProductData": PRODUCTS},
        OK,
    ),
    (
        "push_evse_pricing",
        lambda c: c.push_evse_pricing(
            [EvsePricing(EvseID=EVSE, ProviderID="*", EvseIDProductList=["AC1"])],
            ActionType.UPDATE,
        ),
        f"/api/oicp/dynamicpricing/v10/operators/{OP}/evse-pricing",
        {
            "ActionType": "update",
            "EVSEPricing": [{"EvseID": EVSE, "ProviderID": "*", "EvseIDProductList": ["AC1"]}],
        },
        OK,
    ),
    (
        "send_notification",
        lambda c: c.send_notification(
            ChargingNotification.model_validate(
                {
                    "Type": "Start",
                    "SessionID": SESSION,
                    "EvseID": EVSE,
                    "OperatorID": OP,
                    "ChargingStart": "2026-11-20T10:00:00.123Z",
                }
            )
        ),
        "/api/oicp/notificationmgmt/v11/charging-notifications",
        {
            "Type": "Start",
            "SessionID": SESSION,
            "EvseID": EVSE,
            "OperatorID": OP,
            "ChargingStart": "2026-11-20T10:00:00.123Z",
        },
        OK,
    ),
]

EMP_CASES: list[tuple[str, Call, str, dict[str, Any], Any]] = [
    (
        "remote_start",
        lambda c: c.remote_start(EVSE, EVCO, partner_product_id="AC1"),
        f"/api/oicp/charging/v21/providers/{EMP}/authorize-remote/start",
        {
            "ProviderID": EMP,
            "EvseID": EVSE,
            "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
            "PartnerProductID": "AC1",
        },
        {**OK, "SessionID": SESSION},
    ),
    (
        "remote_stop",
        lambda c: c.remote_stop(SESSION, EVSE),
        f"/api/oicp/charging/v21/providers/{EMP}/authorize-remote/stop",
        {"SessionID": SESSION, "ProviderID": EMP, "EvseID": EVSE},
        OK,
    ),
    (
        "reservation_start",
        lambda c: c.reservation_start(EVSE, EVCO, duration_minutes=15),
        f"/api/oicp/reservation/v11/providers/{EMP}/reservation-start-request",
        {
            "ProviderID": EMP,
            "EvseID": EVSE,
            "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
            "Duration": 15,
        },
        OK,
    ),
    (
        "reservation_stop",
        lambda c: c.reservation_stop(SESSION, EVSE),
        f"/api/oicp/reservation/v11/providers/{EMP}/reservation-stop-request",
        {"SessionID": SESSION, "ProviderID": EMP, "EvseID": EVSE},
        OK,
    ),
    (
        "cdr_pages",
        lambda c: _all_pages(
            c.cdr_pages("2026-11-01T00:00:00Z", "2026-11-02T00:00:00+01:00", forwarded=False)
        ),
        f"/api/oicp/cdrmgmt/v22/providers/{EMP}/get-charge-detail-records-request",
        {
            "ProviderID": EMP,
            "From": "2026-11-01T00:00:00Z",
            "To": "2026-11-02T00:00:00+01:00",
            "CDRForwarded": False,
        },
        PAGE,
    ),
    (
        "push_authentication_data",
        lambda c: c.push_authentication_data([Identification.model_validate(RFID)]),
        f"/api/oicp/authdata/v21/providers/{EMP}/push-request",
        {
            "ActionType": "fullLoad",
            "ProviderAuthenticationData": {
                "ProviderID": EMP,
                "AuthenticationDataRecord": [{"Identification": RFID}],
            },
        },
        OK,
    ),
    (
        "evse_data_pages",
        lambda c: _all_pages(c.evse_data_pages(OperatorIds=[OP], size=500)),
        f"/api/oicp/evsepull/v23/providers/{EMP}/data-records",
        {"ProviderID": EMP, "GeoCoordinatesResponseFormat": "DecimalDegree", "OperatorIds": [OP]},
        PAGE,
    ),
    (
        "pull_evse_status",
        lambda c: c.pull_evse_status("Available"),
        f"/api/oicp/evsepull/v21/providers/{EMP}/status-records",
        {"ProviderID": EMP, "EVSEStatus": "Available"},
        STATUSES,
    ),
    (
        "pull_evse_status_by_id",
        lambda c: c.pull_evse_status_by_id([EVSE]),
        f"/api/oicp/evsepull/v21/providers/{EMP}/status-records-by-id",
        {"ProviderID": EMP, "EvseID": [EVSE]},
        {"EVSEStatusRecords": {"EvseStatusRecord": []}, "StatusCode": SUCCESS},
    ),
    (
        "pull_evse_status_by_operator",
        lambda c: c.pull_evse_status_by_operator([OP]),
        f"/api/oicp/evsepull/v21/providers/{EMP}/status-records-by-operator-id",
        {"ProviderID": EMP, "OperatorID": [OP]},
        STATUSES,
    ),
    (
        "pull_pricing_products",
        lambda c: c.pull_pricing_products([OP], last_call="2026-11-01T00:00:00Z"),
        f"/api/oicp/dynamicpricing/v10/providers/{EMP}/pricing-products",
        {"OperatorIDs": [OP], "LastCall": "2026-11-01T00:00:00Z"},
        {"PricingProductData": [], "StatusCode": SUCCESS},
    ),
    (
        "pull_evse_pricing",
        lambda c: c.pull_evse_pricing([OP]),
        f"/api/oicp/dynamicpricing/v10/providers/{EMP}/evse-pricing",
        {"ProviderID": EMP, "OperatorIDs": [OP]},
        {"EVSEPricing": [], "StatusCode": SUCCESS},
    ),
]


def cpo(stub: StubHub, **kw: Any) -> CpoClient:
    return CpoClient(URL, OP, operator_name="Evroam", transport=stub.transport(), **kw)


def emp(stub: StubHub, **kw: Any) -> EmpClient:
    return EmpClient(URL, EMP, transport=stub.transport(), **kw)


@pytest.mark.parametrize("name, call, path, body, answer", CPO_CASES, ids=[c[0] for c in CPO_CASES])
async def test_cpo_method_sends_its_path_and_wire_body(
    name: str, call: Call, path: str, body: dict[str, Any], answer: Any
) -> None:
    stub = StubHub()
    stub.answer(answer)
    async with cpo(stub) as client:
        result = await call(client)
    assert [(s.path, s.body) for s in stub.seen] == [(path, body)]
    assert result.to_wire() == answer


@pytest.mark.parametrize("name, call, path, body, answer", EMP_CASES, ids=[c[0] for c in EMP_CASES])
async def test_emp_method_sends_its_path_and_wire_body(
    name: str, call: Call, path: str, body: dict[str, Any], answer: Any
) -> None:
    stub = StubHub()
    stub.answer(answer)
    async with emp(stub) as client:
        result = await call(client)
    assert [(s.path, s.body) for s in stub.seen] == [(path, body)]
    got = [p.to_wire() for p in result] if isinstance(result, list) else result.to_wire()
    assert got == ([answer] if isinstance(result, list) else answer)


def test_every_hub_operation_has_a_client_method() -> None:
    from evroam.oicp.v2_3.paths import OPERATIONS, Server

    for_cpo = {op.path for op in OPERATIONS if Server.HUB_FOR_CPO in op.served_by}
    for_emp = {op.path for op in OPERATIONS if Server.HUB_FOR_EMP in op.served_by}
    assert {c[2].replace(OP, "{operatorID}") for c in CPO_CASES} == for_cpo
    assert {c[2].replace(EMP, "{providerID}") for c in EMP_CASES} == for_emp


async def test_a_refusal_is_raised_with_the_partners_code_and_texts() -> None:
    stub = StubHub()
    stub.answer(
        {
            "Result": False,
            "StatusCode": {
                "Code": "017",
                "Description": "Unauthorized Access",
                "AdditionalInfo": "x",
            },
        },
        status=403,
    )
    async with cpo(stub) as client:
        with pytest.raises(OicpPartnerError) as caught:
            await client.push_evse_status({EVSE: "Available"})
    err = caught.value
    assert (err.code, err.description, err.additional_info, err.http_status) == (
        "017",
        "Unauthorized Access",
        "x",
        403,
    )


async def test_a_data_answer_with_a_negative_status_code_is_a_refusal() -> None:
    stub = StubHub()
    stub.answer({**STATUSES, "StatusCode": {"Code": "022"}})
    async with emp(stub) as client:
        with pytest.raises(OicpPartnerError, match="022"):
            await client.pull_evse_status()


async def test_not_authorized_is_an_answer_not_an_error() -> None:
    stub = StubHub()
    stub.answer({"AuthorizationStatus": "NotAuthorized", "StatusCode": {"Code": "102"}})
    async with cpo(stub) as client:
        answer = await client.authorize_start(
            AuthorizeStartRequest(OperatorID=OP, Identification=Identification.model_validate(RFID))
        )
    assert isinstance(answer, AuthorizationStartResponse)
    assert (answer.AuthorizationStatus, answer.StatusCode.Code) == ("NotAuthorized", "102")


@pytest.mark.parametrize(
    "response, reason",
    [
        (httpx.Response(200, text="<html>oops</html>"), "not JSON"),
        (httpx.Response(200, json={"Result": True}), "not an OICP"),
        (httpx.Response(502, json={"message": "bad gateway"}), "HTTP 502"),
    ],
)
async def test_what_is_not_the_operations_answer_is_not_an_oicp_answer(
    response: httpx.Response, reason: str
) -> None:
    stub = StubHub(answers=[response])
    async with cpo(stub) as client:
        with pytest.raises(NotAnOicpAnswer, match=reason):
            await client.push_evse_status({EVSE: "Available"})


async def test_an_answer_over_the_bound_is_not_read_whole() -> None:
    stub = StubHub(answers=[httpx.Response(200, content=b"[" + b"0," * 5000 + b"0]")])
    async with cpo(stub, max_answer_bytes=1000) as client:
        with pytest.raises(NotAnOicpAnswer, match="larger than 1000"):
            await client.push_evse_status({EVSE: "Available"})


async def test_no_connection_is_no_answer() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with CpoClient(URL, OP, transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(NoAnswer, match="not reachable"):
            await client.push_evse_status({EVSE: "Available"})


async def test_a_request_naming_another_party_is_refused_before_sending() -> None:
    stub = StubHub()
    async with cpo(stub) as client:
        with pytest.raises(ValueError, match="not this client's"):
            await client.send_cdr(ChargeDetailRecord.model_validate({**CDR, "EvseID": "DE*XYZ*E1"}))
    async with emp(stub) as client:
        other = PullEvseDataRequest(ProviderID="DE-XYZ", GeoCoordinatesResponseFormat="Google")
        with pytest.raises(ValueError, match="not this client's"):
            await _all_pages(client.evse_data_pages(other))
    assert stub.seen == []


def test_ids_and_urls_are_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="OperatorID"):
        CpoClient(URL, "DE/../x")
    with pytest.raises(ValueError, match="ProviderID"):
        EmpClient(URL, "not an id")
    with pytest.raises(ValueError, match="https://"):
        base_url("ftp://hub")
    assert base_url("https://service-qa.hubject.com/api/oicp/") == "https://service-qa.hubject.com"


def test_identifications_are_masked_in_logs() -> None:
    assert masked(EVCO) == "DE-8E…(18)"
    assert EVCO not in masked(EVCO)


async def test_a_remote_start_logs_no_contract_id_in_full(caplog: pytest.LogCaptureFixture) -> None:
    stub = StubHub()
    caplog.set_level("DEBUG", logger="evroam.oicp.client")
    async with emp(stub) as client:
        ack = await client.remote_start(EVSE, EVCO)
    assert isinstance(ack, Acknowledgement)
    assert caplog.records and EVCO not in caplog.text
