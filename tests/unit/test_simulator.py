"""The simulated chargers (``backends/simulator.py``) against a recording
:class:`~evroam.core.backend.BackendReports`, on a clock the test drives: no test sleeps.

Every Session and CDR the simulator reports is checked against the OCPI 2.2.1 wire
models, and the CDR's total cost against a price worked out by hand from the tariff.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from evroam.backends import make_backend
from evroam.backends.simulator import Simulator
from evroam.config import BackendSettings, Settings
from evroam.core.backend import (
    Authorization,
    ChargerCommand,
    ChargingProfileResultType,
    CommandResultType,
    CommandType,
    ProfileRequest,
    ProfileRequestType,
)
from evroam.core.errors import InvalidInput
from evroam.ocpi.v2_2_1.cdrs.models import CDR
from evroam.ocpi.v2_2_1.sessions.models import Session

CPO = ("NL", "CPO")
EMSP = ("DE", "MSP")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday

TARIFF: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "T1",
    "currency": "EUR",
    "elements": [
        {
            "price_components": [
                {"type": "FLAT", "price": 0.5, "vat": 20.0, "step_size": 1},
                {"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1},
            ]
        }
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}


def connector(cid: str = "1", tariffs: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 400,
        "max_amperage": 32,
        "max_electric_power": 22000,
        "tariff_ids": ["T1"] if tariffs is None else tariffs,
        "last_updated": "2026-01-01T00:00:00Z",
    }


def evse(uid: str, status: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": f"NL*CPO*E{uid}",
        "status": status,
        "connectors": [connector()],
        "last_updated": "2026-01-01T00:00:00Z",
    }


def location(*evses: dict[str, Any]) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "LOC1",
        "publish": True,
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "postal_code": "3511",
        "country": "NLD",
        "coordinates": {"latitude": "52.08900", "longitude": "5.11000"},
        "time_zone": "Europe/Amsterdam",
        "evses": list(evses),
        "last_updated": "2026-01-01T00:00:00Z",
    }


TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "APP1",
    "type": "APP_USER",
    "contract_id": "DE-MSP-C00001",
    "issuer": "MSP",
    "valid": True,
    "whitelist": "NEVER",
    "last_updated": "2026-01-01T00:00:00Z",
}


class FakeTime:
    """A clock and a ``sleep`` the test moves: sleepers wake when it passes them."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.now + timedelta(seconds=seconds), future))
        await future

    async def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        due = [(t, f) for t, f in self.sleepers if t <= self.now]
        self.sleepers = [(t, f) for t, f in self.sleepers if t > self.now]
        for _, future in due:
            if not future.done():
                future.set_result(None)
        await settle()


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


