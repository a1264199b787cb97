"""The rules of the hub's session operations, each through a real hub and real partner
servers: a silent or broken partner (310, 320) within the call timeout, an operator
the hub cannot reach (300), sessions that are unknown or another partner's (400, with
nothing changed), EvcoIDs of another provider (019, nothing stored), media an operation
does not admit (022), one CDR per session, EVSE data checks (603, 604), and
reservations forwarded with the hub's SessionID.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.integration.oicp_sessions.messages import (
    CALL_TIMEOUT,
    CPO,
    CPO_WITHOUT_ENDPOINT,
    OFFLINE_EMP,
    ONLINE_EMP,
    OTHER_CPO,
    Roaming,
    ack,
    authorize_start,
    authorize_stop,
    call,
    cdr_body,
    new_guid,
    notification,
    notify,
    push_auth_data,
    qr,
    refused,
    remote_id,
    remote_start,
    remote_stop,
    rfid,
    send_cdr,
)
from tests.unit.oicp.records import complete_record

ONLINE_EVCO = "DE-ONL-CXYZ98765-4"
OFFLINE_EVCO = "DE-OFL-CQWE45678-1"


@pytest.fixture(autouse=True)
def default_answers(roaming: Roaming) -> Iterator[None]:
    """Each test starts and ends with the fakes' default answers."""
    yield
    for op in ("AuthorizeRemoteStart", "AuthorizeRemoteStop", "AuthorizeRemoteReservationStart"):
        roaming.fake_cpo.answer(op)
    roaming.fake_emp.answer("AuthorizeStart")


def started(r: Roaming, evse: str = "DE*CPO*E7") -> str:
    """A live remote session of the online EMP at DE*CPO."""
    body = ack(remote_start(r, ONLINE_EMP, evse, ONLINE_EVCO))
    assert body["Result"] is True, body
    return str(body["SessionID"])


def test_a_cpo_that_does_not_answer_in_time_is_310_within_the_timeout(r: Roaming) -> None:
    r.fake_cpo.answer("AuthorizeRemoteStart", delay=CALL_TIMEOUT + 3)
    before = time.monotonic()
    answer = refused(remote_start(r, ONLINE_EMP, "DE*CPO*E9", ONLINE_EVCO), "310")
    assert time.monotonic() - before < CALL_TIMEOUT + 1.5
    assert "SessionID" not in answer
    # The session the CPO was sent was deleted: its CDR is refused.
    sent = r.fake_cpo.received("AuthorizeRemoteStart")[-1]["body"]
    refused(
        send_cdr(r, CPO, cdr_body(sent["SessionID"], "DE*CPO*E9", remote_id(ONLINE_EVCO))), "400"
    )


def test_an_answer_that_is_not_oicp_is_320(r: Roaming) -> None:
    r.fake_cpo.answer("AuthorizeRemoteStart", raw="<html>busy</html>", status=503)
    refused(remote_start(r, ONLINE_EMP, "DE*CPO*E9", ONLINE_EVCO), "320")


def test_a_refusal_of_the_cpo_is_relayed_and_its_session_deleted(r: Roaming) -> None:
    r.fake_cpo.answer(
        "AuthorizeRemoteStart",
        {"Result": False, "StatusCode": {"Code": "602", "Description": "in use"}},
    )
    answer = refused(remote_start(r, ONLINE_EMP, "DE*CPO*E9", ONLINE_EVCO), "602")
    assert "SessionID" not in answer
    sent = r.fake_cpo.received("AuthorizeRemoteStart")[-1]["body"]
    refused(notify(r, CPO, notification("Start", sent["SessionID"], CPO, "DE*CPO*E9")), "400")


