"""Batched point reads: concurrent lookups of stored objects share one query.

Why: a lookup of one object (a token for real-time authorization, an object a partner
GETs) is one indexed row, but each in a read transaction of its own spent most of its
time in the transaction and ORM work around that row (``bench/functional.py --case
authorize`` profiles, 2026-11-25). Lookups that arrive together are answered from one
read-only unit of work and one ``get_many`` query per module.

Consistency is what a lookup of its own gives: the batch's transaction begins after
every lookup in it was asked for, so each sees everything committed before it was asked
(a change answered by ``ObjectWriter`` is committed before its answer).
"""

from __future__ import annotations

import asyncio
from typing import Any

from evroam.core.objects import ObjectKey, StoredObject, key_identity
from evroam.core.ports import UnitOfWorkFactory
from evroam.core.types import ModuleId
from evroam.services.batching import Batcher

#: Most lookups answered by one transaction.
MAX_BATCH = 500


class ObjectReader(Batcher[tuple[ModuleId, ObjectKey]]):
    def __init__(self, uow: UnitOfWorkFactory, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)
        self._uow = uow

    async def get(self, module: ModuleId, key: ObjectKey) -> StoredObject | None:
        found: StoredObject | None = await self.enqueue((module, key))
        return found

    async def run(
        self, batch: list[tuple[tuple[ModuleId, ObjectKey], asyncio.Future[Any]]]
    ) -> None:
        by_module: dict[ModuleId, list[ObjectKey]] = {}
        for (module, key), _ in batch:
            by_module.setdefault(module, []).append(key)
        found: dict[tuple[ModuleId, Any], StoredObject] = {}
        async with self._uow(read_only=True) as uow:
            for module, keys in by_module.items():
                for ident, obj in (await uow.objects.get_many(module, keys)).items():
                    found[(module, ident)] = obj
        for (module, key), future in batch:
            if not future.done():
                future.set_result(found.get((module, key_identity(key))))