class Recorder:
    """BackendReports that records each call, over one Location and one Tariff."""

    def __init__(
        self,
        loc: dict[str, Any],
        auth: Authorization | Exception | None = None,
        tariff: dict[str, Any] | None = None,
    ) -> None:
        self.loc = loc
        self.auth = auth
        self.the_tariff = tariff or TARIFF
        self.calls: list[tuple[Any, ...]] = []
        self.asked_party: tuple[str, str] | None = None

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == kind]

    async def command_result(
        self, command_id: str, result: CommandResultType, message: str | None = None
    ) -> None:
        self.calls.append(("command_result", command_id, result, message))

    async def profile_result(
        self,
        request_id: str,
        result: ChargingProfileResultType,
        active_profile: dict[str, Any] | None = None,
    ) -> None:
        self.calls.append(("profile_result", request_id, result, active_profile))

    async def active_profile_changed(
        self, party: tuple[str, str], session_id: str, active_profile: dict[str, Any]
    ) -> None:
        self.calls.append(("active_profile_changed", party, session_id, active_profile))

    async def evse_status(
        self, party: tuple[str, str], location_id: str, evse_uid: str, status: str, at: datetime
    ) -> None:
        self.calls.append(("evse_status", evse_uid, status))
        for e in self.loc["evses"]:  # what the node would store
            if e["uid"] == evse_uid:
                e["status"] = status

    async def session_started(self, session: dict[str, Any]) -> None:
        self.calls.append(("session_started", session))

    async def session_updated(
        self, party: tuple[str, str], session_id: str, patch: dict[str, Any]
    ) -> None:
        self.calls.append(("session_updated", session_id, patch))

    async def session_ended(
        self, party: tuple[str, str], session_id: str, patch: dict[str, Any]
    ) -> None:
        self.calls.append(("session_ended", session_id, patch))

    async def cdr(self, cdr: dict[str, Any]) -> None:
        self.calls.append(("cdr", cdr))

    async def location(self, party: tuple[str, str], location_id: str) -> dict[str, Any] | None:
        return self.loc if location_id.upper() == self.loc["id"] else None

    async def tariff(self, party: tuple[str, str], tariff_id: str) -> dict[str, Any] | None:
        return self.the_tariff if tariff_id == "T1" else None

    async def authorize(
        self,
        token_uid: str,
        token_type: str,
        location_id: str | None = None,
        evse_uids: list[str] | None = None,
        *,
        party: tuple[str, str] | None = None,
    ) -> Authorization:
        self.calls.append(("authorize", token_uid, token_type, location_id))
        self.asked_party = party
        if isinstance(self.auth, Exception):
            raise self.auth
        assert self.auth is not None
        return self.auth


def command(kind: CommandType, n: int = 1, **fields: Any) -> ChargerCommand:
    return ChargerCommand(
        id=f"cmd-{n}",
        type=kind,
        party=CPO,
        emsp=EMSP,
        received_at=T0,
        timeout_s=30,
        **fields,
    )


def start(n: int = 1, **fields: Any) -> ChargerCommand:
    fields.setdefault("token", TOKEN)
    fields.setdefault("location_id", "LOC1")
    return command(CommandType.START_SESSION, n, **fields)


async def run(
    loc: dict[str, Any] | None = None,
    auth: Authorization | Exception | None = None,
    tariff: dict[str, Any] | None = None,
    **settings: Any,
) -> tuple[Simulator, Recorder, FakeTime]:
    time = FakeTime(T0)
    sim = Simulator(
        BackendSettings(kind="simulator", step_seconds=60, **settings),
        clock=time.clock,
        sleep=time.sleep,
    )
    reports = Recorder(loc or location(evse("E1"), evse("E2")), auth, tariff)
    await sim.start(reports)
    return sim, reports, time


async def started(sim: Simulator, reports: Recorder, **fields: Any) -> str:
    await sim.handle_command(start(**fields))
    await sim.idle()
    return str(reports.of("session_started")[-1][1]["id"])


# ---- a whole session ------------------------------------------------------------------


