"""The operator's views of sessions and CDRs (``/api/v1/oicp/sessions``, ``/cdrs`` and
``evroam oicp sessions|cdrs``) against a real hub process, after a flow made through
its partner-facing API (``conftest.py``): what partners sent is read back through the
operator API and the CLI, never from the hub's tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

from tests.integration.oicp_hub.support import ADMIN_TOKEN
from tests.integration.oicp_ops.conftest import (
    CPO,
    EMP,
    EVCO,
    HOSTILE,
    OTHER_CPO,
    OTHER_UID,
    PIN,
    UID,
    OpsWorld,
)


def get(ops: OpsWorld, path: str, status: int = 200, **params: Any) -> Any:
    r = ops.hub.admin.get(f"/api/v1/oicp{path}", params=params)
    assert r.status_code == status, r.text
    return r.json()


def cli(ops: OpsWorld, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    env |= {"EVROAM_OICP_NODE": ops.hub.admin_url, "EVROAM_ADMIN_TOKEN": ADMIN_TOKEN}
    env["COLUMNS"] = "250"
    return subprocess.run(
        [sys.executable, "-m", "evroam", "oicp", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def assert_nothing_secret(text: str) -> None:
    """No whole identifier, no PIN, no PIN hash (bcrypt's ``$2`` prefix)."""
    for secret in (UID, OTHER_UID, EVCO, '"4711"', "$2b$", "HashedPIN", '"PIN"', "pin_hash"):
        assert secret not in text, secret


def test_the_sessions_are_listed_newest_first_with_masked_identifications(
    ops: OpsWorld,
) -> None:
    sessions = get(ops, "/sessions")
    assert [s["session_id"] for s in sessions] == [
        ops.other_session,
        ops.qr_session,
        ops.rfid_session,
    ]
    by_id = {s["session_id"]: s for s in sessions}
    rfid = by_id[ops.rfid_session]
    assert rfid["identification"] == {"type": "RFIDMifareFamilyIdentification", "UID": "…E6F7"}
    assert (rfid["operator_id"], rfid["provider_id"]) == (CPO, EMP)
    assert (rfid["method"], rfid["state"], rfid["evse_id"]) == ("offline", "closed", "DE*OPS*E1")
    qr = by_id[ops.qr_session]
    assert qr["identification"] == {"type": "QRCodeIdentification", "EvcoID": "…4XY-3"}
    assert qr["state"] == "active"
    assert_nothing_secret(json.dumps(sessions, ensure_ascii=False))
    assert PIN not in json.dumps(sessions)


def test_the_session_filters(ops: OpsWorld) -> None:
    def ids(**params: Any) -> set[str]:
        return {s["session_id"] for s in get(ops, "/sessions", **params)}

    mine = {ops.rfid_session, ops.qr_session}
    assert ids(operator=CPO) == mine
    assert ids(operator="deops") == mine  # any spelling of the OperatorID
    assert ids(operator=OTHER_CPO) == {ops.other_session}
    assert ids(provider=EMP) == mine | {ops.other_session}
    assert ids(provider="DE-NOB") == set()
    assert ids(evse="DE*OPS*E2") == {ops.qr_session}
    assert ids(evse="DEOPSE1") == {ops.rfid_session}
    since = ops.started_at - timedelta(minutes=1)
    assert ids(since=since.isoformat()) == mine | {ops.other_session}
    assert ids(since=(ops.started_at + timedelta(hours=1)).isoformat()) == set()
    assert ids(since=(ops.started_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")) == set()
    assert ids(limit=1) == {ops.other_session}
    assert ids(operator=CPO, evse="DE*OPS*E1", provider=EMP) == {ops.rfid_session}


def test_filters_of_no_valid_form_are_422_not_an_empty_list(ops: OpsWorld) -> None:
    for params in ({"operator": "nope"}, {"provider": "x"}, {"evse": "DE*OPS"}):
        body = get(ops, "/sessions", 422, **params)
        assert body["error"] == "InvalidInput" and next(iter(params)) in body["detail"]
    for params in ({"limit": 0}, {"limit": 5000}, {"since": "yesterday"}):
        get(ops, "/sessions", 422, **params)
    get(ops, "/cdrs", 422, forwarded="perhaps")
    get(ops, "/cdrs", 422, operator="DE-OFL-X")


def test_a_session_shows_its_cdr_and_the_notifications_kept_for_it(ops: OpsWorld) -> None:
    detail = get(ops, f"/sessions/{ops.rfid_session.upper()}")
    assert detail["session_id"] == ops.rfid_session
    cdr = detail["cdr"]
    assert cdr["forwarded"] is False and cdr["record"]["ConsumedEnergy"] == 12.345
    assert cdr["record"]["Identification"] == {"RFIDMifareFamilyIdentification": {"UID": "…E6F7"}}
    assert cdr["record"]["ChargingStart"] == "2026-11-26T10:00:00.123+01:00"
    [kept] = detail["notifications"]
    assert kept["kind"] == "Start" and kept["body"]["SessionID"] == ops.rfid_session
    without = get(ops, f"/sessions/{ops.qr_session}")
    assert without["cdr"] is None and without["notifications"] == []
    assert_nothing_secret(json.dumps([detail, without], ensure_ascii=False))


def test_an_unknown_session_is_404_and_a_malformed_one_422(ops: OpsWorld) -> None:
    body = get(ops, "/sessions/b2688855-7f00-0002-6d8e-48d883f6abb6", 404)
    assert body["error"] == "NotFound"
    assert get(ops, "/sessions/not-a-guid", 422)["error"] == "InvalidInput"


def test_the_cdrs_and_their_filters(ops: OpsWorld) -> None:
    [cdr] = get(ops, "/cdrs")
    assert cdr["session_id"] == ops.rfid_session and cdr["evse_id"] == "DE*OPS*E1"
    assert (cdr["operator_id"], cdr["provider_id"]) == (CPO, EMP)  # as registered
    assert (cdr["operator"], cdr["provider"]) == ("DEOPS", "DEOFL")  # as kept
    assert cdr["identification"] == {"type": "RFIDMifareFamilyIdentification", "UID": "…E6F7"}
    assert [c["session_id"] for c in get(ops, "/cdrs", provider=EMP, operator="DE*OPS")] == [
        ops.rfid_session
    ]
    assert get(ops, "/cdrs", operator=OTHER_CPO) == []
    assert get(ops, "/cdrs", forwarded="true") == []
    assert len(get(ops, "/cdrs", forwarded="false")) == 1
    assert get(ops, "/cdrs", since=(ops.started_at + timedelta(hours=1)).isoformat()) == []
    assert_nothing_secret(json.dumps(get(ops, "/cdrs"), ensure_ascii=False))


def test_the_views_need_the_admin_token(ops: OpsWorld) -> None:
    for path in ("/sessions", f"/sessions/{ops.rfid_session}", "/cdrs"):
        r = ops.hub.admin.get(f"/api/v1/oicp{path}", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401


def test_the_cli_lists_and_shows_partner_text_as_text(ops: OpsWorld) -> None:
    listed = cli(ops, "sessions", "list", "--operator", CPO, "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == get(ops, "/sessions", operator=CPO)

    shown = cli(ops, "sessions", "show", ops.rfid_session)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "RFIDMifareFamily …E6F7" in out and "closed (offline)" in out
    expected = HOSTILE if ops.hostile_accepted else "[red]x[/red]"
    assert expected.replace("\x1b", "\\x1b") in out  # the markup shown, the escape written
    assert "\x1b" not in out
    assert "12.345 kWh" in out and "Start" in out
    assert_nothing_secret(out)

    table = cli(ops, "sessions", "list", "--evse", "DE*OPS*E2", "--since", "2000-01-01")
    assert table.returncode == 0, table.stderr
    assert ops.qr_session in table.stdout and "QRCode …4XY-3" in table.stdout
    assert ops.rfid_session not in table.stdout and "1 sessions" in table.stdout

    cdrs = cli(ops, "cdrs", "list", "--provider", EMP, "--not-forwarded")
    assert cdrs.returncode == 0, cdrs.stderr
    assert ops.rfid_session in cdrs.stdout and "12.345" in cdrs.stdout
    assert f" {CPO} " in cdrs.stdout and f" {EMP} " in cdrs.stdout
    assert "1 CDRs" in cdrs.stdout
    assert_nothing_secret(cdrs.stdout)
    as_json = cli(ops, "cdrs", "list", "--forwarded", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == []


def test_the_cli_refuses_bad_input_and_reports_unknown_sessions(ops: OpsWorld) -> None:
    bad = cli(ops, "sessions", "show", "nope")
    assert bad.returncode == 2 and "not a SessionID" in bad.stderr
    unknown = cli(ops, "sessions", "show", "b2688855-7f00-0002-6d8e-48d883f6abb6")
    assert unknown.returncode == 1 and "404" in unknown.stderr
    refused = cli(ops, "sessions", "list", "--operator", "nope")
    assert refused.returncode == 1 and "422" in refused.stderr and "OperatorID" in refused.stderr
