"""Objects of the functional modules as core ``StoredObject``s."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from evroam.core.objects import ObjectKey, ObjectPage, ObjectQuery, StoredObject
from evroam.core.types import ModuleId
from evroam.storage.tables import ObjectRow


def _to_core(row: ObjectRow) -> StoredObject:
    return StoredObject(
        module=ModuleId(row.module),
        key=ObjectKey(row.country_code, row.party_id, row.object_id, row.variant),
        last_updated=row.last_updated,
        document_json=row.document,
        partner_id=row.partner_id,
        shared=row.shared,
        created_at=row.created_at,
        audience=row.audience,
        row_id=row.id,
    )


class SqlObjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _select(self, module: ModuleId, key: ObjectKey) -> Select[ObjectRow]:
        return select(ObjectRow).where(
            ObjectRow.module == module.value,
            ObjectRow.country_code == key.country_code,
            ObjectRow.party_id == key.party_id,
            ObjectRow.id_key == key.id_key,
            ObjectRow.variant == key.variant,
        )

    async def get(self, module: ModuleId, key: ObjectKey) -> StoredObject | None:
        row = await self._s.scalar(self._select(module, key))
        return _to_core(row) if row else None

    async def get_for_update(self, module: ModuleId, key: ObjectKey) -> StoredObject | None:
        row = await self._s.scalar(self._select(module, key).with_for_update())
        return _to_core(row) if row else None

    async def put(self, obj: StoredObject) -> Literal["created", "updated"]:
        row = await self._s.scalar(self._select(obj.module, obj.key))
        created = row is None
        if row is None:
            row = ObjectRow(
                module=obj.module.value,
                country_code=obj.key.country_code,
                party_id=obj.key.party_id,
                id_key=obj.key.id_key,
                variant=obj.key.variant,
                created_at=obj.created_at or datetime.now(UTC),
            )
            self._s.add(row)
        row.object_id = obj.key.id
        row.partner_id = obj.partner_id
        row.shared = obj.shared
        row.audience = obj.audience
        row.last_updated = obj.last_updated
        row.document = obj.document_json
        await self._s.flush()
        return "created" if created else "updated"

    async def delete(self, module: ModuleId, key: ObjectKey) -> bool:
        result = await self._s.execute(
            delete(ObjectRow).where(
                ObjectRow.module == module.value,
                ObjectRow.country_code == key.country_code,
                ObjectRow.party_id == key.party_id,
                ObjectRow.id_key == key.id_key,
                ObjectRow.variant == key.variant,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def _filters(self, q: ObjectQuery) -> list[Any]:
        where: list[Any] = [ObjectRow.module == q.module.value]
        if q.own is True:
            where.append(ObjectRow.partner_id.is_(None))
        elif q.own is False:
            where.append(ObjectRow.partner_id.is_not(None))
        if q.partner_id is not None:
            where.append(ObjectRow.partner_id == q.partner_id)
        if q.party is not None:
            where.append(ObjectRow.country_code == q.party[0].upper())
            where.append(ObjectRow.party_id == q.party[1].upper())
        if q.shared_only:
            where.append(ObjectRow.shared.is_(True))
        if q.audience is not None:
            where.append(or_(ObjectRow.audience.is_(None), ObjectRow.audience.in_(q.audience)))
        if q.date_from is not None:
            where.append(ObjectRow.last_updated >= q.date_from)
        if q.date_to is not None:
            where.append(ObjectRow.last_updated < q.date_to)
        return where

    async def page(self, query: ObjectQuery) -> ObjectPage:
        """Only the page's rows are read (LIMIT/OFFSET in insertion order, the row id),
        plus one COUNT:
        a large table is never loaded whole."""
        where = self._filters(query)
        total = await self._s.scalar(select(func.count()).select_from(ObjectRow).where(*where))
        # Plain columns, not ORM entities, and only what serving needs (no created_at:
        # page objects carry None there): a page of 1000 objects is served several times
        # faster without building and tracking 1000 mapped instances.
        t = ObjectRow.__table__.c
        page = select(
            t.id,
            t.country_code,
            t.party_id,
            t.object_id,
            t.variant,
            t.last_updated,
            t.document,
            t.partner_id,
            t.shared,
            t.audience,
        ).where(*where)
        if query.after_row is not None:
            # Keyset: the rows after the last one served, found through the index
            # instead of skipping ``offset`` rows again (O(page) rather than O(offset)).
            page = page.where(t.id > query.after_row)
        else:
            page = page.offset(query.offset)
        rows = await self._s.execute(page.order_by(t.id).limit(query.limit))
        module = query.module
        objects = [
            StoredObject(
                module=module,
                key=ObjectKey(r.country_code, r.party_id, r.object_id, r.variant),
                last_updated=r.last_updated,
                document_json=r.document,
                partner_id=r.partner_id,
                shared=r.shared,
                audience=r.audience,
                row_id=r.id,
            )
            for r in rows
        ]
        return ObjectPage(int(total or 0), objects)
