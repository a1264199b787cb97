"""Objects of the functional modules as core ``StoredObject``s."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from evroam.core.objects import ObjectKey, ObjectPage, ObjectQuery, StoredObject, key_identity
from evroam.core.types import ModuleId
from evroam.storage.tables import ObjectRow

#: The table itself, for Core statements (an ORM entity would make executemany an ORM
#: bulk operation, with its per-row bookkeeping).
_TABLE = cast(Table, ObjectRow.__table__)

#: Rows inserted (since the last ANALYZE, and before it) per connection pool, i.e. per
#: database of this process: see ``SqlObjectRepository._keep_statistics``.
_GROWTH: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary()
_ANALYZE_MIN_ROWS = 2000

#: Ids per SELECT of ``get_many``: well under SQLite's limit of 32,766 bound variables
#: and PostgreSQL's of 32,767.
_KEYS_PER_QUERY = 500


#: The columns a served object needs, in the order ``_from_columns`` reads them
#: (``created_at`` last: pages leave it out).
_SERVED = (
    _TABLE.c.id,
    _TABLE.c.country_code,
    _TABLE.c.party_id,
    _TABLE.c.object_id,
    _TABLE.c.variant,
    _TABLE.c.last_updated,
    _TABLE.c.document,
    _TABLE.c.partner_id,
    _TABLE.c.shared,
    _TABLE.c.audience,
)


def _many_query(lock: bool) -> Select[Any]:
    t = _TABLE.c
    query = select(*_SERVED, t.created_at).where(
        t.module == bindparam("module"),
        t.country_code == bindparam("cc"),
        t.party_id == bindparam("pid"),
        t.variant == bindparam("variant"),
        t.id_key.in_(bindparam("ids", expanding=True)),
    )
    return query.order_by(t.id).with_for_update() if lock else query


# The statements of the group-commit writer's and the batched reader's every batch, built
# once: a statement built per call cost more than running it (its clauses coerced, its
# cache key walked, 0.3 to 0.5 ms a batch in py-spy profiles, 2026-11-25); a built one
# keeps its cache key memoized, so each call only binds values.
_GET_MANY = _many_query(lock=False)
_GET_MANY_FOR_UPDATE = _many_query(lock=True)
_UPDATE_MANY = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("rid"))
    .values(
        object_id=bindparam("object_id"),
        partner_id=bindparam("partner_id"),
        shared=bindparam("shared"),
        audience=bindparam("audience"),
        last_updated=bindparam("last_updated"),
        document=bindparam("document"),
    )
)
_INSERT_MANY = insert(_TABLE)


def _from_columns(module: ModuleId, r: Any, created_at: datetime | None = None) -> StoredObject:
    """A ``StoredObject`` from a row of ``_SERVED`` (``created_at`` given apart: pages
    leave it out):
    plain columns, not ORM entities, because building and tracking a mapped instance per
    row made pages of 1000 objects several times slower."""
    return StoredObject(
        module=module,
        key=ObjectKey(r.country_code, r.party_id, r.object_id, r.variant),
        last_updated=r.last_updated,
        document_json=r.document,
        partner_id=r.partner_id,
        shared=r.shared,
        created_at=created_at,
        audience=r.audience,
        row_id=r.id,
    )


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

    async def get_many(
        self, module: ModuleId, keys: Sequence[ObjectKey]
    ) -> dict[tuple[str, str, str, str], StoredObject]:
        """The stored objects among ``keys``, by ``key_identity``: one query per
        ``_KEYS_PER_QUERY`` keys instead of one per key."""
        return await self._get_many(module, keys, lock=False)

    async def get_many_for_update(
        self, module: ModuleId, keys: Sequence[ObjectKey]
    ) -> dict[tuple[str, str, str, str], StoredObject]:
        """``get_many``, row-locked on PostgreSQL."""
        return await self._get_many(module, keys, lock=True)

    async def _get_many(
        self, module: ModuleId, keys: Sequence[ObjectKey], *, lock: bool
    ) -> dict[tuple[str, str, str, str], StoredObject]:
        found: dict[tuple[str, str, str, str], StoredObject] = {}
        # Grouped by owner and variant, so each query is equalities on the leading
        # columns of the unique index plus one IN list on id_key: an index range read on
        # both backends (a row-value IN list of whole keys made PostgreSQL scan the table).
        groups: dict[tuple[str, str, str], list[str]] = {}
        for key in keys:
            groups.setdefault((key.country_code, key.party_id, key.variant), []).append(key.id_key)
        # Sorted groups and ids, rows in id order: concurrent batches of several processes
        # (PostgreSQL) lock their rows in one order, so they queue instead of deadlocking.
        # On the session's connection: Core statements need none of the ORM's execution
        # machinery (a third of a small batch's cost).
        conn = await self._s.connection()
        query = _GET_MANY_FOR_UPDATE if lock else _GET_MANY
        for (cc, pid, variant), ids in sorted(groups.items()):
            unique = sorted(set(ids))
            for start in range(0, len(unique), _KEYS_PER_QUERY):
                chunk = unique[start : start + _KEYS_PER_QUERY]
                params = {
                    "module": module.value,
                    "cc": cc,
                    "pid": pid,
                    "variant": variant,
                    "ids": chunk,
                }
                rows = await conn.execute(query, params)
                for r in rows:
                    obj = _from_columns(module, r, r.created_at)
                    found[key_identity(obj.key)] = obj
        return found

    async def put_many(self, objs: Sequence[StoredObject]) -> None:
        """Write objects read with ``get_many_for_update`` in this transaction: those
        with a ``row_id`` are updated in place, the others inserted; two statements in
        all (executemany), not one round of ORM work per object. The caller gives each
        key at most once."""
        now = datetime.now(UTC)
        new = [
            {
                "module": o.module.value,
                "country_code": o.key.country_code,
                "party_id": o.key.party_id,
                "object_id": o.key.id,
                "id_key": o.key.id_key,
                "variant": o.key.variant,
                "partner_id": o.partner_id,
                "shared": o.shared,
                "audience": o.audience,
                "last_updated": o.last_updated,
                "created_at": o.created_at or now,
                "document": o.document_json,
            }
            for o in objs
            if o.row_id is None
        ]
        changed = [
            {
                "rid": o.row_id,
                "object_id": o.key.id,
                "partner_id": o.partner_id,
                "shared": o.shared,
                "audience": o.audience,
                "last_updated": o.last_updated,
                "document": o.document_json,
            }
            for o in objs
            if o.row_id is not None
        ]
        conn = await self._s.connection()
        if new:
            await conn.execute(_INSERT_MANY, new)
            await self._keep_statistics(len(new))
        if changed:
            await conn.execute(_UPDATE_MANY, changed)

    async def delete_rows(self, row_ids: Sequence[int]) -> None:
        """Remove objects read in this transaction, by their row ids."""
        for start in range(0, len(row_ids), _KEYS_PER_QUERY):
            chunk = list(row_ids[start : start + _KEYS_PER_QUERY])
            await self._s.execute(delete(_TABLE).where(_TABLE.c.id.in_(chunk)))

    async def _keep_statistics(self, inserted: int) -> None:
        """PostgreSQL: ``ANALYZE`` the table each time bulk inserts have doubled it.

        Why: on a table that grew faster than autovacuum looks (a first import of 100,000
        Locations takes well under its one-minute nap), the planner still believes the
        table holds a few rows, reads every row of the party through the index prefix
        and filters the ids of ``get_many``: each batch then cost time in proportion to
        the table (38 ms for the first 500 Locations, 680 ms at 45,000, measured
        2026-11-25). ANALYZE samples at most 30,000 rows and blocks neither reads nor
        writes; done at each doubling, it runs a logarithmic number of times.
        """
        bind = self._s.get_bind()
        if bind.dialect.name != "postgresql":
            return
        pool = bind.engine.pool
        counted, baseline = _GROWTH.get(pool, (0, 0))
        counted += inserted
        if counted < max(_ANALYZE_MIN_ROWS, baseline):
            _GROWTH[pool] = (counted, baseline)
            return
        await self._s.execute(text("ANALYZE ocpi_object"))
        _GROWTH[pool] = (0, baseline + counted)

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
        # Only what serving needs (no created_at: page objects carry None there).
        t = _TABLE.c
        page = select(*_SERVED).where(*where)
        if query.after_row is not None:
            # Keyset: the rows after the last one served, found through the index
            # instead of skipping ``offset`` rows again (O(page) rather than O(offset)).
            page = page.where(t.id > query.after_row)
        else:
            page = page.offset(query.offset)
        rows = await self._s.execute(page.order_by(t.id).limit(query.limit))
        objects = [_from_columns(query.module, r) for r in rows]
        return ObjectPage(int(total or 0), objects)
