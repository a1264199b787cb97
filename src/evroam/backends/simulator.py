"""A simulated set of chargers behind a CPO node (``EVROAM_BACKEND__KIND=simulator``):
what the demo and the tests run a whole charging session against.

It behaves as a charger system would, through the node's own reports
(``core/backend.py``), so everything it does is stored and pushed to partners exactly
like an operator's changes:

* START_SESSION: optionally asks the eMSP first (``authorize``: a real-time
  authorization, REJECTED unless ALLOWED); picks the EVSE (the one named, else the first
  AVAILABLE) and connector (the one named, else the first) from the stored Location;
  EVSE_OCCUPIED / EVSE_INOPERATIVE when the EVSE cannot charge; otherwise reports
  ACCEPTED, the EVSE CHARGING, and a new ACTIVE Session (auth_method COMMAND), then
  every ``step_seconds`` a session update: kWh growing at the connector's power
  (``max_electric_power``, else ``power_kw``, capped by an active charging profile),
  ``total_cost`` priced from the connector's tariff (``core/pricing.py``) and each
  charging period once it is complete.
* STOP_SESSION: ACCEPTED for a session it runs (REJECTED otherwise), then the session
  COMPLETED with its totals, the EVSE AVAILABLE, and a CDR whose total cost is the
  tariff's price of the whole session.
* RESERVE_NOW: the EVSE RESERVED until ``expiry_date`` (then AVAILABLE again); the same
  reservation id replaces the reservation. CANCEL_RESERVATION: ACCEPTED, or
  UNKNOWN_RESERVATION. UNLOCK_CONNECTOR: ACCEPTED.
* Charging profiles: SET keeps the profile of the session (and reports the new active
  profile), GET_ACTIVE answers the kept profile or the connector's default, CLEAR drops
  it; each ACCEPTED.
* ``accept`` false: every command and request is answered REJECTED. ``silent``: taken,
  never answered (the node answers TIMEOUT itself).

Time comes from the injected ``clock`` and ``sleep``, so a test drives a session step by
step without waiting; every task it starts is cancelled by ``close()``. State lives in
memory: a restart forgets running sessions (a real charger system would report them).
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evroam.config import BackendSettings
from evroam.core.backend import (
    BackendError,
    BackendReports,
    ChargerCommand,
    ChargingProfileResultType,
    CommandResultType,
    CommandType,
    ProfileRequest,
    ProfileRequestType,
)
from evroam.core.errors import DomainError
from evroam.core.objects import Document
from evroam.core.pricing import PricedSession, Stretch, price_session, tariff_applies
from evroam.ocpi.common.timeutil import format_datetime

log = logging.getLogger("evroam.backend")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

#: EVSE statuses a session cannot start on because someone is using the EVSE; any
#: other status but AVAILABLE means it cannot charge at all.
OCCUPIED = frozenset({"CHARGING", "BLOCKED", "RESERVED"})
PHASES = {"AC_1_PHASE": 1, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 2, "AC_3_PHASE": 3}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _key(value: str) -> str:
    """CiString ids compare case-insensitively."""
    return value.upper()


@dataclass(slots=True)
class _Session:
    """One simulated charging session."""

    doc: Document  # the Session as reported at its start
    party: tuple[str, str]
    location: Document
    evse: Document
    connector: Document
    tariff: Document | None
    tz: tzinfo
    power_kw: float
    last: datetime
    stretches: list[Stretch] = field(default_factory=list)
    periods_sent: int = 0
    delivered_kwh: Fraction = Fraction(0)  # exact, what the charger delivered
    metered_kwh: Fraction = Fraction(0)  # what its meter shows (METER_KWH resolution)
    profile: Document | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None
    stopped: bool = False

    @property
    def id(self) -> str:
        return str(self.doc["id"])


@dataclass(slots=True)
class _Reservation:
    party: tuple[str, str]
    location_id: str
    evse_uid: str
    token: Document | None
    task: asyncio.Task[None] | None = None


class Simulator:
    """:class:`~evroam.core.backend.ChargePointBackend` with chargers in memory."""

    name = "simulator"

    def __init__(
        self,
        settings: BackendSettings,
        *,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or utcnow
        self.sleep = sleep or asyncio.sleep
        self._reports: BackendReports | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # (party, session id) -> session; (party, location, evse) -> session id
        self._sessions: dict[tuple[tuple[str, str], str], _Session] = {}
        self._busy: dict[tuple[tuple[str, str], str, str], str] = {}
        # (emsp party, reservation id) -> reservation
        self._reservations: dict[tuple[tuple[str, str], str], _Reservation] = {}
        # session id (upper) -> the profile an SCSP/eMSP set on it
        self._profiles: dict[str, Document] = {}

    # ---- the port ---------------------------------------------------------------------

    async def start(self, reports: BackendReports) -> None:
        self._reports = reports

    async def close(self) -> None:
        tasks = list(self._tasks)
        for s in self._sessions.values():
            if s.task is not None:
                tasks.append(s.task)
        for r in self._reservations.values():
            if r.task is not None:
                tasks.append(r.task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def handle_command(self, command: ChargerCommand) -> None:
        self._take()
        if self.settings.silent:
            return
        self._spawn(self._command(command), f"command {command.id}")

    async def handle_profile(self, request: ProfileRequest) -> None:
        self._take()
        if self.settings.silent:
            return
        self._spawn(self._profile(request), f"profile request {request.id}")

    async def idle(self) -> None:
        """Wait until every command and request taken so far has been answered (tests;
        running sessions go on)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def running(self) -> list[str]:
        """Ids of the sessions charging now."""
        return [s.id for s in self._sessions.values()]

    # ---- plumbing ---------------------------------------------------------------------

    @property
    def reports(self) -> BackendReports:
        if self._reports is None:
            raise BackendError("the simulator is not started")
        return self._reports

    def _take(self) -> None:
        if self._reports is None:
            raise BackendError("the simulator is not started")

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guarded(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _guarded(work: Awaitable[None], what: str) -> None:
        """A report the node refuses is logged, never raised into the void of a task."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except DomainError as exc:
            log.warning("simulator: %s: the node refused a report: %s", what, exc)
        except Exception:
            log.exception("simulator: %s failed", what)

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # ---- commands ---------------------------------------------------------------------

    async def _command(self, command: ChargerCommand) -> None:
        if not self.settings.accept:
            await self.reports.command_result(
                command.id, CommandResultType.REJECTED, "the charger rejected the command"
            )
            return
        handlers = {
            CommandType.START_SESSION: self._start_session,
            CommandType.STOP_SESSION: self._stop_session,
            CommandType.RESERVE_NOW: self._reserve_now,
            CommandType.CANCEL_RESERVATION: self._cancel_reservation,
            CommandType.UNLOCK_CONNECTOR: self._unlock,
        }
        await handlers[command.type](command)

    async def _result(
        self, command: ChargerCommand, result: CommandResultType, message: str | None = None
    ) -> None:
        await self.reports.command_result(command.id, result, message)

    async def _start_session(self, c: ChargerCommand) -> None:
        token = c.token or {}
        reference = c.authorization_reference
        if self.settings.authorize:
            try:
                auth = await self.reports.authorize(
                    str(token.get("uid", "")),
                    str(token.get("type", "RFID")),
                    c.location_id,
                    [c.evse_uid] if c.evse_uid else None,
                    party=_token_party(token),
                )
            except DomainError as exc:
                await self._result(c, CommandResultType.REJECTED, f"not authorized: {exc}")
                return
            if auth.allowed != "ALLOWED":
                await self._result(c, CommandResultType.REJECTED, f"token {auth.allowed}")
                return
            reference = auth.authorization_reference or reference
        picked = await self._pick(c, c.location_id, c.evse_uid, token)
        if picked is None:
            return
        location, evse, reservation = picked
        connector = _connector(evse, c.connector_id)
        if connector is None:
            await self._result(c, CommandResultType.REJECTED, "unknown connector")
            return
        now = self._now()
        tariff = await self._tariff(c.party, connector, now)
        session_id = str(uuid.uuid4())
        doc: Document = {
            "country_code": c.party[0],
            "party_id": c.party[1],
            "id": session_id,
            "start_date_time": format_datetime(now),
            "kwh": 0,
            "cdr_token": _cdr_token(token),
            "auth_method": "COMMAND",
            "location_id": location["id"],
            "evse_uid": evse["uid"],
            "connector_id": connector["id"],
            "currency": str(tariff.get("currency", "EUR")) if tariff else "EUR",
            "status": "ACTIVE",
            "last_updated": format_datetime(now),
        }
        if reference:
            doc["authorization_reference"] = reference
        session = _Session(
            doc=doc,
            party=c.party,
            location=location,
            evse=evse,
            connector=connector,
            tariff=tariff,
            tz=_zone(location.get("time_zone")),
            power_kw=_power_kw(connector, self.settings.power_kw),
            last=now,
        )
        if tariff is not None:
            doc["total_cost"] = self._price(session).total_cost.to_document()
        busy = (c.party, _key(str(location["id"])), _key(str(evse["uid"])))
        self._busy[busy] = session_id
        self._sessions[(c.party, _key(session_id))] = session
        if reservation is not None:
            self._drop_reservation(reservation)
        await self._result(c, CommandResultType.ACCEPTED)
        await self.reports.evse_status(c.party, location["id"], evse["uid"], "CHARGING", now)
        await self.reports.session_started(doc)
        session.task = asyncio.create_task(
            self._guarded(self._charge(session), f"session {session_id}")
        )

    async def _pick(
        self,
        c: ChargerCommand,
        location_id: str | None,
        evse_uid: str | None,
        token: Document,
    ) -> tuple[Document, Document, tuple[tuple[str, str], str] | None] | None:
        """The Location and the EVSE a command is for, answering the command itself when
        there is none or it cannot be used; with the key of the token's own reservation
        of that EVSE, which a session started on it consumes."""
        location = await self.reports.location(c.party, location_id or "")
        if location is None:
            await self._result(c, CommandResultType.REJECTED, "unknown location")
            return None
        evses = [e for e in location.get("evses") or [] if isinstance(e, dict)]
        if evse_uid is not None:
            evse = next((e for e in evses if _key(str(e.get("uid"))) == _key(evse_uid)), None)
            if evse is None:
                await self._result(c, CommandResultType.REJECTED, "unknown EVSE")
                return None
        else:
            evse = next(
                (e for e in evses if e.get("status") == "AVAILABLE" and not self._in_use(c, e)),
                None,
            )
            if evse is None:
                await self._result(
                    c, CommandResultType.EVSE_OCCUPIED, "no EVSE of the location is available"
                )
                return None
        mine = self._reservation_of(c, location, evse, token)
        status = str(evse.get("status"))
        if self._in_use(c, evse) or (status in OCCUPIED and mine is None):
            await self._result(c, CommandResultType.EVSE_OCCUPIED)
            return None
        if status not in OCCUPIED and status != "AVAILABLE":
            await self._result(c, CommandResultType.EVSE_INOPERATIVE, f"EVSE is {status}")
            return None
        return location, evse, mine

    def _in_use(self, c: ChargerCommand, evse: Document) -> bool:
        """A session of ours runs on the EVSE (whatever the stored status says)."""
        uid = _key(str(evse.get("uid")))
        return any(party == c.party and e == uid for (party, _, e) in self._busy)

    def _reservation_of(
        self, c: ChargerCommand, location: Document, evse: Document, token: Document
    ) -> tuple[tuple[str, str], str] | None:
        """The token's own reservation of this EVSE, if it holds one."""
        for key, r in self._reservations.items():
            if (
                key[0] == c.emsp
                and r.party == c.party
                and _key(r.location_id) == _key(str(location["id"]))
                and _key(r.evse_uid) == _key(str(evse["uid"]))
                and r.token is not None
                and _key(str(r.token.get("uid"))) == _key(str(token.get("uid")))
            ):
                return key
        return None

    async def _tariff(
        self, party: tuple[str, str], connector: Document, at: datetime
    ) -> Document | None:
        """The first of the connector's tariffs that is valid when the session starts."""
        for tariff_id in connector.get("tariff_ids") or []:
            tariff = await self.reports.tariff(party, str(tariff_id))
            if tariff is not None and tariff_applies(tariff, at):
                return tariff
        return None

    async def _stop_session(self, c: ChargerCommand) -> None:
        session = self._sessions.get((c.party, _key(c.session_id or "")))
        if session is None:
            await self._result(c, CommandResultType.REJECTED, "unknown session")
            return
        async with session.lock:
            if session.stopped:
                await self._result(c, CommandResultType.REJECTED, "session already stopped")
                return
            session.stopped = True
            if session.task is not None:
                session.task.cancel()
        await self._result(c, CommandResultType.ACCEPTED)
        await self._end(session)

    async def _reserve_now(self, c: ChargerCommand) -> None:
        key = (c.emsp, _key(c.reservation_id or ""))
        previous = self._reservations.get(key)
        if previous is not None:
            # The same reservation id again replaces the reservation (mod_commands
            # §ReserveNow): free its EVSE first.
            self._drop_reservation(key)
            await self.reports.evse_status(
                previous.party, previous.location_id, previous.evse_uid, "AVAILABLE", self._now()
            )
        picked = await self._pick(c, c.location_id, c.evse_uid, c.token or {})
        if picked is None:
            return
        location, evse, _ = picked
        reservation = _Reservation(c.party, str(location["id"]), str(evse["uid"]), c.token)
        self._reservations[key] = reservation
        await self._result(c, CommandResultType.ACCEPTED)
        await self.reports.evse_status(
            c.party, location["id"], evse["uid"], "RESERVED", self._now()
        )
        if c.expiry_date is not None:
            reservation.task = asyncio.create_task(
                self._guarded(self._expire(key, reservation, c.expiry_date), f"reservation {key}")
            )

    async def _expire(
        self, key: tuple[tuple[str, str], str], reservation: _Reservation, at: datetime
    ) -> None:
        await self.sleep(max(0.0, (at - self._now()).total_seconds()))
        if self._reservations.get(key) is reservation:
            del self._reservations[key]
            await self.reports.evse_status(
                reservation.party,
                reservation.location_id,
                reservation.evse_uid,
                "AVAILABLE",
                self._now(),
            )

    def _drop_reservation(self, key: tuple[tuple[str, str], str]) -> None:
        reservation = self._reservations.pop(key, None)
        if reservation is not None and reservation.task is not None:
            reservation.task.cancel()

    async def _cancel_reservation(self, c: ChargerCommand) -> None:
        key = (c.emsp, _key(c.reservation_id or ""))
        reservation = self._reservations.get(key)
        if reservation is None or reservation.party != c.party:
            await self._result(c, CommandResultType.UNKNOWN_RESERVATION)
            return
        self._drop_reservation(key)
        await self._result(c, CommandResultType.ACCEPTED)
        await self.reports.evse_status(
            c.party, reservation.location_id, reservation.evse_uid, "AVAILABLE", self._now()
        )

    async def _unlock(self, c: ChargerCommand) -> None:
        await self._result(c, CommandResultType.ACCEPTED)

    # ---- a running session ------------------------------------------------------------

    async def _charge(self, session: _Session) -> None:
        """Report the session's progress every ``step_seconds`` until it is stopped."""
        while True:
            await self.sleep(self.settings.step_seconds)
            async with session.lock:
                if session.stopped:
                    return
                priced = self._advance(session)
                patch: Document = {
                    "kwh": _number(priced.total_energy),
                    "last_updated": format_datetime(session.last),
                }
                if session.tariff is not None:
                    patch["total_cost"] = priced.total_cost.to_document()
                # A PATCH appends charging periods: send each once it is complete.
                done = priced.charging_periods[:-1]
                if len(done) > session.periods_sent:
                    patch["charging_periods"] = done[session.periods_sent :]
                    session.periods_sent = len(done)
                await self.reports.session_updated(session.party, session.id, patch)

    def _advance(self, session: _Session) -> PricedSession:
        """Add the time since the last step, at the power the session may draw now."""
        now = self._now()
        if now > session.last:
            power = _limited(session.power_kw, self._profiles.get(_key(session.id)), session)
            # Exact: a float sum of many steps would cross a Wh step and cost a cent more.
            elapsed = now - session.last
            hours = Fraction(elapsed // timedelta(microseconds=1), 3_600_000_000)
            exact_power = Fraction(Decimal(repr(power)))
            # Billed is what the meter shows, in the resolution the session and CDR
            # report: a CDR whose cost cannot be worked out from its own total_energy
            # (1.04 Wh shown as 0.0010 kWh but billed as 2 Wh steps) fails an audit.
            session.delivered_kwh += exact_power * hours
            metered = math.floor(session.delivered_kwh / METER_KWH) * METER_KWH
            step_kwh = metered - session.metered_kwh
            session.metered_kwh = metered
            session.stretches.append(
                Stretch(
                    session.last,
                    now,
                    "CHARGING",
                    kwh=step_kwh,
                    power_kw=exact_power,
                    current_a=_current(power, session.connector),
                )
            )
            session.last = now
        return self._price(session)

    def _price(self, session: _Session) -> PricedSession:
        stretches = session.stretches or [Stretch(session.last, session.last)]
        tariff = session.tariff or {"elements": [{"price_components": []}]}
        return price_session(tariff, stretches, tz=session.tz)

    async def _end(self, session: _Session) -> None:
        """The session's end: its totals, the EVSE free again, and its CDR."""
        priced = self._advance(session)
        end = session.last
        self._sessions.pop((session.party, _key(session.id)), None)
        for key, sid in list(self._busy.items()):
            if sid == session.id:
                del self._busy[key]
        patch: Document = {
            "status": "COMPLETED",
            "end_date_time": format_datetime(end),
            "kwh": _number(priced.total_energy),
            "last_updated": format_datetime(end),
        }
        if session.tariff is not None:
            patch["total_cost"] = priced.total_cost.to_document()
        rest = priced.charging_periods[session.periods_sent :]
        if rest:
            patch["charging_periods"] = rest
        await self.reports.session_ended(session.party, session.id, patch)
        await self.reports.evse_status(
            session.party, session.location["id"], session.evse["uid"], "AVAILABLE", end
        )
        await self.reports.cdr(self._cdr(session, priced, end))

    def _cdr(self, session: _Session, priced: PricedSession, end: datetime) -> Document:
        doc = session.doc
        location, evse, connector = session.location, session.evse, session.connector
        cdr_location: Document = {
            "id": location["id"],
            "address": location.get("address", ""),
            "city": location.get("city", ""),
            "country": location.get("country", ""),
            "coordinates": location.get("coordinates", {}),
            "evse_uid": evse["uid"],
            "evse_id": evse.get("evse_id") or evse["uid"],
            "connector_id": connector["id"],
            "connector_standard": connector.get("standard"),
            "connector_format": connector.get("format"),
            "connector_power_type": connector.get("power_type"),
        }
        for name in ("name", "postal_code", "state"):
            if location.get(name) is not None:
                cdr_location[name] = location[name]
        periods = priced.charging_periods or [
            {
                "start_date_time": doc["start_date_time"],
                "dimensions": [{"type": "TIME", "volume": 0}],
            }
        ]
        cdr: Document = {
            "country_code": doc["country_code"],
            "party_id": doc["party_id"],
            "id": str(uuid.uuid4()),
            "start_date_time": doc["start_date_time"],
            "end_date_time": format_datetime(end),
            "session_id": doc["id"],
            "cdr_token": doc["cdr_token"],
            "auth_method": doc["auth_method"],
            "cdr_location": cdr_location,
            "currency": doc["currency"],
            "charging_periods": periods,
            **priced.cdr_fields(),
            "last_updated": format_datetime(end),
        }
        if session.tariff is not None:
            cdr["tariffs"] = [session.tariff]
        else:
            cdr["total_cost"] = {"excl_vat": 0, "incl_vat": 0}  # no tariff: nothing to pay
        if doc.get("authorization_reference"):
            cdr["authorization_reference"] = doc["authorization_reference"]
        return cdr

    # ---- charging profiles ------------------------------------------------------------

    async def _profile(self, request: ProfileRequest) -> None:
        reports = self.reports
        if not self.settings.accept:
            await reports.profile_result(request.id, ChargingProfileResultType.REJECTED)
            return
        sid = _key(request.session_id)
        session = self._sessions.get((request.party, sid))
        if request.type == ProfileRequestType.SET:
            if request.profile is None:
                await reports.profile_result(request.id, ChargingProfileResultType.REJECTED)
                return
            self._profiles[sid] = request.profile
            await reports.profile_result(request.id, ChargingProfileResultType.ACCEPTED)
            await reports.active_profile_changed(
                request.party, request.session_id, self._active(session, request.profile)
            )
        elif request.type == ProfileRequestType.GET_ACTIVE:
            active = self._active(session, self._profiles.get(sid), request.duration_s)
            await reports.profile_result(request.id, ChargingProfileResultType.ACCEPTED, active)
        else:
            had = self._profiles.pop(sid, None)
            await reports.profile_result(request.id, ChargingProfileResultType.ACCEPTED)
            if had is not None:
                await reports.active_profile_changed(
                    request.party, request.session_id, self._active(session, None)
                )

    def _active(
        self, session: _Session | None, profile: Document | None, duration_s: int | None = None
    ) -> Document:
        """The ActiveChargingProfile: the kept profile, else the connector's full power."""
        if profile is None:
            power_w = 1000 * (session.power_kw if session else self.settings.power_kw)
            profile = {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": round(power_w, 1)}],
            }
        profile = dict(profile)
        if duration_s is not None:
            profile["duration"] = duration_s
        return {"start_date_time": format_datetime(self._now()), "charging_profile": profile}


# ---- helpers ------------------------------------------------------------------------


def _connector(evse: Document, connector_id: str | None) -> Document | None:
    connectors = [c for c in evse.get("connectors") or [] if isinstance(c, dict)]
    if connector_id is None:
        return connectors[0] if connectors else None
    return next((c for c in connectors if _key(str(c.get("id"))) == _key(connector_id)), None)


def _cdr_token(token: Document) -> Document:
    return {
        "country_code": token.get("country_code"),
        "party_id": token.get("party_id"),
        "uid": token.get("uid"),
        "type": token.get("type"),
        "contract_id": token.get("contract_id"),
    }


def _zone(name: Any) -> tzinfo:
    try:
        return ZoneInfo(str(name)) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _power_kw(connector: Document, default: float) -> float:
    watts = connector.get("max_electric_power")
    if isinstance(watts, int | float) and watts > 0:
        return float(watts) / 1000
    return default


def _current(power_kw: float, connector: Document) -> float | None:
    """Amperes summed over the phases, for current restrictions of a tariff."""
    volts = connector.get("max_voltage")
    if not isinstance(volts, int | float) or volts <= 0:
        return None
    return power_kw * 1000 / volts


def _limited(power_kw: float, profile: Document | None, session: _Session) -> float:
    """The power an active charging profile allows now (its first period; W, or A per
    phase), never above the connector's."""
    if not profile:
        return power_kw
    periods = profile.get("charging_profile_period") or []
    if not periods or not isinstance(periods[0], dict):
        return power_kw
    limit = periods[0].get("limit")
    if not isinstance(limit, int | float) or limit < 0:
        return power_kw
    if profile.get("charging_rate_unit") == "A":
        volts = session.connector.get("max_voltage")
        phases = PHASES.get(str(session.connector.get("power_type")), 1)
        if not isinstance(volts, int | float):
            return power_kw
        return min(power_kw, limit * volts * phases / 1000)
    return min(power_kw, limit / 1000)


#: The simulated meter's resolution: 0.1 Wh, the four decimals of kWh a Session's
#: ``kwh`` and a CDR's ``total_energy`` carry.
METER_KWH = Fraction(1, 10_000)


def _number(value: Any) -> float | int:
    f = float(value)
    return int(f) if f.is_integer() else f


def _token_party(token: Document) -> tuple[str, str] | None:
    """The owner of a command's token (its country_code/party_id): the eMSP to ask."""
    cc, pid = token.get("country_code"), token.get("party_id")
    if isinstance(cc, str) and isinstance(pid, str) and cc and pid:
        return (cc.upper(), pid.upper())
    return None
