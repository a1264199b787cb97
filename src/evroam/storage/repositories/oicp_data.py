"""The OICP hub's EVSE data and pricing (core ``EvseDataEntry``, ``PricingOffer``,
``EvsePricingEntry``; tables in ``tables/oicp_data.py``).

Bulk writes are one ``executemany`` of ``INSERT ... ON CONFLICT DO UPDATE`` per chunk,
never a statement per record: a 50,000-record full load is a handful of round trips. The
upsert only touches a row whose record text or operator name changed (or that was
deleted), so ``updated_at`` means "changed", which LastCall delta pulls rely on.

A SearchCenter is answered in two steps: the bounding box of the circle in SQL (the
latitude is indexed), the exact great-circle distance in Python on the few candidates
(SQLite has no trigonometry built in), then the page is cut from the exact list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.oicp import (
    EvseDataEntry,
    EvseDataQuery,
    EvsePricingEntry,
    GeoCircle,
    PoiFinding,
    PricingOffer,
    StoredEvseData,
    StoredPoiReport,
)
from evroam.storage.repositories._insert import insert_for
from evroam.storage.tables import OicpEvseDataRow, OicpEvsePricingRow, OicpPricingProductDataRow

# Rows per executemany batch and bound values per IN list.
_BATCH = 5000
_CHUNK = 500

D = OicpEvseDataRow
_PAGE_COLUMNS = (
    D.operator,
    D.evse_id,
    D.canonical_evse_id,
    D.operator_id,
    D.operator_name,
    D.record,
    D.created_at,
    D.updated_at,
    D.deleted_at,
)


def _findings_text(findings: Sequence[PoiFinding]) -> str:
    return json.dumps([[f.property, f.severity, f.message] for f in findings])


def _findings(text: str) -> tuple[PoiFinding, ...]:
    return tuple(PoiFinding(str(p), str(s), str(m)) for p, s, m in json.loads(text))


def _stored(row: Any) -> StoredEvseData:
    return StoredEvseData(
        operator=row.operator,
        evse_id=row.evse_id,
        canonical_evse_id=row.canonical_evse_id,
        operator_id=row.operator_id,
        operator_name=row.operator_name,
        record=row.record,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


def _chunks(values: Iterable[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _bbox(circle: GeoCircle) -> list[ColumnElement[bool]]:
    low, high, west, east = circle.bounding_box()
    where = [D.latitude >= low, D.latitude <= high]
    if west is not None and east is not None:
        where += [D.longitude >= west, D.longitude <= east]
    return where


def _filters(q: EvseDataQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.changed_since is None:
        where.append(D.deleted_at.is_(None))
    else:
        where.append(D.updated_at > q.changed_since)
    if q.countries is not None:
        where.append(D.country.in_(sorted(set(q.countries))))
    if q.operators is not None:
        where.append(D.operator.in_(sorted(set(q.operators))))
    if q.auth_mask is not None:
        where.append(D.auth_modes.op("&")(q.auth_mask) != 0)
    if q.accessibility is not None:
        where.append(D.accessibility.in_(sorted(set(q.accessibility))))
    if q.calibration is not None:
        where.append(D.calibration.in_(sorted(set(q.calibration))))
    if q.renewable is not None:
        where.append(D.renewable.is_(q.renewable))
    if q.hubject_compatible is not None:
        where.append(D.hubject_compatible.is_(q.hubject_compatible))
    if q.open_24h is not None:
        where.append(D.open_24h.is_(q.open_24h))
    if q.circle is not None:
        where += _bbox(q.circle)
    return where


class SqlOicpEvseDataRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def live_ids(self, operator: str) -> set[str]:
        rows = await self._s.scalars(
            select(D.canonical_evse_id).where(D.operator == operator, D.deleted_at.is_(None))
        )
        return set(rows)

    async def put(
        self, operator_id: str, operator_name: str, entries: Sequence[EvseDataEntry], at: datetime
    ) -> None:
        if not entries:
            return
        # Core, not the ORM session: the ORM's bulk path walks every parameter set in
        # Python (py-spy: the largest share of a 50,000-record write).
        conn = await self._s.connection()
        stmt = insert_for(self._s, D.__table__)
        x = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["operator", "canonical_evse_id"],
            set_={
                "evse_id": x.evse_id,
                "operator_id": x.operator_id,
                "operator_name": x.operator_name,
                "record": x.record,
                "country": x.country,
                "latitude": x.latitude,
                "longitude": x.longitude,
                "accessibility": x.accessibility,
                "auth_modes": x.auth_modes,
                "calibration": x.calibration,
                "renewable": x.renewable,
                "hubject_compatible": x.hubject_compatible,
                "open_24h": x.open_24h,
                "poi_score": x.poi_score,
                "poi_findings": x.poi_findings,
                # Back from the dead: an insert again, as far as a delta pull can tell.
                "created_at": case((D.deleted_at.is_not(None), x.created_at), else_=D.created_at),
                "updated_at": x.updated_at,
                "deleted_at": None,
            },
            where=or_(
                D.record != x.record,
                D.operator_name != x.operator_name,
                D.operator_id != x.operator_id,
                D.deleted_at.is_not(None),
            ),
        )
        # Most records of a load share their findings (often none): written once each.
        findings: dict[tuple[PoiFinding, ...], str] = {}
        for e in entries:
            if e.poi_findings not in findings:
                findings[e.poi_findings] = _findings_text(e.poi_findings)
        for i in range(0, len(entries), _BATCH):
            params = [
                {
                    "operator": e.operator,
                    "canonical_evse_id": e.canonical_evse_id,
                    "evse_id": e.evse_id,
                    "operator_id": operator_id,
                    "operator_name": operator_name,
                    "record": e.record,
                    "country": e.country,
                    "latitude": e.latitude,
                    "longitude": e.longitude,
                    "accessibility": e.accessibility,
                    "auth_modes": e.auth_modes,
                    "calibration": e.calibration,
                    "renewable": e.renewable,
                    "hubject_compatible": e.hubject_compatible,
                    "open_24h": e.open_24h,
                    "poi_score": e.poi_score,
                    "poi_findings": findings[e.poi_findings],
                    "created_at": at,
                    "updated_at": at,
                    "deleted_at": None,
                }
                for e in entries[i : i + _BATCH]
            ]
            await conn.execute(stmt, params)

    async def mark_deleted(
        self, operator: str, canonical_evse_ids: Iterable[str], at: datetime
    ) -> int:
        count = 0
        for chunk in _chunks(canonical_evse_ids):
            result = await self._s.execute(
                update(D)
                .where(
                    D.operator == operator,
                    D.canonical_evse_id.in_(chunk),
                    D.deleted_at.is_(None),
                )
                .values(deleted_at=at, updated_at=at)
                .returning(D.canonical_evse_id)
            )
            count += len(result.all())
        return count

    async def refresh_statistics(self) -> None:
        # Why: right after a bulk load PostgreSQL has no statistics of the new rows
        # (autovacuum analyses them a minute or more later), plans a page as a sort of
        # every record spilled to disk, and a 50,000-EVSE pull ran at 8,900 records/s
        # instead of over 20,000. SQLite's plans do not depend on statistics here.
        if self._s.get_bind().dialect.name == "postgresql":
            await self._s.execute(text(f"ANALYZE {D.__tablename__}"))

    async def page(
        self, query: EvseDataQuery, offset: int, limit: int
    ) -> tuple[list[StoredEvseData], int]:
        where = _filters(query)
        order = (D.operator, D.canonical_evse_id)
        if query.circle is None:
            total = await self._s.scalar(select(func.count()).select_from(D).where(*where))
            rows = await self._s.execute(
                select(*_PAGE_COLUMNS).where(*where).order_by(*order).offset(offset).limit(limit)
            )
            return [_stored(r) for r in rows], int(total or 0)
        circle = query.circle
        candidates = await self._s.execute(
            select(D.operator, D.canonical_evse_id, D.latitude, D.longitude)
            .where(*where)
            .order_by(*order)
        )
        inside = [
            (r.operator, r.canonical_evse_id)
            for r in candidates
            if circle.contains(r.latitude, r.longitude)
        ]
        wanted = inside[offset : offset + limit]
        if not wanted:
            return [], len(inside)
        rows = await self._s.execute(
            select(*_PAGE_COLUMNS)
            .where(*where, tuple_(D.operator, D.canonical_evse_id).in_(wanted))
            .order_by(*order)
        )
        return [_stored(r) for r in rows], len(inside)

    async def within(self, circle: GeoCircle) -> set[tuple[str, str]]:
        rows = await self._s.execute(
            select(D.operator, D.canonical_evse_id, D.latitude, D.longitude).where(
                D.deleted_at.is_(None), *_bbox(circle)
            )
        )
        return {
            (r.operator, r.canonical_evse_id)
            for r in rows
            if circle.contains(r.latitude, r.longitude)
        }

    async def poi_reports(self, operator: str) -> list[StoredPoiReport]:
        rows = await self._s.execute(
            select(D.evse_id, D.poi_score, D.poi_findings, D.updated_at)
            .where(D.operator == operator, D.deleted_at.is_(None))
            .order_by(D.canonical_evse_id)
        )
        return [
            StoredPoiReport(r.evse_id, r.poi_score, _findings(r.poi_findings), r.updated_at)
            for r in rows
        ]

    async def has_evse_data(self, operator: str) -> bool:
        found = await self._s.scalar(
            select(D.canonical_evse_id)
            .where(D.operator == operator, D.deleted_at.is_(None))
            .limit(1)
        )
        return found is not None

    async def hubject_compatible(self, operator: str, canonical_evse_id: str) -> bool | None:
        value = await self._s.scalar(
            select(D.hubject_compatible).where(
                D.operator == operator,
                D.canonical_evse_id == canonical_evse_id,
                D.deleted_at.is_(None),
            )
        )
        return None if value is None else bool(value)


P = OicpPricingProductDataRow
E = OicpEvsePricingRow


def _offer(row: OicpPricingProductDataRow) -> PricingOffer:
    return PricingOffer(
        operator=row.operator,
        provider=row.provider,
        operator_id=row.operator_id,
        provider_id=row.provider_id,
        data=row.data,
        product_count=row.product_count,
        updated_at=row.updated_at,
    )


def _evse_pricing(row: OicpEvsePricingRow) -> EvsePricingEntry:
    return EvsePricingEntry(
        operator=row.operator,
        evse_id=row.evse_id,
        canonical_evse_id=row.canonical_evse_id,
        provider=row.provider,
        provider_id=row.provider_id,
        products=tuple(json.loads(row.products)),
        updated_at=row.updated_at,
    )


class SqlOicpPricingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def offer(self, operator: str, provider: str) -> PricingOffer | None:
        row = await self._s.get(P, (operator, provider))
        return _offer(row) if row is not None else None

    async def put_offer(self, offer: PricingOffer, at: datetime) -> None:
        stmt = insert_for(self._s, P).values(
            operator=offer.operator,
            provider=offer.provider,
            operator_id=offer.operator_id,
            provider_id=offer.provider_id,
            data=offer.data,
            product_count=offer.product_count,
            updated_at=at,
        )
        x = stmt.excluded
        await self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=["operator", "provider"],
                set_={
                    "operator_id": x.operator_id,
                    "provider_id": x.provider_id,
                    "data": x.data,
                    "product_count": x.product_count,
                    "updated_at": x.updated_at,
                },
            )
        )

    async def offers(
        self, operators: Sequence[str], providers: Sequence[str], since: datetime | None
    ) -> list[PricingOffer]:
        if not operators or not providers:
            return []
        stmt = select(P).where(
            P.operator.in_(sorted(set(operators))), P.provider.in_(sorted(set(providers)))
        )
        if since is None:
            stmt = stmt.where(P.product_count > 0)
        else:
            stmt = stmt.where(P.updated_at > since)
        rows = await self._s.scalars(stmt.order_by(P.operator, P.provider))
        return [_offer(r) for r in rows]

    async def evse_pricing_keys(self, operator: str) -> set[tuple[str, str]]:
        rows = await self._s.execute(
            select(E.canonical_evse_id, E.provider).where(E.operator == operator)
        )
        return {(r.canonical_evse_id, r.provider) for r in rows}

    async def put_evse_pricing(self, entries: Sequence[EvsePricingEntry], at: datetime) -> None:
        if not entries:
            return
        stmt = insert_for(self._s, E)
        x = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["operator", "canonical_evse_id", "provider"],
            set_={
                "evse_id": x.evse_id,
                "provider_id": x.provider_id,
                "products": x.products,
                "updated_at": x.updated_at,
            },
            where=E.products != x.products,
        )
        for i in range(0, len(entries), _BATCH):
            params = [
                {
                    "operator": e.operator,
                    "canonical_evse_id": e.canonical_evse_id,
                    "provider": e.provider,
                    "evse_id": e.evse_id,
                    "provider_id": e.provider_id,
                    "products": json.dumps(list(e.products)),
                    "updated_at": at,
                }
                for e in entries[i : i + _BATCH]
            ]
            await self._s.execute(stmt, params)

    async def delete_evse_pricing(self, operator: str, keys: Iterable[tuple[str, str]]) -> int:
        count = 0
        for chunk in _chunks(keys):
            result = await self._s.execute(
                delete(E)
                .where(
                    E.operator == operator,
                    or_(*(and_(E.canonical_evse_id == c, E.provider == p) for c, p in chunk)),
                )
                .returning(E.canonical_evse_id)
            )
            count += len(result.all())
        return count

    async def evse_pricing(
        self, operators: Sequence[str], providers: Sequence[str], since: datetime | None
    ) -> list[EvsePricingEntry]:
        if not operators or not providers:
            return []
        stmt = select(E).where(
            E.operator.in_(sorted(set(operators))), E.provider.in_(sorted(set(providers)))
        )
        if since is not None:
            stmt = stmt.where(E.updated_at > since)
        rows = await self._s.scalars(stmt.order_by(E.operator, E.canonical_evse_id, E.provider))
        return [_evse_pricing(r) for r in rows]
