"""The price of a charging session under an OCPI 2.2.1 Tariff (mod_tariffs §"Tariff
Object", §PriceComponent, §TariffRestrictions).

Why here: a CPO node that runs its chargers through the simulator (issue 10) must put a
``total_cost`` into each session update and a CDR whose cost follows the connector's
tariff; and a tariff's meaning (which element applies when, how steps round) is a rule
of the protocol, not of the simulator. Pure: canonical documents in, exact ``Decimal``
amounts out, no I/O, no clock.

What a session is, for pricing: a list of :class:`Stretch` (each a span of time with
one state: CHARGING, PARKING, or a RESERVATION / RESERVATION_EXPIRES before it, the
energy it delivered and the power or current it ran at). Each stretch is cut where any
restriction of the tariff can change (a time of day, a local midnight, a session
duration, an amount of energy, energy being spread evenly over its stretch), and each
piece is priced per dimension by the first element, in list order, that has a
component of that dimension and whose restrictions all hold at the piece's start.
A dimension no element matches is free.

Rules taken from the spec, and the choices where it is silent or contradicts itself:

* ``step_size`` rounds each dimension's session total up once, by the step of the last
  component that dimension was priced with; the rounded-up remainder is billed at that
  component's price (ENERGY in Wh, TIME and PARKING_TIME in seconds). TIME and
  PARKING_TIME round separately: that gives the spec's complex example (8.75 / 12.50
  EUR), the parking example (11.25 EUR) and the step-size example #2 (1.30 EUR); its
  example #1 (0.50 EUR, two minutes of parking absorbed by the charging step) would need
  the opposite and contradicts the others, so it prices at 0.75 here.
* FLAT is billed once per phase (the reservation, the session), by the first element
  whose restrictions hold at the first piece where any FLAT element does.
* Elements with a ``reservation`` restriction price only reservation stretches (the
  spec allows FLAT and TIME there); an expired reservation prefers RESERVATION_EXPIRES
  elements and falls back to RESERVATION ones (§ReservationRestrictionType note).
* ``min_kwh``, ``min_duration``, ``min_power``, ``min_current``, ``start_time`` and
  ``start_date`` are inclusive; their ``max``/``end`` counterparts exclusive; an
  ``end_time`` before ``start_time`` runs past midnight; ``end_time`` "00:00" is the end of
  the day. A power or current restriction does not hold on a stretch whose power or
  current is unknown. Times and dates are local to the Location (``tz``).
* ``vat`` absent means no VAT is known for that component: a total that includes such
  a cost has no ``incl_vat`` (the spec's "first hour free" example says the same).
* ``min_price`` and ``max_price`` bound the total excluding VAT and including VAT
  independently (§"Tariff Object" notes); the per-dimension totals are not bounded.
* Amounts are rounded half-up to 4 decimals at the end only (OCPI has no rounding
  rule; CDR numbers carry at most 4 decimals).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal

from evroam.core.errors import InvalidInput
from evroam.core.objects import Document
from evroam.core.timestamps import format_timestamp

State = Literal["CHARGING", "PARKING", "RESERVATION", "RESERVATION_EXPIRES"]
RESERVATION_STATES = ("RESERVATION", "RESERVATION_EXPIRES")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
#: Dimensions with a volume: ``step_size`` unit and the volume per unit of measure.
SECONDS_PER_HOUR = 3600
WH_PER_KWH = 1000
CENT = Decimal("0.0001")
ZERO = Fraction(0)


def _fraction(value: Any, what: str) -> Fraction:
    """A JSON number as an exact fraction (floats through their shortest text, so 0.1
    stays 1/10)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise InvalidInput(f"{what}: a number is required, got {value!r}")
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _number(value: Fraction) -> float | int:
    """A volume or amount for a JSON document, 4 decimals at most."""
    d = _decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)


@dataclass(frozen=True, slots=True)
class Price:
    """OCPI 2.2.1 Price: ``incl_vat`` None when some cost in it has no VAT given."""

    excl_vat: Decimal
    incl_vat: Decimal | None

    def to_document(self) -> Document:
        doc: Document = {"excl_vat": _number(Fraction(self.excl_vat))}
        if self.incl_vat is not None:
            doc["incl_vat"] = _number(Fraction(self.incl_vat))
        return doc