def test_remote_start_at_an_operator_the_hub_cannot_call_is_300(r: Roaming) -> None:
    before = len(r.fake_cpo.received())
    refused(remote_start(r, ONLINE_EMP, "DE*UNK*E1", ONLINE_EVCO), "300")
    refused(remote_start(r, ONLINE_EMP, "DE*NOE*E1", ONLINE_EVCO), "300")
    body = {
        "ProviderID": ONLINE_EMP,
        "EvseID": "DE*UNK*E1",
        "Identification": remote_id(ONLINE_EVCO),
    }
    path = f"/reservation/v11/providers/{ONLINE_EMP}/reservation-start-request"
    refused(call(r, ONLINE_EMP, path, body), "300")
    assert len(r.fake_cpo.received()) == before
    assert CPO_WITHOUT_ENDPOINT == "DE*NOE"


def test_unknown_sessions_are_400(r: Roaming) -> None:
    unknown = new_guid()
    stop = ack(authorize_stop(r, CPO, unknown, rfid("0A0B0C0D")))
    assert (stop["AuthorizationStatus"], stop["StatusCode"]["Code"]) == ("NotAuthorized", "400")
    refused(send_cdr(r, CPO, cdr_body(unknown, "DE*CPO*E1", rfid("0A0B0C0D"))), "400")
    refused(notify(r, CPO, notification("End", unknown, CPO, "DE*CPO*E1")), "400")
    refused(remote_stop(r, ONLINE_EMP, unknown, "DE*CPO*E1"), "400")


def test_another_partners_session_is_400_and_changes_nothing(r: Roaming) -> None:
    sid = started(r)
    stops_before = len(r.fake_cpo.received("AuthorizeRemoteStop"))
    # Another operator, another provider: the session is not theirs.
    refused(send_cdr(r, OTHER_CPO, cdr_body(sid, "DE*OTH*E7", remote_id(ONLINE_EVCO))), "400")
    refused(notify(r, OTHER_CPO, notification("Start", sid, OTHER_CPO, "DE*OTH*E7")), "400")
    refused(remote_stop(r, OFFLINE_EMP, sid, "DE*CPO*E7"), "400")
    assert len(r.fake_cpo.received("AuthorizeRemoteStop")) == stops_before
    # Nothing changed: its own partners go on with it.
    stopped = ack(remote_stop(r, ONLINE_EMP, sid, "DE*CPO*E7"))
    assert stopped["Result"] is True and stopped["SessionID"] == sid
    assert r.fake_cpo.received("AuthorizeRemoteStop")[-1]["body"]["SessionID"] == sid
    assert ack(send_cdr(r, CPO, cdr_body(sid, "DE*CPO*E7", remote_id(ONLINE_EVCO))))["Result"]


def test_an_evcoid_of_another_provider_is_019_and_nothing_is_stored(r: Roaming) -> None:
    own = qr(OFFLINE_EVCO, pin="1234")
    answer = refused(push_auth_data(r, OFFLINE_EMP, "insert", [own, qr(ONLINE_EVCO)]), "019")
    assert ONLINE_EVCO.replace("-", "").upper() in answer["StatusCode"]["AdditionalInfo"]
    start = ack(authorize_start(r, CPO, qr(OFFLINE_EVCO, pin="1234")))
    assert start["AuthorizationStatus"] == "NotAuthorized"
    assert ack(push_auth_data(r, OFFLINE_EMP, "insert", [own]))["Result"] is True
    start = ack(authorize_start(r, CPO, qr(OFFLINE_EVCO, pin="1234")))
    assert start["AuthorizationStatus"] == "Authorized"


@pytest.mark.parametrize(
    "identification",
    [
        remote_id(ONLINE_EVCO),
        {"RFIDIdentification": {"UID": "0A0B0C0D", "RFID": "mifareCls"}},
        qr(ONLINE_EVCO),  # no PIN
    ],
)
def test_a_medium_authorization_does_not_admit_is_022(r: Roaming, identification: dict) -> None:
    before = len(r.fake_emp.received("AuthorizeStart"))
    refused(authorize_start(r, CPO, identification), "022")
    assert len(r.fake_emp.received("AuthorizeStart")) == before