async def test_a_session_runs_from_start_to_a_cdr_priced_from_the_tariff() -> None:
    sim, reports, time = await run()
    await sim.handle_command(start(evse_uid="E1", authorization_reference="REF1"))
    await sim.idle()
    assert reports.calls[0] == ("command_result", "cmd-1", CommandResultType.ACCEPTED, None)
    assert reports.calls[1] == ("evse_status", "E1", "CHARGING")
    session = reports.of("session_started")[0][1]
    Session.model_validate(session)  # a whole, valid 2.2.1 Session
    assert session["status"] == "ACTIVE" and session["auth_method"] == "COMMAND"
    assert session["kwh"] == 0 and session["currency"] == "EUR"
    assert session["cdr_token"]["uid"] == "APP1" and session["cdr_token"]["party_id"] == "MSP"
    assert session["authorization_reference"] == "REF1"
    assert (session["location_id"], session["evse_uid"], session["connector_id"]) == (
        "LOC1",
        "E1",
        "1",
    )
    assert session["total_cost"] == {"excl_vat": 0.5, "incl_vat": 0.6}  # the start fee

    # 22 kW for 30 steps of a minute: 11 kWh.
    kwh = []
    for _ in range(30):
        await time.advance(60)
        kwh.append(reports.of("session_updated")[-1][2]["kwh"])
    assert len(reports.of("session_updated")) == 30
    assert kwh == sorted(kwh) and kwh[0] == pytest.approx(22 / 60, abs=1e-4)
    assert kwh[-1] == pytest.approx(11.0)
    last = reports.of("session_updated")[-1][2]
    assert last["total_cost"]["excl_vat"] == pytest.approx(0.5 + 11 * 0.25)

    await sim.handle_command(command(CommandType.STOP_SESSION, 2, session_id=session["id"]))
    await sim.idle()
    assert reports.of("command_result")[-1][2] == CommandResultType.ACCEPTED
    ended = reports.of("session_ended")[0][2]
    assert ended["status"] == "COMPLETED" and ended["kwh"] == pytest.approx(11.0)
    assert ended["end_date_time"] == "2026-03-02T10:30:00Z"
    assert reports.of("evse_status")[-1] == ("evse_status", "E1", "AVAILABLE")
    cdr = reports.of("cdr")[0][1]
    CDR.model_validate(cdr)
    # By hand: 0.50 start fee (20% VAT) + 11 kWh at 0.25 (10% VAT).
    assert cdr["total_cost"] == {"excl_vat": 3.25, "incl_vat": 0.6 + 3.025}
    assert cdr["total_energy"] == pytest.approx(11.0) and cdr["total_time"] == 0.5
    assert cdr["total_energy_cost"] == {"excl_vat": 2.75, "incl_vat": 3.025}
    assert cdr["session_id"] == session["id"] and cdr["tariffs"] == [TARIFF]
    assert cdr["cdr_location"]["evse_id"] == "NL*CPO*EE1"
    # The charging periods sent with the session are the CDR's (each sent once).
    sent = [
        p
        for _, _, patch in reports.of("session_updated")
        for p in patch.get("charging_periods", [])
    ]
    sent += ended.get("charging_periods", [])
    assert sent == cdr["charging_periods"]
    assert sim.running == []
    await sim.close()


@pytest.mark.parametrize("seconds", [0.17, 0.19, 1.3, 7.7])
async def test_a_cdr_costs_what_its_own_total_energy_says(seconds: float) -> None:
    """The energy billed is the energy the CDR shows (the meter's 0.1 Wh), never the
    exact delivery rounded away: with 22 kW for 0.17 s (1.039 Wh) a CDR showed 0.0010
    kWh and charged two 1 Wh steps."""
    sim, reports, time = await run()
    session_id = await started(sim, reports, evse_uid="E1")
    time.now += timedelta(seconds=seconds)
    await sim.handle_command(command(CommandType.STOP_SESSION, 2, session_id=session_id))
    await sim.idle()
    cdr = reports.of("cdr")[0][1]
    billed_wh = math.ceil(round(cdr["total_energy"] * 1000, 6))  # 1 Wh steps
    assert cdr["total_energy_cost"]["excl_vat"] == pytest.approx(0.25 * billed_wh / 1000, abs=1e-4)
    assert reports.of("session_ended")[0][2]["kwh"] == cdr["total_energy"]
    await sim.close()


async def test_periods_are_sent_once_complete() -> None:
    """A tariff element that ends at 11:02 local time (10:02 UTC) starts a new charging period; the
    first is sent once it is complete, never twice."""
    tariff_at_nine = {
        **TARIFF,
        "elements": [
            {
                "price_components": [{"type": "TIME", "price": 1, "step_size": 1}],
                "restrictions": {"end_time": "11:02"},  # Amsterdam is UTC+1 in March
            },
            {"price_components": [{"type": "TIME", "price": 2, "step_size": 1}]},
        ],
    }
    sim, reports, time = await run(tariff=tariff_at_nine)
    await started(sim, reports, evse_uid="E1")
    for _ in range(4):
        await time.advance(60)
    patches = [p for _, _, p in reports.of("session_updated")]
    with_periods = [p["charging_periods"] for p in patches if "charging_periods" in p]
    assert len(with_periods) == 1 and len(with_periods[0]) == 1
    assert with_periods[0][0]["start_date_time"] == "2026-03-02T10:00:00Z"
    assert patches[-1]["total_cost"] == {"excl_vat": pytest.approx(2 / 60 + 2 * 2 / 60)}
    await sim.close()