@dataclass(frozen=True, slots=True)
class Stretch:
    """A span of a session in one state. ``kwh`` is what it delivered (spread evenly
    over it for kWh restrictions); ``power_kw``/``current_a`` what it ran at (None:
    unknown). ``start`` and ``end`` are aware datetimes; ``end`` may equal ``start``
    (energy counted with no time, as in the spec's examples)."""

    start: datetime
    end: datetime
    state: State = "CHARGING"
    kwh: float | Decimal | Fraction = 0
    power_kw: float | Decimal | Fraction | None = None
    current_a: float | Decimal | Fraction | None = None


@dataclass(slots=True)
class _Component:
    type: str
    price: Fraction
    vat: Fraction | None
    step: int


@dataclass(slots=True)
class _Element:
    index: int
    components: dict[str, _Component]
    restrictions: Document


@dataclass(slots=True)
class _Money:
    excl: Fraction = ZERO
    incl: Fraction | None = ZERO
    used: bool = False

    def add(self, amount: Fraction, vat: Fraction | None) -> None:
        self.used = True
        self.excl += amount
        if self.incl is not None:
            self.incl = None if vat is None else self.incl + amount * (1 + vat / 100)

    def add_money(self, other: _Money) -> None:
        if not other.used:
            return
        self.used = True
        self.excl += other.excl
        self.incl = None if self.incl is None or other.incl is None else self.incl + other.incl

    def price(self) -> Price:
        return Price(_decimal(self.excl), None if self.incl is None else _decimal(self.incl))


@dataclass(frozen=True, slots=True)
class PricedSession:
    """The price of a session: ``total_cost`` (min/max price applied), the totals of
    each dimension (None: not priced at all), the volumes, and the charging periods
    (canonical ChargingPeriod documents, a new one wherever the state or an active
    element changes, as mod_cdrs §ChargingPeriod asks)."""

    total_cost: Price
    fixed: Price | None
    energy: Price | None
    time: Price | None
    parking: Price | None
    reservation: Price | None
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal
    charging_periods: list[Document] = field(default_factory=list)

    def cdr_fields(self) -> Document:
        """The CDR's cost and volume fields (mod_cdrs §"CDR Object")."""
        doc: Document = {
            "total_cost": self.total_cost.to_document(),
            "total_energy": _number(Fraction(self.total_energy)),
            "total_time": _number(Fraction(self.total_time)),
        }
        if self.total_parking_time:
            doc["total_parking_time"] = _number(Fraction(self.total_parking_time))
        for name, price in (
            ("total_fixed_cost", self.fixed),
            ("total_energy_cost", self.energy),
            ("total_time_cost", self.time),
            ("total_parking_cost", self.parking),
            ("total_reservation_cost", self.reservation),
        ):
            if price is not None:
                doc[name] = price.to_document()
        return doc


def _parse(tariff: Document) -> list[_Element]:
    raw = tariff.get("elements")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("tariff: elements must be a non-empty list")
    elements: list[_Element] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("price_components"), list):
            raise InvalidInput(f"tariff: elements[{i}] has no price_components")
        components: dict[str, _Component] = {}
        for j, comp in enumerate(item["price_components"]):
            where = f"tariff: elements[{i}].price_components[{j}]"
            if not isinstance(comp, dict) or comp.get("type") not in (
                "ENERGY",
                "FLAT",
                "PARKING_TIME",
                "TIME",
            ):
                raise InvalidInput(f"{where}: unknown type")
            step = comp.get("step_size", 1)
            if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                raise InvalidInput(f"{where}.step_size: a non-negative integer is required")
            vat = comp.get("vat")
            # The first component of a dimension in an element is the one that counts.
            components.setdefault(
                comp["type"],
                _Component(
                    comp["type"],
                    _fraction(comp.get("price"), f"{where}.price"),
                    None if vat is None else _fraction(vat, f"{where}.vat"),
                    step,
                ),
            )
        restrictions = item.get("restrictions") or {}
        if not isinstance(restrictions, dict):
            raise InvalidInput(f"tariff: elements[{i}].restrictions must be an object")
        elements.append(_Element(i, components, restrictions))
    return elements


