"""Reading rules of the wire models: null reads as absent, unknown fields are ignored and
never emitted, other spellings are read and the OpenAPI one written, decimals stay
exact, Code is a string, one Identification member, notifications chosen by Type."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord, GetChargeDetailRecordsRequest
from evroam.oicp.v2_3.models.common import Acknowledgement, StatusCode
from evroam.oicp.v2_3.models.evse import DynamicInfoAvailable, EvseDataRecord
from evroam.oicp.v2_3.models.evsedata import PullEvseDataRequest, PushEvseDataRequest
from evroam.oicp.v2_3.models.identification import (
    Identification,
    IdentificationUse,
    Member,
    identification_problem,
)
from evroam.oicp.v2_3.models.notifications import (
    ChargingNotification,
    ChargingNotificationEnd,
    ChargingNotificationError,
    ChargingNotificationProgress,
    ErrorClass,
)
from evroam.oicp.v2_3.models.pricing import EvsePricingResponse, ProductAvailabilityTimes
from evroam.oicp.v2_3.models.reservation import AuthorizeRemoteReservationStopRequest

from .records import complete_record


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


SESSION = "b2688855-7f00-0002-6d8e-48d883f6abb6"


def cdr(**changes: Any) -> dict[str, Any]:
    body = {
        "SessionID": SESSION,
        "EvseID": "DE*EVR*E0001*1",
        "Identification": {"RFIDMifareFamilyIdentification": {"UID": "7568290FFF765F"}},
        "ChargingStart": "2020-09-23T14:17:53.038+02:00",
        "ChargingEnd": "2020-09-23T15:17:53.038+02:00",
        "SessionStart": "2020-09-23T14:17:53.038+02:00",
        "SessionEnd": "2020-09-23T15:17:53.038+02:00",
        "ConsumedEnergy": 10.125,
    }
    body.update(changes)
    return body


def test_null_reads_as_absent_and_is_not_emitted() -> None:
    ack = Acknowledgement.model_validate_json(
        '{"Result": true, "StatusCode": {"Code": "000", "Description": null,'
        ' "AdditionalInfo": null}, "SessionID": null, "CPOPartnerSessionID": null}'
    )
    assert ack.SessionID is None and ack.StatusCode.Description is None
    assert ack.to_wire() == {"Result": True, "StatusCode": {"Code": "000"}}


def test_null_where_mandatory_is_refused() -> None:
    with pytest.raises(ValidationError):
        ChargeDetailRecord.model_validate(cdr(ConsumedEnergy=None))


def test_unknown_fields_are_ignored_and_never_emitted() -> None:
    body = {"Result": False, "StatusCode": {"Code": "022", "Extra": 1}, "sort": {}, "x": None}
    ack = Acknowledgement.model_validate(body)
    assert ack.to_wire() == {"Result": False, "StatusCode": {"Code": "022"}}


def test_code_is_a_three_character_string() -> None:
    assert StatusCode.model_validate({"Code": "210"}).known
    assert not StatusCode.model_validate({"Code": "999"}).known
    for bad in (0, "0", "0000", "00a"):
        with pytest.raises(ValidationError):
            StatusCode.model_validate({"Code": bad})
    assert StatusCode.of(Code.DATA_ERROR, "x" * 2000).to_wire() == {
        "Code": "022",
        "Description": "Data error",
        "AdditionalInfo": "x" * 1000,
    }


def test_consumed_energy_is_an_exact_decimal_and_a_json_number() -> None:
    record = ChargeDetailRecord.model_validate_json(json.dumps(cdr(ConsumedEnergy=10.125)))
    assert record.ConsumedEnergy == Decimal("10.125")
    assert record.to_wire()["ConsumedEnergy"] == 10.125
    assert b'"ConsumedEnergy":10.125' in record.to_json()
    whole = ChargeDetailRecord.model_validate(cdr(ConsumedEnergy=10))
    assert whole.to_wire()["ConsumedEnergy"] == 10
    with pytest.raises(ValidationError):
        ChargeDetailRecord.model_validate(cdr(ConsumedEnergy=-1))


@pytest.mark.parametrize(
    "model, body, ours, theirs",
    [
        (ChargeDetailRecord, cdr(HubProviderId="DE-8EO"), "HubProviderID", "HubProviderId"),
        (
            AuthorizeRemoteReservationStopRequest,
            {"SessionID": SESSION, "ProviderID": "DE-8EO", "EvseID": "DE*EVR*E1",
             "EMPPartnerSessionId": "abc"},
            "EMPPartnerSessionID",
            "EMPPartnerSessionId",
        ),
        (
            GetChargeDetailRecordsRequest,
            {"ProviderID": "DE-8EO", "From": "2020-09-23T14:17:53Z",
             "To": "2020-09-24T14:17:53Z", "CDRForwarder": False},
            "CDRForwarded",
            "CDRForwarder",
        ),
        (
            EvseDataRecord,
            {**without(complete_record(), "ChargingStationId"), "ChargingStationID": "S1"},
            "ChargingStationId",
            "ChargingStationID",
        ),
        (
            PullEvseDataRequest,
            {"ProviderID": "DE-8EO", "GeoCoordinatesResponseFormat": "Google",
             "OperatorIDs": ["DE*ABC"]},
            "OperatorIds",
            "OperatorIDs",
        ),
        (
            ProductAvailabilityTimes,
            {"Period": [{"begin": "08:00", "end": "18:00"}], "on": "Workdays"},
            "Periods",
            "Period",
        ),
        (EvsePricingResponse, {"OperatorEVSEPricing": []}, "EVSEPricing", "OperatorEVSEPricing"),
    ],
)  # fmt: skip
def test_other_spellings_are_read_and_ours_written(
    model: type[Acknowledgement], body: dict[str, Any], ours: str, theirs: str
) -> None:
    wire = model.model_validate(body).to_wire()
    assert ours in wire and theirs not in wire
    assert wire[ours] == body[theirs]


def test_get_cdrs_operator_as_one_id_or_a_list() -> None:
    base = {"ProviderID": "DE-8EO", "From": "2020-09-23T14:17:53Z", "To": "2020-09-24T14:17:53Z"}
    one = GetChargeDetailRecordsRequest.model_validate({**base, "OperatorID": "DE*ABC"})
    many = GetChargeDetailRecordsRequest.model_validate(
        {**base, "OperatorID": ["DE*ABC", "DE*X1Y"]}
    )
    assert one.operator_ids() == ["DE*ABC"] and many.operator_ids() == ["DE*ABC", "DE*X1Y"]


def test_dynamic_info_available_is_a_string_not_a_boolean() -> None:
    record = EvseDataRecord.model_validate(complete_record())
    assert record.DynamicInfoAvailable is DynamicInfoAvailable.AUTO
    with pytest.raises(ValidationError):
        EvseDataRecord.model_validate({**complete_record(), "DynamicInfoAvailable": True})


@pytest.mark.parametrize(
    "change",
    [
        {"IsOpen24Hours": "false"},  # a string where a boolean is
        {"Plugs": ["Unspecified"]},  # refused since 2.3
        {"Address": {**complete_record()["Address"], "Street": "X"}},  # shorter than 2
        {"Address": {**complete_record()["Address"], "City": "x" * 51}},
        {"ChargingStationId": "x" * 51},
        {"ChargingStationNames": [{"lang": "en", "value": "x" * 151}]},
        {"Address": {**complete_record()["Address"], "Country": "DE"}},
        {"ChargingFacilities": [{"PowerType": "AC_3_PHASE", "Power": "22"}]},
        {"EvseID": "DE*EVR*0001"},
    ],
)
def test_evse_record_refuses_malformed_values(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EvseDataRecord.model_validate({**complete_record(), **change})


def test_push_evse_data_from_text() -> None:
    body = {
        "ActionType": "fullLoad",
        "OperatorEvseData": {
            "OperatorID": "DE*EVR",
            "OperatorName": "evroam",
            "EvseDataRecord": [complete_record()],
        },
    }
    push = PushEvseDataRequest.model_validate_json(json.dumps(body))
    assert push.to_wire() == body


def test_identification_holds_exactly_one_member() -> None:
    rfid = {"RFIDMifareFamilyIdentification": {"UID": "7568290fff765f"}}
    remote = {"RemoteIdentification": {"EvcoID": "DE-8EO-CAet5e4XY-3"}}
    assert Identification.model_validate(rfid).member is Member.RFID_MIFARE_FAMILY
    with pytest.raises(ValidationError):
        Identification.model_validate({**rfid, **remote})
    with pytest.raises(ValidationError):
        Identification.model_validate({"RFIDMifareFamilyIdentification": None})
    assert Identification.model_validate(remote).provider() == "DE8EO"
    assert Identification.model_validate(rfid).provider() is None


AUTH = IdentificationUse.AUTHORIZATION
REMOTE = IdentificationUse.REMOTE_AUTHORIZATION
UPLOAD = IdentificationUse.AUTHENTICATION_DATA
EVCO = "DE8EOAet5e43"
HASHED = {"Value": "a5ghdhf73h", "Function": "Bcrypt"}
CARD = {"RFIDIdentification": {"UID": "1234ABCD", "RFID": "nfc"}}


@pytest.mark.parametrize(
    "use, body, problem",
    [
        (AUTH, CARD, "not allowed"),
        (AUTH, {"RemoteIdentification": {"EvcoID": EVCO}}, "not allowed"),
        (AUTH, {"QRCodeIdentification": {"EvcoID": EVCO}}, "needs the PIN"),
        (AUTH, {"QRCodeIdentification": {"EvcoID": EVCO, "PIN": "1", "HashedPIN": HASHED}},
         "not HashedPIN"),
        (REMOTE, {"RFIDMifareFamilyIdentification": {"UID": "1234ABCD"}}, "not allowed"),
        (UPLOAD, {"QRCodeIdentification": {"EvcoID": EVCO, "PIN": "1", "HashedPIN": HASHED}},
         "not both"),
        (AUTH, {"QRCodeIdentification": {"EvcoID": EVCO, "PIN": "1"}}, None),
        (AUTH, {"PlugAndChargeIdentification": {"EvcoID": EVCO}}, None),
        (UPLOAD, CARD, None),
        (UPLOAD, {"QRCodeIdentification": {"EvcoID": EVCO, "HashedPIN": HASHED}}, None),
        (IdentificationUse.RECORD, {"RemoteIdentification": {"EvcoID": EVCO}}, None),
    ],
)  # fmt: skip
def test_identification_rules_per_use(
    use: IdentificationUse, body: dict[str, Any], problem: str | None
) -> None:
    found = identification_problem(use, Identification.model_validate(body))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def notification(**fields: Any) -> dict[str, Any]:
    return {"SessionID": SESSION, "EvseID": "DE*EVR*E1", "OperatorID": "DE*EVR", **fields}


def test_notifications_are_chosen_by_type() -> None:
    progress = ChargingNotification.model_validate(
        notification(Type="Progress", ChargingStart="2020-09-23T14:17:53Z",
                     EventOccurred="2020-09-23T14:25:53Z", ChargingDuration=480000)
    ).root  # fmt: skip
    assert isinstance(progress, ChargingNotificationProgress)
    end = ChargingNotification.model_validate(
        notification(Type="End", ChargingStart="2020-09-23T14:17:53Z",
                     ChargingEnd="2020-09-23T15:17:53Z")
    ).root  # fmt: skip
    assert isinstance(end, ChargingNotificationEnd)
    with pytest.raises(ValidationError):  # an End body without ChargingEnd is no Start
        ChargingNotification.model_validate(
            notification(Type="End", ChargingStart="2020-09-23T14:17:53Z")
        )
    with pytest.raises(ValidationError):
        ChargingNotification.model_validate(notification(Type="Pause"))
    with pytest.raises(ValidationError):  # neither duration nor energy
        ChargingNotification.model_validate(
            notification(Type="Progress", ChargingStart="2020-09-23T14:17:53Z",
                         EventOccurred="2020-09-23T14:25:53Z")
        )  # fmt: skip


def test_error_type_is_read_in_both_spellings_and_written_in_one() -> None:
    error = ChargingNotification.model_validate(
        notification(Type="Error", ErrorType="Connector Error")
    )
    assert isinstance(error.root, ChargingNotificationError)
    assert error.root.ErrorType is ErrorClass.CONNECTOR_ERROR
    assert error.to_wire()["ErrorType"] == "ConnectorError"
    with pytest.raises(ValidationError):
        ChargingNotification.model_validate(notification(Type="Error", ErrorType="Fire"))
