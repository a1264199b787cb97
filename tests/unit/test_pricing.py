"""Session prices under OCPI 2.2.1 Tariffs (``core/pricing.py``).

The spec's own tariff examples (read from /work/shared/ocpi, skipped with the reason when
that copy is absent) are priced against the totals mod_tariffs states for them; the
restrictions and rules the examples do not reach are checked on small tariffs built
here, each with the amount worked out by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from evroam.core.errors import InvalidInput
from evroam.core.pricing import Price, Stretch, price_session, tariff_applies

EXAMPLES = Path("/work/shared/ocpi/examples/2.2.1")
MONDAY = datetime(2015, 6, 29, tzinfo=UTC)
SATURDAY = datetime(2015, 7, 4, tzinfo=UTC)


def example(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"the OCPI 2.2.1 example {path} is not available on this machine")
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def at(day: datetime, hh: int, mm: int = 0) -> datetime:
    return day.replace(hour=hh, minute=mm)


def charge(start: datetime, minutes: float, kwh: float = 0, **kw: Any) -> Stretch:
    return Stretch(start, start + timedelta(minutes=minutes), "CHARGING", kwh=kwh, **kw)


def park(start: datetime, minutes: float) -> Stretch:
    return Stretch(start, start + timedelta(minutes=minutes), "PARKING")


def price(excl: str, incl: str | None) -> Price:
    return Price(Decimal(excl), None if incl is None else Decimal(incl))


def tariff(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "T", "currency": "EUR", "elements": list(elements), **extra}


def element(
    kind: str, amount: float, step: int = 1, vat: float | None = None, **r: Any
) -> dict[str, Any]:
    comp: dict[str, Any] = {"type": kind, "price": amount, "step_size": step}
    if vat is not None:
        comp["vat"] = vat
    out: dict[str, Any] = {"price_components": [comp]}
    if r:
        out["restrictions"] = r
    return out


# ---- the spec's examples --------------------------------------------------------------


def test_cdr_example_time_billed_in_five_minute_steps() -> None:
    cdr = example("cdr_example.json")
    start = datetime(2015, 6, 29, 21, 39, 9, tzinfo=UTC)
    priced = price_session(cdr["tariffs"][0], [charge(start, 1.973 * 60, kwh=15.342)])
    assert priced.total_cost == price("4.00", "4.40")
    assert priced.time == price("4.00", "4.40")
    fields = priced.cdr_fields()
    assert fields["total_cost"] == cdr["total_cost"]
    assert fields["total_time_cost"] == cdr["total_time_cost"]
    assert fields["total_energy"] == cdr["total_energy"]


@pytest.mark.parametrize(
    "name, kwh, expected",
    [
        ("tariff_8_simple_025kwh.json", 20, ("5.00", "5.50")),
        ("tariff_9_025kwh_start.json", 20, ("5.50", "6.10")),
        ("tariff_12_025kwh_min_price.json", 20, ("5.00", "5.50")),
        ("tariff_12_025kwh_min_price.json", 1, ("0.50", "0.55")),  # the minimum price
        ("tariff_6_025kwh_start_max_price.json", 50, ("10.00", "11.00")),  # the maximum
        ("tariff_6_025kwh_start_max_price.json", 30, ("8.00", "8.85")),
    ],
)
def test_energy_examples(name: str, kwh: float, expected: tuple[str, str]) -> None:
    start = at(datetime(2019, 1, 2, tzinfo=UTC), 10)
    priced = price_session(example(name), [charge(start, 60, kwh=kwh)])
    assert priced.total_cost == price(*expected)


def test_parking_billed_per_fifteen_minutes_with_start_fee() -> None:
    start = at(MONDAY, 10)
    priced = price_session(
        example("tariff_10_025kwh_parking_start.json"),
        [charge(start, 60, kwh=20), park(start + timedelta(hours=1), 40)],
    )
    assert priced.total_cost == price("7.00", "7.90")
    assert priced.parking is not None and priced.parking.excl_vat == Decimal("1.50")


def test_time_tariffs() -> None:
    start = at(MONDAY, 10)
    assert price_session(
        example("tariff_1_simple_2hour.json"), [charge(start, 150)]
    ).total_cost == price("5.00", "5.50")
    both = price_session(
        example("tariff_13_simple_3hour_5parking.json"),
        [charge(start, 150), park(start + timedelta(minutes=150), 42)],
    )
    assert both.total_cost == price("11.25", "12.75")


def test_complex_tariff_on_a_monday_and_a_saturday() -> None:
    t = example("tariff_4_complex.json")
    monday = at(MONDAY, 9, 30)
    weekday = price_session(
        t, [charge(monday, 147, kwh=10, current_a=16), park(monday + timedelta(minutes=147), 42)]
    )
    assert weekday.total_cost == price("8.75", "10.00")
    saturday = at(SATURDAY, 13, 30)
    weekend = price_session(
        t,
        [charge(saturday, 114, kwh=10, current_a=43), park(saturday + timedelta(minutes=114), 71)],
    )
    assert weekend.total_cost == price("12.50", "14.125")  # the spec rounds to 14,13


def test_step_size_when_the_element_changes() -> None:
    """mod_tariffs step_size examples #2 and "switching to Free-of-Charge" (example #1
    contradicts the complex example's parking rounding; see the module docstring)."""
    t = example("tariff_14_step_size.json")
    day = datetime(2018, 12, 18, tzinfo=UTC)
    assert price_session(t, [charge(at(day, 16, 35), 35)]).total_cost == price("1.30", None)
    late = at(day, 19, 55)
    free_parking = price_session(t, [charge(late, 10), park(late + timedelta(minutes=10), 2)])
    assert free_parking.total_cost == price("0.60", None)
    assert free_parking.parking is None  # no element prices parking after 20:00


