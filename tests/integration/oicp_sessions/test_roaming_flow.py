"""A full roaming flow through a real hub and real partner servers over mutual TLS:
an offline EMP's authentication data authorizes a start at the hub; an online EMP
authorizes an RFID start the hub forwards; an EMP starts remotely at a CPO through the
hub; notifications reach the online EMP and are kept for the offline one; the CDRs are
stored, forwarded to the online EMP, and fetched back page by page.

What crossed the wire is read from the fake partners' records (what the hub sent and to
which path), never from the hub's tables.
"""

from __future__ import annotations

import re

from tests.integration.oicp_sessions.messages import (
    CPO,
    END,
    OFFLINE_EMP,
    ONLINE_EMP,
    START,
    Roaming,
    ack,
    authorize_start,
    authorize_stop,
    cdr_body,
    get_cdrs,
    notification,
    notify,
    push_auth_data,
    qr,
    remote_start,
    rfid,
    send_cdr,
)

GUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
OFFLINE_EVCO = "DE-OFL-CABC12345-6"
ONLINE_EVCO = "DE-ONL-CXYZ98765-4"


def test_full_roaming_flow(roaming: Roaming) -> None:
    r = roaming

    # 1. The offline EMP pushes what the hub may authorize for it.
    pushed = push_auth_data(
        r, OFFLINE_EMP, "fullLoad", [rfid("0A1B2C3D"), qr(OFFLINE_EVCO, pin="4711")]
    )
    assert ack(pushed)["Result"] is True

    # 2. The CPO authorizes offline: the UID in another case, the QR code with its PIN.
    offline = ack(
        authorize_start(r, CPO, rfid("0a1b2c3d"), "DE*CPO*E1", CPOPartnerSessionID="cpo-1")
    )
    assert offline["AuthorizationStatus"] == "Authorized", offline
    assert offline["ProviderID"] == OFFLINE_EMP
    assert GUID.match(offline["SessionID"]) and offline["CPOPartnerSessionID"] == "cpo-1"
    assert offline["AuthorizationStopIdentifications"] == [rfid("0a1b2c3d")]
    by_qr = ack(authorize_start(r, CPO, qr(OFFLINE_EVCO, pin="4711"), "DE*CPO*E3"))
    assert (by_qr["AuthorizationStatus"], by_qr["ProviderID"]) == ("Authorized", OFFLINE_EMP)
    wrong_pin = ack(authorize_start(r, CPO, qr(OFFLINE_EVCO, pin="0000")))
    assert wrong_pin["AuthorizationStatus"] == "NotAuthorized"
    assert wrong_pin["StatusCode"]["Code"] == "101" and "SessionID" not in wrong_pin
    # An offline session stops with its own medium only.
    other = ack(authorize_stop(r, CPO, by_qr["SessionID"], qr(OFFLINE_EVCO, pin="0000")))
    assert other["AuthorizationStatus"] == "NotAuthorized"
    same = ack(authorize_stop(r, CPO, by_qr["SessionID"], qr(OFFLINE_EVCO, pin="4711")))
    assert same["AuthorizationStatus"] == "Authorized"
    assert same["SessionID"] == by_qr["SessionID"]
    assert r.fake_emp.received("AuthorizeStart") == []  # nothing went online

    # 3. An RFID card nobody pushed: the hub asks the online EMP, which authorizes.
    r.fake_emp.answer(
        "AuthorizeStart",
        {
            "SessionID": "$SessionID",
            "ProviderID": ONLINE_EMP,
            "AuthorizationStatus": "Authorized",
            "StatusCode": {"Code": "000"},
            "EMPPartnerSessionID": "emp-2",
        },
    )
    online = ack(authorize_start(r, CPO, rfid("11223344556677"), "DE*CPO*E2"))
    assert online["AuthorizationStatus"] == "Authorized", online
    assert online["ProviderID"] == ONLINE_EMP and online["EMPPartnerSessionID"] == "emp-2"
    (asked,) = r.fake_emp.received("AuthorizeStart")
    assert asked["problem"] is None and asked["caller"] == ["evroam-hub"]
    assert asked["path"] == f"/api/oicp/charging/v21/operators/{CPO}/authorize/start"
    assert asked["body"]["SessionID"] == online["SessionID"]
    assert asked["body"]["Identification"] == rfid("11223344556677")

    # 4. The online EMP starts remotely; the hub forwards to the CPO with its SessionID.
    r.fake_cpo.answer(
        "AuthorizeRemoteStart",
        {
            "Result": True,
            "StatusCode": {"Code": "000"},
            "SessionID": "$SessionID",
            "CPOPartnerSessionID": "cpo-r",
        },
    )
    started = ack(
        remote_start(r, ONLINE_EMP, "DE*CPO*E4", ONLINE_EVCO, EMPPartnerSessionID="emp-r")
    )
    assert started["Result"] is True and started["StatusCode"]["Code"] == "000", started
    (sent,) = r.fake_cpo.received("AuthorizeRemoteStart")
    assert sent["problem"] is None
    assert sent["path"] == f"/api/oicp/charging/v21/providers/{ONLINE_EMP}/authorize-remote/start"
    assert sent["body"]["SessionID"] == started["SessionID"]
    assert sent["body"]["EMPPartnerSessionID"] == "emp-r"
    assert sent["body"]["EvseID"] == "DE*CPO*E4"
    assert (started["CPOPartnerSessionID"], started["EMPPartnerSessionID"]) == ("cpo-r", "emp-r")
    remote_sid = started["SessionID"]

    # 5. Notifications: forwarded to the online EMP, kept for the offline one.
    for kind in ("Start", "Progress", "End"):
        answer = ack(notify(r, CPO, notification(kind, remote_sid, CPO, "DE*CPO*E4")))
        assert answer["Result"] is True and answer["SessionID"] == remote_sid, answer
        assert answer["EMPPartnerSessionID"] == "emp-r"
    got = r.fake_emp.received("ChargingNotification")
    assert [n["body"]["Type"] for n in got] == ["Start", "Progress", "End"]
    assert got[0]["body"]["ChargingStart"] == START  # as sent, offset and digits kept
    assert all(n["body"]["SessionID"] == remote_sid for n in got)
    assert all(n["body"].get("CPOPartnerSessionID") == "cpo-r" for n in got)
    kept = ack(notify(r, CPO, notification("Start", offline["SessionID"], CPO, "DE*CPO*E1")))
    assert (kept["Result"], kept["StatusCode"]["Code"]) == (True, "000")
    assert len(r.fake_emp.received("ChargingNotification")) == 3

    # 6. The CDRs: the online EMP's is forwarded, the offline EMP's kept.
    done = ack(send_cdr(r, CPO, cdr_body(remote_sid, "DE*CPO*E4", remote_id_of(ONLINE_EVCO))))
    assert done["Result"] is True and done["SessionID"] == remote_sid, done
    assert (done["CPOPartnerSessionID"], done["EMPPartnerSessionID"]) == ("cpo-r", "emp-r")
    (forwarded,) = r.fake_emp.received("ChargeDetailRecord")
    assert forwarded["path"] == f"/api/oicp/cdrmgmt/v22/operators/{CPO}/charge-detail-record"
    assert forwarded["body"]["ChargingStart"] == START
    assert forwarded["body"]["ChargingEnd"] == END
    assert forwarded["body"]["SessionID"] == remote_sid
    for sid, evse, medium in (
        (offline["SessionID"], "DE*CPO*E1", rfid("0A1B2C3D")),
        (by_qr["SessionID"], "DE*CPO*E3", qr(OFFLINE_EVCO)),
    ):
        assert ack(send_cdr(r, CPO, cdr_body(sid, evse, medium)))["Result"] is True
    assert len(r.fake_emp.received("ChargeDetailRecord")) == 1

    # 7. Each EMP fetches its own CDRs back, page by page, date-times as sent.
    first = ack(get_cdrs(r, OFFLINE_EMP, page=0, size=1))
    second = ack(get_cdrs(r, OFFLINE_EMP, page=1, size=1))
    assert (first["totalElements"], first["totalPages"], first["last"]) == (2, 2, False)
    assert (second["number"], second["last"]) == (1, True)
    fetched = first["content"] + second["content"]
    assert [c["SessionID"] for c in fetched] == [offline["SessionID"], by_qr["SessionID"]]
    assert fetched[0]["ChargingStart"] == START and fetched[0]["SessionEnd"] == END
    assert fetched[0]["MeterValueInBetween"] == {"meterValues": [1.5, 7.25]}
    mine = ack(get_cdrs(r, ONLINE_EMP, CDRForwarded=True))
    assert [c["SessionID"] for c in mine["content"]] == [remote_sid]
    assert ack(get_cdrs(r, ONLINE_EMP, CDRForwarder=False))["content"] == []
    not_forwarded = ack(get_cdrs(r, OFFLINE_EMP, CDRForwarded=False))
    assert not_forwarded["totalElements"] == 2


def remote_id_of(evco: str) -> dict[str, object]:
    return {"RemoteIdentification": {"EvcoID": evco}}