# ---- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, result",
    [
        ("CHARGING", CommandResultType.EVSE_OCCUPIED),
        ("BLOCKED", CommandResultType.EVSE_OCCUPIED),
        ("RESERVED", CommandResultType.EVSE_OCCUPIED),
        ("INOPERATIVE", CommandResultType.EVSE_INOPERATIVE),
        ("OUTOFORDER", CommandResultType.EVSE_INOPERATIVE),
    ],
)
async def test_an_evse_that_cannot_charge_is_answered_and_nothing_starts(
    status: str, result: CommandResultType
) -> None:
    sim, reports, _ = await run(location(evse("E1", status)))
    await sim.handle_command(start(evse_uid="E1"))
    await sim.idle()
    assert [c[0] for c in reports.calls] == ["command_result"]
    assert reports.calls[0][2] == result
    await sim.close()


async def test_a_second_start_on_a_charging_evse_is_occupied() -> None:
    sim, reports, _ = await run()
    await started(sim, reports, evse_uid="E1")
    await sim.handle_command(start(2, evse_uid="E1"))
    await sim.idle()
    assert reports.of("command_result")[-1][2] == CommandResultType.EVSE_OCCUPIED
    assert len(reports.of("session_started")) == 1
    await sim.close()


async def test_without_an_evse_the_first_available_one_is_taken() -> None:
    sim, reports, _ = await run(location(evse("E1", "CHARGING"), evse("E2")))
    await started(sim, reports)
    assert reports.of("session_started")[0][1]["evse_uid"] == "E2"
    await sim.handle_command(start(2))
    await sim.idle()
    assert reports.of("command_result")[-1][2] == CommandResultType.EVSE_OCCUPIED
    await sim.close()


async def test_unknown_location_evse_or_connector_is_rejected() -> None:
    sim, reports, _ = await run()
    for n, fields in enumerate(
        [
            {"location_id": "NOPE"},
            {"evse_uid": "NOPE"},
            {"evse_uid": "E1", "connector_id": "9"},
        ]
    ):
        await sim.handle_command(start(n, **fields))
    await sim.idle()
    assert [c[2] for c in reports.calls] == [CommandResultType.REJECTED] * 3
    await sim.close()


async def test_stop_of_a_session_it_does_not_run_is_rejected() -> None:
    sim, reports, _ = await run()
    await sim.handle_command(command(CommandType.STOP_SESSION, session_id="nope"))
    await sim.idle()
    assert reports.calls == [
        ("command_result", "cmd-1", CommandResultType.REJECTED, "unknown session")
    ]
    await sim.close()


async def test_accept_false_rejects_every_command_and_request() -> None:
    sim, reports, _ = await run(accept=False)
    await sim.handle_command(start())
    await sim.handle_profile(
        ProfileRequest("p1", ProfileRequestType.GET_ACTIVE, CPO, "S1", T0, 30, duration_s=60)
    )
    await sim.idle()
    assert sorted(c[2] for c in reports.calls) == sorted(
        [CommandResultType.REJECTED, ChargingProfileResultType.REJECTED]
    )
    assert len(reports.calls) == 2
    await sim.close()


async def test_silent_takes_everything_and_never_answers() -> None:
    sim, reports, time = await run(silent=True)
    await sim.handle_command(start())
    await sim.handle_profile(ProfileRequest("p1", ProfileRequestType.CLEAR, CPO, "S1", T0, 30))
    await sim.idle()
    await time.advance(3600)
    assert reports.calls == []
    await sim.close()