def test_first_hour_parking_and_first_kwh_free_without_vat() -> None:
    start = at(MONDAY, 10)
    priced = price_session(
        example("tariff_7_first_hour_kwh_free.json"),
        [Stretch(start, start, kwh=20), park(start, 165)],
    )
    assert priced.total_cost == price("7.30", None)  # no VAT given: no incl_vat


def test_max_power_restriction() -> None:
    start = at(MONDAY, 10)
    priced = price_session(
        example("tariffrestriction_example_max_power.json"),
        [
            charge(start, 10, kwh=1, power_kw=6),
            charge(start + timedelta(minutes=10), 50, kwh=40, power_kw=48),
            charge(start + timedelta(minutes=60), 7.5, kwh=0.5, power_kw=4),
        ],
    )
    assert priced.total_cost.excl_vat == Decimal("20.30")


@pytest.mark.parametrize(
    "name, reserved_min, expected",
    [
        ("tariff_15_reservation_5_euro_per_hour.json", 15, ("6.75", "7.60")),
        ("tariff_16_reservation_2_euro_fee_5_euro_per_hour.json", 13, ("8.75", "10.00")),
        ("tariff_17_reservation_with_expire_fee.json", 22, ("6.50", "7.30")),
        ("tariff_18_reservation_with_expire_time.json", 22, ("7.00", "7.90")),
    ],
)
def test_reservation_then_session(name: str, reserved_min: int, expected: tuple[str, str]) -> None:
    start = at(MONDAY, 10)
    reserved = Stretch(start - timedelta(minutes=reserved_min), start, "RESERVATION")
    priced = price_session(example(name), [reserved, charge(start, 60, kwh=20)])
    assert priced.total_cost == price(*expected)
    assert priced.reservation is not None


@pytest.mark.parametrize(
    "name, hours, expected",
    [
        ("tariff_17_reservation_with_expire_fee.json", 1, ("6.00", "7.20")),
        ("tariff_18_reservation_with_expire_time.json", 1.5, ("9.00", "10.80")),
    ],
)
def test_expired_reservation(name: str, hours: float, expected: tuple[str, str]) -> None:
    start = at(MONDAY, 10)
    expired = Stretch(start, start + timedelta(hours=hours), "RESERVATION_EXPIRES")
    assert price_session(example(name), [expired]).total_cost == price(*expected)


# ---- rules the examples do not reach --------------------------------------------------


def test_energy_step_rounds_up_the_session_total() -> None:
    """mod_tariffs §PriceComponent note: 115.2 Wh at 0.25/kWh is billed as 116 Wh, and
    with step_size 500 as 500 Wh."""
    start = at(MONDAY, 10)
    one = price_session(tariff(element("ENERGY", 0.25, 1)), [charge(start, 1, kwh=0.1152)])
    assert one.total_cost.excl_vat == Decimal("0.0290")
    big = price_session(tariff(element("ENERGY", 0.25, 500)), [charge(start, 1, kwh=0.1152)])
    assert big.total_cost.excl_vat == Decimal("0.1250")


def test_time_window_past_midnight_in_local_time() -> None:
    """22:00-06:00 Amsterdam time costs 1/h, the rest 3/h; the session runs 20:30-00:30
    UTC (21:30-01:30 local in winter): 30 minutes at 3 and 3.5 hours at 1."""
    t = tariff(element("TIME", 1, start_time="22:00", end_time="06:00"), element("TIME", 3))
    start = datetime(2026, 1, 5, 20, 30, tzinfo=UTC)
    priced = price_session(t, [charge(start, 240)], tz=ZoneInfo("Europe/Amsterdam"))
    assert priced.total_cost.excl_vat == Decimal("5.0000")
    starts = [p["start_date_time"] for p in priced.charging_periods]
    assert starts == ["2026-01-05T20:30:00Z", "2026-01-05T21:00:00Z"]


def test_dates_and_weekdays() -> None:
    t = tariff(
        element("FLAT", 5, start_date="2026-01-01", end_date="2026-01-10"),
        element("FLAT", 2, day_of_week=["SATURDAY", "SUNDAY"]),
        element("FLAT", 1),
    )
    on = lambda day: price_session(t, [charge(day, 10)]).total_cost.excl_vat  # noqa: E731
    assert on(datetime(2026, 1, 9, 23, 0, tzinfo=UTC)) == 5
    assert on(datetime(2026, 1, 10, 12, tzinfo=UTC)) == 2  # end_date exclusive; a Saturday
    assert on(datetime(2026, 1, 12, 12, tzinfo=UTC)) == 1  # a Monday


