"""The EVSE data and pricing repositories on both backends: bulk upserts that only move
``updated_at`` on a real change, deletion markers for delta pulls, every pull filter,
the SearchCenter's two steps, POI findings, and pricing offers and EVSE pricing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import text

from evroam.core.oicp import (
    AUTHENTICATION_MODES,
    ActionType,
    DeltaType,
    EvseDataEntry,
    EvseDataQuery,
    EvsePricingEntry,
    GeoCircle,
    PoiFinding,
    PricingOffer,
    StoredEvseData,
    authentication_mask,
)
from evroam.services.oicp import evsedata
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW

LATER = NOW + timedelta(minutes=5)
LATEST = NOW + timedelta(minutes=10)


def entry(n: int, operator: str = "DEABC", **kw: object) -> EvseDataEntry:
    evse = f"{operator[:2]}*{operator[2:]}*E{n}"
    base: dict[str, object] = dict(
        evse_id=evse,
        canonical_evse_id=evse.replace("*", ""),
        operator=operator,
        record=json.dumps({"EvseID": evse, "n": n}),
        country="DEU",
        latitude=48.0 + n / 1000,
        longitude=7.8,
        accessibility="Free publicly accessible",
        auth_modes=authentication_mask(["REMOTE"]),
        calibration="Local",
        renewable=True,
        hubject_compatible=True,
        open_24h=True,
        poi_score=90,
        poi_findings=(PoiFinding("Address.TimeZone", "warning", "missing <b>[red]"),),
    )
    base.update(kw)
    return EvseDataEntry(**base)  # type: ignore[arg-type]


async def _put(uow: SqlUnitOfWorkFactory, entries: list[EvseDataEntry], at: datetime = NOW) -> None:
    async with uow() as u:
        await u.oicp_evse_data.put("DE*ABC", "ABC", entries, at)
        await u.commit()


async def _page(
    uow: SqlUnitOfWorkFactory, q: EvseDataQuery, offset: int = 0, limit: int = 100
) -> tuple[list[StoredEvseData], int]:
    async with uow(read_only=True) as u:
        return await u.oicp_evse_data.page(q, offset, limit)


async def test_put_then_page_in_stable_order_with_total(uow: SqlUnitOfWorkFactory) -> None:
    await _put(uow, [entry(n) for n in (3, 1, 2)])
    rows, total = await _page(uow, EvseDataQuery(), 1, 1)
    assert total == 3
    assert [r.evse_id for r in rows] == ["DE*ABC*E2"]
    assert rows[0].operator_id == "DE*ABC" and rows[0].operator_name == "ABC"
    assert json.loads(rows[0].record) == {"EvseID": "DE*ABC*E2", "n": 2}


async def test_unchanged_record_keeps_updated_at_changed_one_moves(
    uow: SqlUnitOfWorkFactory,
) -> None:
    await _put(uow, [entry(1), entry(2)])
    await _put(uow, [entry(1), entry(2, record='{"changed": true}')], LATER)
    rows, _ = await _page(uow, EvseDataQuery(changed_since=NOW))
    assert [(r.evse_id, r.delta(NOW)) for r in rows] == [("DE*ABC*E2", DeltaType.UPDATE)]


async def test_deleted_records_are_markers_seen_only_by_delta_pulls(
    uow: SqlUnitOfWorkFactory,
) -> None:
    await _put(uow, [entry(1), entry(2)])
    async with uow() as u:
        assert await u.oicp_evse_data.mark_deleted("DEABC", ["DEABCE1", "DEABCE9"], LATER) == 1
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.oicp_evse_data.live_ids("DEABC") == {"DEABCE2"}
    rows, total = await _page(uow, EvseDataQuery())
    assert total == 1
    rows, _ = await _page(uow, EvseDataQuery(changed_since=NOW))
    assert [(r.evse_id, r.delta(NOW)) for r in rows] == [("DE*ABC*E1", DeltaType.DELETE)]
    # Pushed again: alive, and an insert for whoever saw the deletion.
    await _put(uow, [entry(1)], LATEST)
    rows, _ = await _page(uow, EvseDataQuery(changed_since=LATER))
    assert [(r.evse_id, r.delta(LATER)) for r in rows] == [("DE*ABC*E1", DeltaType.INSERT)]


async def test_every_filter(uow: SqlUnitOfWorkFactory) -> None:
    await _put(
        uow,
        [
            entry(1),
            entry(2, country="AUT"),
            entry(3, accessibility="Restricted access"),
            entry(4, auth_modes=authentication_mask(["PnC", "Direct Payment"])),
            entry(5, calibration="External"),
            entry(6, renewable=False),
            entry(7, hubject_compatible=False),
            entry(8, open_24h=False),
        ],
    )
    await _put(uow, [entry(1, operator="DEXYZ")])

    async def ids(q: EvseDataQuery) -> list[str]:
        rows, total = await _page(uow, q)
        assert total == len(rows)
        return [r.evse_id for r in rows]

    assert await ids(EvseDataQuery(countries=("AUT",))) == ["DE*ABC*E2"]
    assert await ids(EvseDataQuery(operators=("DEXYZ",))) == ["DE*XYZ*E1"]
    assert await ids(EvseDataQuery(accessibility=("Restricted access",))) == ["DE*ABC*E3"]
    assert await ids(EvseDataQuery(auth_mask=authentication_mask(["PnC"]))) == ["DE*ABC*E4"]
    assert await ids(EvseDataQuery(calibration=("External",))) == ["DE*ABC*E5"]
    assert await ids(EvseDataQuery(renewable=False)) == ["DE*ABC*E6"]
    assert await ids(EvseDataQuery(hubject_compatible=False)) == ["DE*ABC*E7"]
    assert await ids(EvseDataQuery(open_24h=False)) == ["DE*ABC*E8"]
    all_modes = authentication_mask(AUTHENTICATION_MODES)
    assert len(await ids(EvseDataQuery(auth_mask=all_modes))) == 9


async def test_search_center_is_exact_and_pages_after_filtering(
    uow: SqlUnitOfWorkFactory,
) -> None:
    # E1..E9 on a meridian, 111 m apart: a 0.25 km circle around E5 holds E3..E7
    # (0.222 km off) but not E2 or E8 (0.333 km), though its box would.
    await _put(uow, [entry(n) for n in range(1, 10)])
    circle = GeoCircle(48.005, 7.8, 0.25)
    rows, total = await _page(uow, EvseDataQuery(circle=circle), 1, 2)
    assert total == 5
    assert [r.evse_id for r in rows] == ["DE*ABC*E4", "DE*ABC*E5"]
    async with uow(read_only=True) as u:
        inside = await u.oicp_evse_data.within(circle)
    assert inside == {("DEABC", f"DEABCE{n}") for n in range(3, 8)}


async def test_poi_reports_and_session_lookups(uow: SqlUnitOfWorkFactory) -> None:
    async with uow(read_only=True) as u:
        assert not await u.oicp_evse_data.has_evse_data("DEABC")
    await _put(uow, [entry(1), entry(2, hubject_compatible=False)])
    async with uow(read_only=True) as u:
        reports = await u.oicp_evse_data.poi_reports("DEABC")
        assert await u.oicp_evse_data.has_evse_data("DEABC")
        assert await u.oicp_evse_data.hubject_compatible("DEABC", "DEABCE2") is False
        assert await u.oicp_evse_data.hubject_compatible("DEABC", "DEABCE1") is True
        assert await u.oicp_evse_data.hubject_compatible("DEABC", "DEABCE3") is None
    assert [r.evse_id for r in reports] == ["DE*ABC*E1", "DE*ABC*E2"]
    assert reports[0].score == 90
    assert reports[0].findings == (PoiFinding("Address.TimeZone", "warning", "missing <b>[red]"),)


async def test_pricing_offers_and_evse_pricing(uow: SqlUnitOfWorkFactory) -> None:
    offer = PricingOffer("DEABC", "*", "DE*ABC", "*", '{"x": 1}', 1)
    empty = PricingOffer("DEABC", "DEEMP", "DE*ABC", "DE-EMP", "{}", 0)
    async with uow() as u:
        await u.oicp_pricing.put_offer(offer, NOW)
        await u.oicp_pricing.put_offer(empty, LATER)
        await u.oicp_pricing.put_evse_pricing(
            [
                EvsePricingEntry("DEABC", "DE*ABC*E1", "DEABCE1", "*", "*", ("AC1",)),
                EvsePricingEntry("DEABC", "DE*ABC*E1", "DEABCE1", "DEEMP", "DE-EMP", ("DC",)),
            ],
            NOW,
        )
        await u.commit()
    async with uow(read_only=True) as u:
        full = await u.oicp_pricing.offers(["DEABC"], ["*", "DEEMP"], None)
        delta = await u.oicp_pricing.offers(["DEABC"], ["*", "DEEMP"], NOW)
        mine = await u.oicp_pricing.evse_pricing(["DEABC"], ["*"], None)
        keys = await u.oicp_pricing.evse_pricing_keys("DEABC")
    assert [o.provider for o in full] == ["*"]  # an offer without products is not offered
    assert [o.provider for o in delta] == ["DEEMP"]  # but a delta says it emptied
    assert [(e.provider, e.products) for e in mine] == [("*", ("AC1",))]
    assert keys == {("DEABCE1", "*"), ("DEABCE1", "DEEMP")}
    async with uow() as u:
        assert await u.oicp_pricing.delete_evse_pricing("DEABC", [("DEABCE1", "*")]) == 1
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.oicp_pricing.evse_pricing_keys("DEABC") == {("DEABCE1", "DEEMP")}


async def test_a_large_push_leaves_the_planner_statistics_fresh(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """After a bulk load PostgreSQL has no statistics of the new rows until autovacuum
    gets to them, and planned each pull page as a sort of every record spilled to disk
    (8,900 instead of 20,000 records/s, bench/oicp_data.py). The push refreshes them."""
    from tests.storage.test_oicp_repositories import oicp_partner

    cpo = oicp_partner()
    async with uow() as u:
        await u.oicp_partners.add(cpo)
        await u.commit()
    entries = [entry(n) for n in range(evsedata.STATISTICS_AFTER)]
    await evsedata.push_evse_data(uow, cpo, ActionType.FULL_LOAD, "DE*ABC", "ABC", entries, NOW)
    async with uow(read_only=True) as u:
        bind = u.session.get_bind()
        if bind.dialect.name != "postgresql":
            return  # SQLite plans these queries the same without statistics
        tuples = await u.session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'oicp_evse_data'")
        )
    assert tuples == evsedata.STATISTICS_AFTER