def _clock(text: Any, what: str) -> time:
    try:
        hour, minute = str(text).split(":")
        return time(int(hour), int(minute))
    except ValueError:
        raise InvalidInput(f"{what}: HH:MM expected, got {text!r}") from None


def _day(text: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise InvalidInput(f"{what}: YYYY-MM-DD expected, got {text!r}") from None


@dataclass(frozen=True, slots=True)
class _Moment:
    """What restrictions are judged on: the start of a piece."""

    local: datetime
    kwh: Fraction
    duration_s: Fraction
    state: State
    power_kw: Fraction | None
    current_a: Fraction | None


def _in_window(now: time, start: time | None, end: time | None) -> bool:
    begin = start or time(0, 0)
    if end is None or end == time(0, 0):
        return now >= begin  # up to the end of the day
    if end > begin:
        return begin <= now < end
    return now >= begin or now < end  # runs past midnight


def _holds(r: Document, m: _Moment, dimension: str) -> bool:
    """Do all of ``r``'s restrictions hold at ``m``? (They are ANDed.)"""
    reservation = r.get("reservation")
    if m.state in RESERVATION_STATES:
        if reservation is None or dimension not in ("FLAT", "TIME"):
            return False
    elif reservation is not None:
        return False
    if ("start_time" in r or "end_time" in r) and not _in_window(
        m.local.time(),
        _clock(r["start_time"], "start_time") if "start_time" in r else None,
        _clock(r["end_time"], "end_time") if "end_time" in r else None,
    ):
        return False
    today = m.local.date()
    if "start_date" in r and today < _day(r["start_date"], "start_date"):
        return False
    if "end_date" in r and today >= _day(r["end_date"], "end_date"):
        return False
    days = r.get("day_of_week")
    if days and DAYS[m.local.weekday()] not in days:
        return False
    bounds: tuple[tuple[str, str, Fraction | None], ...] = (
        ("min_kwh", "max_kwh", m.kwh),
        ("min_duration", "max_duration", m.duration_s),
        ("min_power", "max_power", m.power_kw),
        ("min_current", "max_current", m.current_a),
    )
    for low, high, value in bounds:
        if low not in r and high not in r:
            continue
        if value is None:
            return False
        if low in r and value < _fraction(r[low], low):
            return False
        if high in r and value >= _fraction(r[high], high):
            return False
    return True


def _pick(elements: Sequence[_Element], dimension: str, m: _Moment) -> _Element | None:
    """The first element pricing ``dimension`` whose restrictions hold; for an expired
    reservation, RESERVATION_EXPIRES elements before RESERVATION ones."""
    candidates = [e for e in elements if dimension in e.components]
    if m.state == "RESERVATION_EXPIRES":
        expiring = [e for e in candidates if e.restrictions.get("reservation") == m.state]
        for e in expiring:
            if _holds(e.restrictions, m, dimension):
                return e
        candidates = [e for e in candidates if e.restrictions.get("reservation") == "RESERVATION"]
        m = _Moment(m.local, m.kwh, m.duration_s, "RESERVATION", m.power_kw, m.current_a)
    elif m.state == "RESERVATION":
        candidates = [e for e in candidates if e.restrictions.get("reservation") == m.state]
    for e in candidates:
        if _holds(e.restrictions, m, dimension):
            return e
    return None


def _local_cuts(
    start: datetime, end: datetime, tz: tzinfo, elements: Sequence[_Element]
) -> Iterable[datetime]:
    """Instants in (start, end) where a time-of-day, date or weekday restriction can
    change: local midnights and every element's start_time/end_time on each day."""
    clocks = {time(0, 0)}
    for e in elements:
        for name in ("start_time", "end_time"):
            if name in e.restrictions:
                clocks.add(_clock(e.restrictions[name], name))
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        for c in clocks:
            instant = datetime.combine(day, c, tzinfo=tz).astimezone(UTC)
            if start < instant < end:
                yield instant
        day += timedelta(days=1)


def _us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(slots=True)
class _Dimension:
    """The running account of one dimension (ENERGY, TIME, PARKING_TIME, or TIME of a
    reservation): volume in step units, money, and the last component used."""

    unit: int  # step units per unit of measure (Wh per kWh, seconds per hour)
    volume: Fraction = ZERO  # in step units (Wh, seconds)
    money: _Money = field(default_factory=_Money)
    last: _Component | None = None

    def bill(self, component: _Component, volume: Fraction) -> None:
        self.volume += volume
        self.money.add(component.price * volume / self.unit, component.vat)
        self.last = component

    def round_up(self) -> None:
        """Bill up to the next whole step of the last component used (once, at the end)."""
        if self.last is None or self.last.step <= 0:
            return
        step = self.last.step
        whole = Fraction(math.ceil(self.volume / step) * step)
        if whole > self.volume:
            extra = whole - self.volume
            self.money.add(self.last.price * extra / self.unit, self.last.vat)
            self.volume = whole


def price_session(
    tariff: Document, stretches: Sequence[Stretch], *, tz: tzinfo = UTC
) -> PricedSession:
    """Price ``stretches`` (in time order) under ``tariff`` (canonical 2.2.1 Tariff);
    ``tz``: the Location's ``time_zone``, in which time and date restrictions are read.
    Raises InvalidInput for a tariff it cannot read."""
    elements = _parse(tariff)
    energy = _Dimension(WH_PER_KWH)
    charging = _Dimension(SECONDS_PER_HOUR)
    parking = _Dimension(SECONDS_PER_HOUR)
    reserving = _Dimension(SECONDS_PER_HOUR)
    fixed, reservation_fixed = _Money(), _Money()
    flat_done: set[str] = set()  # phases whose FLAT is billed: "session", "reservation"
    periods: list[Document] = []
    period_key: tuple[Any, ...] | None = None
    kwh_total = ZERO
    phase_start: dict[str, datetime] = {}
    hours = {"TIME": ZERO, "PARKING": ZERO}

    for stretch in stretches:
        if stretch.end < stretch.start:
            raise InvalidInput("a stretch ends before it starts")
        phase = "reservation" if stretch.state in RESERVATION_STATES else "session"
        began = phase_start.setdefault(phase, stretch.start)
        span_us = _us(stretch.end - stretch.start)
        kwh = _fraction(stretch.kwh, "kwh")
        power = None if stretch.power_kw is None else _fraction(stretch.power_kw, "power_kw")
        current = None if stretch.current_a is None else _fraction(stretch.current_a, "current_a")
        # Where restrictions can change, as fractions of the stretch.
        cuts: set[Fraction] = {ZERO, Fraction(1)}
        if span_us > 0:
            for instant in _local_cuts(stretch.start, stretch.end, tz, elements):
                cuts.add(Fraction(_us(instant - stretch.start), span_us))
            for e in elements:
                for name in ("min_duration", "max_duration"):
                    if name in e.restrictions:
                        cut_us = _fraction(e.restrictions[name], name) * 1_000_000 - _us(
                            stretch.start - began
                        )
                        if 0 < cut_us < span_us:
                            cuts.add(cut_us / span_us)
        if kwh > 0 and phase == "session":
            for e in elements:
                for name in ("min_kwh", "max_kwh"):
                    if name in e.restrictions:
                        cut_kwh = _fraction(e.restrictions[name], name) - kwh_total
                        if 0 < cut_kwh < kwh:
                            cuts.add(cut_kwh / kwh)
        ordered = sorted(cuts)
        for f0, f1 in zip(ordered, ordered[1:], strict=False):
            piece_us = Fraction(span_us) * (f1 - f0)
            piece_kwh = kwh * (f1 - f0)
            at = stretch.start + timedelta(microseconds=math.floor(span_us * f0))
            moment = _Moment(
                local=at.astimezone(tz),
                kwh=kwh_total,
                duration_s=Fraction(_us(at - began), 1_000_000),
                state=stretch.state,
                power_kw=power if stretch.state == "CHARGING" else power or ZERO,
                current_a=current if stretch.state == "CHARGING" else current or ZERO,
            )
            seconds = piece_us / 1_000_000
            active: list[_Element | None] = []
            if phase not in flat_done:
                flat = _pick(elements, "FLAT", moment)
                if flat is not None:
                    flat_done.add(phase)
                    target = reservation_fixed if phase == "reservation" else fixed
                    comp = flat.components["FLAT"]
                    target.add(comp.price, comp.vat)
            if stretch.state == "CHARGING":
                e_energy = _pick(elements, "ENERGY", moment)
                e_time = _pick(elements, "TIME", moment)
                if e_energy is not None:
                    energy.bill(e_energy.components["ENERGY"], piece_kwh * WH_PER_KWH)
                if e_time is not None:
                    charging.bill(e_time.components["TIME"], seconds)
                active = [e_energy, e_time]
                hours["TIME"] += seconds / SECONDS_PER_HOUR
                dims = [("ENERGY", piece_kwh), ("TIME", seconds / SECONDS_PER_HOUR)]
            elif stretch.state == "PARKING":
                e_park = _pick(elements, "PARKING_TIME", moment)
                if e_park is not None:
                    parking.bill(e_park.components["PARKING_TIME"], seconds)
                active = [e_park]
                hours["PARKING"] += seconds / SECONDS_PER_HOUR
                dims = [("PARKING_TIME", seconds / SECONDS_PER_HOUR)]
            else:
                e_res = _pick(elements, "TIME", moment)
                if e_res is not None:
                    reserving.bill(e_res.components["TIME"], seconds)
                active = [e_res]
                dims = [("RESERVATION_TIME", seconds / SECONDS_PER_HOUR)]
            kwh_total += piece_kwh if phase == "session" else ZERO
            key = (stretch.state, tuple(None if e is None else e.index for e in active))
            if piece_us == 0 and piece_kwh == 0:
                continue
            if key != period_key or not periods:
                periods.append(
                    {
                        "start_date_time": format_timestamp(at),
                        "dimensions": {name: ZERO for name, _ in dims},
                    }
                )
                period_key = key
            acc = periods[-1]["dimensions"]
            for name, volume in dims:
                acc[name] = acc.get(name, ZERO) + volume

    for dim in (energy, charging, parking, reserving):
        dim.round_up()
    total = _Money()
    for money in (fixed, energy.money, charging.money, parking.money):
        total.add_money(money)
    reservation_money = _Money()
    reservation_money.add_money(reservation_fixed)
    reservation_money.add_money(reserving.money)
    total.add_money(reservation_money)
    total_price = _bounded(tariff, total)
    tariff_id = tariff.get("id")
    for period in periods:
        dims_acc: dict[str, Fraction] = period["dimensions"]
        # A dimension with no volume says nothing (ENERGY while the car draws none).
        kept = {n: v for n, v in dims_acc.items() if v} or dict(list(dims_acc.items())[:1])
        period["dimensions"] = [{"type": n, "volume": _number(v)} for n, v in kept.items()]
        if isinstance(tariff_id, str):
            period["tariff_id"] = tariff_id
    return PricedSession(
        total_cost=total_price,
        fixed=fixed.price() if fixed.used else None,
        energy=energy.money.price() if energy.money.used else None,
        time=charging.money.price() if charging.money.used else None,
        parking=parking.money.price() if parking.money.used else None,
        reservation=reservation_money.price() if reservation_money.used else None,
        total_energy=_decimal(kwh_total),
        total_time=_decimal(hours["TIME"] + hours["PARKING"]),
        total_parking_time=_decimal(hours["PARKING"]),
        charging_periods=periods,
    )


def _bounded(tariff: Document, total: _Money) -> Price:
    """``min_price`` and ``max_price``: excl. and incl. VAT bound independently."""
    excl, incl = total.excl, total.incl
    for name, keep in (("min_price", max), ("max_price", min)):
        bound = tariff.get(name)
        if not isinstance(bound, dict):
            continue
        if "excl_vat" in bound:
            excl = keep(excl, _fraction(bound["excl_vat"], f"{name}.excl_vat"))
        if incl is not None and "incl_vat" in bound:
            incl = keep(incl, _fraction(bound["incl_vat"], f"{name}.incl_vat"))
    return Price(_decimal(excl), None if incl is None else _decimal(incl))


def tariff_applies(tariff: Document, at: datetime) -> bool:
    """Whether ``tariff`` is valid at ``at`` (its ``start_date_time``/``end_date_time``):
    of a connector's tariffs, the session is priced by one valid when it starts."""
    for name, after in (("start_date_time", False), ("end_date_time", True)):
        value = tariff.get(name)
        if isinstance(value, str):
            bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if bound.tzinfo is None:
                bound = bound.replace(tzinfo=UTC)
            if (at >= bound) if after else (at < bound):
                return False
    return True