def test_remote_start_with_an_rfid_card_is_022(r: Roaming) -> None:
    body = {"ProviderID": ONLINE_EMP, "EvseID": "DE*CPO*E1", "Identification": rfid("0A0B0C0D")}
    before = len(r.fake_cpo.received())
    path = f"/charging/v21/providers/{ONLINE_EMP}/authorize-remote/start"
    refused(call(r, ONLINE_EMP, path, body), "022")
    assert len(r.fake_cpo.received()) == before


def test_a_second_cdr_of_a_session_is_refused_with_022(r: Roaming) -> None:
    sid = started(r)
    first = cdr_body(sid, "DE*CPO*E7", remote_id(ONLINE_EVCO))
    assert ack(send_cdr(r, CPO, first))["Result"] is True
    second = refused(send_cdr(r, CPO, {**first, "ConsumedEnergy": 99}), "022")
    assert "already" in second["StatusCode"]["AdditionalInfo"]
    forwarded = [
        c for c in r.fake_emp.received("ChargeDetailRecord") if c["body"]["SessionID"] == sid
    ]
    assert len(forwarded) == 1 and forwarded[0]["body"]["ConsumedEnergy"] == 12.345


def test_an_emp_that_does_not_answer_counts_as_not_authorizing(r: Roaming) -> None:
    r.fake_emp.answer("AuthorizeStart", delay=CALL_TIMEOUT + 3)
    before = time.monotonic()
    answer = ack(authorize_start(r, CPO, rfid("99887766")))
    assert time.monotonic() - before < CALL_TIMEOUT + 1.5
    assert answer["AuthorizationStatus"] == "NotAuthorized" and "SessionID" not in answer


def test_reservations_are_forwarded_with_the_hubs_session_id(r: Roaming) -> None:
    base = f"/reservation/v11/providers/{ONLINE_EMP}"
    body = {
        "ProviderID": ONLINE_EMP,
        "EvseID": "DE*CPO*E8",
        "Identification": remote_id(ONLINE_EVCO),
        "Duration": 15,
        "EMPPartnerSessionId": "emp-res",
    }
    answer = ack(call(r, ONLINE_EMP, f"{base}/reservation-start-request", body))
    assert answer["Result"] is True and answer["EMPPartnerSessionID"] == "emp-res", answer
    sent = r.fake_cpo.received("AuthorizeRemoteReservationStart")[-1]
    assert sent["problem"] is None and sent["body"]["SessionID"] == answer["SessionID"]
    assert sent["body"]["Duration"] == 15
    assert sent["path"] == f"/api/oicp{base}/reservation-start-request"
    # A charging session is not a reservation.
    stop = {"ProviderID": ONLINE_EMP, "EvseID": "DE*CPO*E7", "SessionID": started(r)}
    refused(call(r, ONLINE_EMP, f"{base}/reservation-stop-request", stop), "400")
    stop = {"ProviderID": ONLINE_EMP, "EvseID": "DE*CPO*E8", "SessionID": answer["SessionID"]}
    assert ack(call(r, ONLINE_EMP, f"{base}/reservation-stop-request", stop))["Result"] is True
    (stopped,) = r.fake_cpo.received("AuthorizeRemoteReservationStop")
    assert stopped["body"]["SessionID"] == answer["SessionID"]
    assert stopped["body"]["EMPPartnerSessionID"] == "emp-res"