def test_kwh_and_duration_restrictions_split_a_stretch() -> None:
    """First 10 kWh at 0.20, then 0.40; charging over 30 minutes costs 2/h from then."""
    t = tariff(
        element("ENERGY", 0.2, max_kwh=10),
        element("ENERGY", 0.4),
        element("TIME", 2, min_duration=1800),
    )
    priced = price_session(t, [charge(at(MONDAY, 10), 60, kwh=30)])
    assert priced.energy == price("10.00", None)  # 10 * 0.2 + 20 * 0.4
    assert priced.time == price("1.00", None)  # 30 minutes at 2/h
    assert priced.total_cost.excl_vat == Decimal("11.00")
    assert len(priced.charging_periods) == 3  # 0-20 min, 20-30 min, 30-60 min


def test_current_restriction_needs_a_known_current() -> None:
    t = tariff(element("TIME", 1, max_current=16), element("TIME", 4))
    low = price_session(t, [charge(at(MONDAY, 10), 60, current_a=10)])
    unknown = price_session(t, [charge(at(MONDAY, 10), 60)])
    assert low.total_cost.excl_vat == 1 and unknown.total_cost.excl_vat == 4


def test_reservation_elements_price_only_reservations() -> None:
    t = tariff(element("TIME", 9, reservation="RESERVATION"), element("TIME", 1))
    start = at(MONDAY, 10)
    assert price_session(t, [charge(start, 60)]).total_cost.excl_vat == 1
    reserved = Stretch(start - timedelta(hours=1), start, "RESERVATION")
    assert price_session(t, [reserved, charge(start, 60)]).total_cost.excl_vat == 10


def test_a_dimension_no_element_matches_is_free() -> None:
    t = tariff(element("TIME", 1, day_of_week=["SUNDAY"]))
    priced = price_session(t, [charge(at(MONDAY, 10), 60, kwh=5)])
    assert priced.total_cost == price("0.00", "0.00") and priced.time is None


def test_min_and_max_price_bound_excl_and_incl_independently() -> None:
    t = tariff(
        element("ENERGY", 1, vat=50),
        min_price={"excl_vat": 2, "incl_vat": 2.5},
        max_price={"excl_vat": 10, "incl_vat": 12},
    )
    start = at(MONDAY, 10)
    assert price_session(t, [charge(start, 60, kwh=1)]).total_cost == price("2.00", "2.50")
    # 1.8 excl is raised to 2.00; 2.70 incl is already above its minimum
    assert price_session(t, [charge(start, 60, kwh=1.8)]).total_cost == price("2.00", "2.70")
    assert price_session(t, [charge(start, 60, kwh=9)]).total_cost == price("9.00", "12.00")


def test_cdr_fields_and_periods() -> None:
    t = tariff(element("ENERGY", 0.3, vat=21), element("PARKING_TIME", 1, 60, vat=21))
    start = at(MONDAY, 10)
    priced = price_session(
        t, [charge(start, 90, kwh=12.5), park(start + timedelta(minutes=90), 30)]
    )
    fields = priced.cdr_fields()
    assert fields["total_energy"] == 12.5
    assert fields["total_time"] == 2 and fields["total_parking_time"] == 0.5
    assert fields["total_energy_cost"] == {"excl_vat": 3.75, "incl_vat": 4.5375}
    assert fields["total_parking_cost"] == {"excl_vat": 0.5, "incl_vat": 0.605}
    assert "total_time_cost" not in fields and "total_fixed_cost" not in fields
    assert priced.charging_periods == [
        {
            "start_date_time": "2015-06-29T10:00:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 12.5}, {"type": "TIME", "volume": 1.5}],
            "tariff_id": "T",
        },
        {
            "start_date_time": "2015-06-29T11:30:00Z",
            "dimensions": [{"type": "PARKING_TIME", "volume": 0.5}],
            "tariff_id": "T",
        },
    ]


def test_tariff_validity_window() -> None:
    t = tariff(
        element("FLAT", 1),
        start_date_time="2026-01-01T00:00:00Z",
        end_date_time="2026-07-01T00:00:00Z",
    )
    assert tariff_applies(t, datetime(2026, 1, 1, tzinfo=UTC))
    assert not tariff_applies(t, datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    assert not tariff_applies(t, datetime(2026, 7, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "bad",
    [
        {"elements": []},
        {"elements": [{"price_components": [{"type": "GOLD", "price": 1, "step_size": 1}]}]},
        {"elements": [{"price_components": [{"type": "TIME", "price": "1", "step_size": 1}]}]},
        {"elements": [{"price_components": [{"type": "TIME", "price": 1, "step_size": -1}]}]},
    ],
)
def test_a_tariff_it_cannot_read_is_invalid_input(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        price_session(bad, [charge(at(MONDAY, 10), 10)])