# ---- real-time authorization ----------------------------------------------------------


async def test_authorize_asks_the_emsp_and_starts_only_when_allowed() -> None:
    allowed = Authorization(allowed="ALLOWED", authorization_reference="EMSP-REF")
    sim, reports, _ = await run(auth=allowed, authorize=True)
    await started(sim, reports, evse_uid="E1")
    assert reports.calls[0] == ("authorize", "APP1", "APP_USER", "LOC1")
    assert reports.asked_party == (TOKEN["country_code"], TOKEN["party_id"])  # its owner
    assert reports.of("session_started")[0][1]["authorization_reference"] == "EMSP-REF"
    await sim.close()


@pytest.mark.parametrize(
    "auth", [Authorization(allowed="BLOCKED"), InvalidInput("no eMSP partner has sent token")]
)
async def test_authorize_refused_or_impossible_rejects(auth: Authorization | Exception) -> None:
    sim, reports, _ = await run(auth=auth, authorize=True)
    await sim.handle_command(start(evse_uid="E1"))
    await sim.idle()
    assert [c[0] for c in reports.calls] == ["authorize", "command_result"]
    assert reports.calls[1][2] == CommandResultType.REJECTED
    await sim.close()


# ---- reservations and unlock ----------------------------------------------------------


async def test_reservation_holds_the_evse_until_it_expires() -> None:
    sim, reports, time = await run()
    reserve = command(
        CommandType.RESERVE_NOW,
        token=TOKEN,
        location_id="LOC1",
        evse_uid="E1",
        reservation_id="R1",
        expiry_date=T0 + timedelta(minutes=15),
    )
    await sim.handle_command(reserve)
    await sim.idle()
    assert reports.calls == [
        ("command_result", "cmd-1", CommandResultType.ACCEPTED, None),
        ("evse_status", "E1", "RESERVED"),
    ]
    other = {**TOKEN, "uid": "OTHER"}
    await sim.handle_command(start(2, evse_uid="E1", token=other))
    await sim.idle()
    assert reports.of("command_result")[-1][2] == CommandResultType.EVSE_OCCUPIED
    await time.advance(15 * 60)
    assert reports.calls[-1] == ("evse_status", "E1", "AVAILABLE")
    await sim.close()


async def test_the_reserving_token_starts_on_its_reserved_evse() -> None:
    sim, reports, _ = await run()
    reserve = command(
        CommandType.RESERVE_NOW, token=TOKEN, location_id="LOC1", evse_uid="E1", reservation_id="R1"
    )
    await sim.handle_command(reserve)
    await sim.idle()
    await started(sim, reports, evse_uid="E1")
    assert reports.of("command_result")[-1][2] == CommandResultType.ACCEPTED
    # The reservation was used up: cancelling it is unknown now.
    await sim.handle_command(command(CommandType.CANCEL_RESERVATION, 3, reservation_id="R1"))
    await sim.idle()
    assert reports.of("command_result")[-1][2] == CommandResultType.UNKNOWN_RESERVATION
    await sim.close()


async def test_cancel_reservation_frees_the_evse_and_unknown_ones_are_answered() -> None:
    sim, reports, _ = await run()
    reserve = command(
        CommandType.RESERVE_NOW, token=TOKEN, location_id="LOC1", evse_uid="E2", reservation_id="R1"
    )
    await sim.handle_command(reserve)
    await sim.idle()
    await sim.handle_command(command(CommandType.CANCEL_RESERVATION, 2, reservation_id="r1"))
    await sim.handle_command(command(CommandType.CANCEL_RESERVATION, 3, reservation_id="R9"))
    await sim.idle()
    results = {c[1]: c[2] for c in reports.of("command_result")}
    assert results["cmd-2"] == CommandResultType.ACCEPTED
    assert results["cmd-3"] == CommandResultType.UNKNOWN_RESERVATION
    assert reports.of("evse_status")[-1] == ("evse_status", "E2", "AVAILABLE")
    await sim.close()