def test_evse_data_of_the_operator_is_checked_603_604(r: Roaming) -> None:
    known, incompatible = complete_record(), complete_record()
    known["EvseID"], incompatible["EvseID"] = "DE*OTH*E1", "DE*OTH*E2"
    incompatible["IsHubjectCompatible"] = False
    push = {
        "ActionType": "fullLoad",
        "OperatorEvseData": {
            "OperatorID": OTHER_CPO,
            "OperatorName": "Other",
            "EvseDataRecord": [known, incompatible],
        },
    }
    pushed = call(r, OTHER_CPO, f"/evsepush/v23/operators/{OTHER_CPO}/data-records", push)
    assert ack(pushed)["Result"] is True, pushed.text
    refused(remote_start(r, ONLINE_EMP, "DE*OTH*E3", ONLINE_EVCO), "603")
    refused(remote_start(r, ONLINE_EMP, "DE*OTH*E2", ONLINE_EVCO), "604")
    assert ack(remote_start(r, ONLINE_EMP, "DE*OTH*E1", ONLINE_EVCO))["Result"] is True
    # DE*CPO pushed no EVSE data: not checked (the other tests start there).


@pytest.fixture
def r(roaming: Roaming) -> Roaming:
    return roaming


def test_a_stop_of_an_online_session_is_asked_of_its_emp(r: Roaming) -> None:
    r.fake_emp.answer(
        "AuthorizeStart",
        {
            "AuthorizationStatus": "Authorized",
            "StatusCode": {"Code": "000"},
            "SessionID": "$SessionID",
        },
    )
    sid = ack(authorize_start(r, CPO, rfid("5566778899AABB")))["SessionID"]
    refusal = ack(authorize_stop(r, CPO, sid, rfid("5566778899AABB")))
    assert (refusal["AuthorizationStatus"], refusal["StatusCode"]["Code"]) == (
        "NotAuthorized",
        "102",
    )
    r.fake_emp.answer(
        "AuthorizeStop",
        {
            "AuthorizationStatus": "Authorized",
            "StatusCode": {"Code": "000"},
            "SessionID": "$SessionID",
        },
    )
    try:
        stop = ack(authorize_stop(r, CPO, sid, rfid("5566778899AABB")))
    finally:
        r.fake_emp.answer("AuthorizeStop")
    assert (stop["AuthorizationStatus"], stop["SessionID"], stop["ProviderID"]) == (
        "Authorized",
        sid,
        ONLINE_EMP,
    )
    asked = r.fake_emp.received("AuthorizeStop")
    assert [a["body"]["SessionID"] for a in asked] == [sid, sid]
    assert asked[-1]["path"] == f"/api/oicp/charging/v21/operators/{CPO}/authorize/stop"


def test_a_notification_the_emp_does_not_take_in_time_is_310(r: Roaming) -> None:
    sid = started(r)
    r.fake_emp.answer("ChargingNotification", delay=CALL_TIMEOUT + 3)
    try:
        answer = refused(notify(r, CPO, notification("Error", sid, CPO, "DE*CPO*E7")), "310")
    finally:
        r.fake_emp.answer("ChargingNotification")
    assert answer["SessionID"] == sid


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/authdata/v21/providers/DE-ONL/push-request", {}),
        ("/charging/v21/providers/DE-ONL/authorize-remote/start", {}),
        ("/charging/v21/providers/DE-ONL/authorize-remote/stop", {}),
        ("/reservation/v11/providers/DE-ONL/reservation-start-request", {}),
        ("/reservation/v11/providers/DE-ONL/reservation-stop-request", {}),
        ("/cdrmgmt/v22/providers/DE-ONL/get-charge-detail-records-request", {}),
        ("/charging/v21/operators/DE*CPO/authorize/start", {}),
        ("/charging/v21/operators/DE*CPO/authorize/stop", {}),
        ("/cdrmgmt/v22/operators/DE*CPO/charge-detail-record", {}),
    ],
)
def test_another_partners_path_is_017_before_the_body_is_read(
    r: Roaming, path: str, body: dict[str, object]
) -> None:
    # The offline EMP's certificate, a body that is not even the operation's shape.
    refused(call(r, OFFLINE_EMP, path, body), "017")


def test_a_notification_of_another_operator_is_017(r: Roaming) -> None:
    sid = started(r)
    refused(notify(r, OTHER_CPO, notification("Start", sid, CPO, "DE*CPO*E7")), "017")