async def test_unlock_is_accepted() -> None:
    sim, reports, _ = await run()
    unlock = command(
        CommandType.UNLOCK_CONNECTOR, location_id="LOC1", evse_uid="E1", connector_id="1"
    )
    await sim.handle_command(unlock)
    await sim.idle()
    assert reports.calls == [("command_result", "cmd-1", CommandResultType.ACCEPTED, None)]
    await sim.close()


# ---- charging profiles ----------------------------------------------------------------


async def test_profiles_are_kept_read_and_cleared_and_limit_the_power() -> None:
    sim, reports, time = await run()
    sid = await started(sim, reports, evse_uid="E1")
    await sim.handle_profile(
        ProfileRequest("g0", ProfileRequestType.GET_ACTIVE, CPO, sid, T0, 30, duration_s=900)
    )
    await sim.idle()
    _, _, result, active = reports.of("profile_result")[-1]
    assert result == ChargingProfileResultType.ACCEPTED
    assert active["charging_profile"]["charging_profile_period"] == [
        {"start_period": 0, "limit": 22000.0}
    ]
    assert active["charging_profile"]["duration"] == 900

    profile = {
        "charging_rate_unit": "W",
        "charging_profile_period": [{"start_period": 0, "limit": 6000}],
    }
    await sim.handle_profile(
        ProfileRequest("s1", ProfileRequestType.SET, CPO, sid, T0, 30, profile=profile)
    )
    await sim.idle()
    assert reports.of("profile_result")[-1][2] == ChargingProfileResultType.ACCEPTED
    changed = reports.of("active_profile_changed")[-1]
    assert changed[1:3] == (CPO, sid) and changed[3]["charging_profile"] == profile
    await time.advance(60)
    assert reports.of("session_updated")[-1][2]["kwh"] == pytest.approx(6 / 60, abs=1e-4)

    await sim.handle_profile(ProfileRequest("g1", ProfileRequestType.GET_ACTIVE, CPO, sid, T0, 30))
    await sim.handle_profile(ProfileRequest("c1", ProfileRequestType.CLEAR, CPO, sid, T0, 30))
    await sim.idle()
    answers = {c[1]: c for c in reports.of("profile_result")}
    assert answers["g1"][3]["charging_profile"] == profile
    assert answers["c1"][2] == ChargingProfileResultType.ACCEPTED
    await time.advance(60)
    kwh = reports.of("session_updated")[-1][2]["kwh"]
    assert kwh == pytest.approx(6 / 60 + 22 / 60, abs=1e-4)  # full power again
    await sim.close()


# ---- lifecycle ------------------------------------------------------------------------


async def test_close_cancels_running_sessions_and_reservations() -> None:
    sim, reports, time = await run()
    await started(sim, reports, evse_uid="E1")
    reserve = command(
        CommandType.RESERVE_NOW,
        5,
        token=TOKEN,
        location_id="LOC1",
        evse_uid="E2",
        reservation_id="R1",
        expiry_date=T0 + timedelta(minutes=5),
    )
    await sim.handle_command(reserve)
    await sim.idle()
    before = len(reports.calls)
    await sim.close()
    await time.advance(3600)
    assert len(reports.calls) == before
    assert all(f.cancelled() for _, f in time.sleepers) or time.sleepers == []


async def test_make_backend_builds_the_configured_kind() -> None:
    assert make_backend(Settings(backend=BackendSettings(kind="none"))) is None
    sim = make_backend(Settings(backend=BackendSettings(kind="simulator")))
    assert isinstance(sim, Simulator) and sim.name == "simulator"
    with pytest.raises(ValueError, match="EVROAM_BACKEND__URL"):
        make_backend(Settings(backend=BackendSettings(kind="webhook")))
