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

#: Loop turns a drainer waits before taking a batch (see ``_drain``); 1 gave 3,538
#: EVSE PATCHes/s, 3 gave 4,249 (``bench/functional.py``, 2026-11-25).
GATHER_TURNS = 3

#: Most lookups answered by one transaction.
MAX_BATCH = 500


class ObjectReader:
    def __init__(self, uow: UnitOfWorkFactory, max_batch: int = MAX_BATCH) -> None:
        self._uow = uow
        self._max_batch = max_batch
        self._pending: list[tuple[ModuleId, ObjectKey, asyncio.Future[StoredObject | None]]] = []
        self._drainer: asyncio.Task[None] | None = None
        #: How many transactions and lookups went through (for tests and benchmarks).
        self.batches = 0
        self.lookups = 0

    async def get(self, module: ModuleId, key: ObjectKey) -> StoredObject | None:
        future: asyncio.Future[StoredObject | None] = asyncio.get_running_loop().create_future()
        self._pending.append((module, key, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                # One more turn of the loop before taking the batch: requests whose bytes
                # arrived in the same poll get to join it (with SQLite on the loop's
                # thread a batch never yields, so without this turn batches held two or
                # three changes under load; the turn costs microseconds when idle).
                for _ in range(GATHER_TURNS):
                    await asyncio.sleep(0)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    await self._run(batch)
                except Exception as exc:  # noqa: BLE001 - every waiter of the batch learns it
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
        finally:
            self._drainer = None
            if self._pending:
                self._drainer = asyncio.create_task(self._drain())

    async def _run(
        self, batch: list[tuple[ModuleId, ObjectKey, asyncio.Future[StoredObject | None]]]
    ) -> None:
        by_module: dict[ModuleId, list[ObjectKey]] = {}
        for module, key, _ in batch:
            by_module.setdefault(module, []).append(key)
        found: dict[tuple[ModuleId, Any], StoredObject] = {}
        async with self._uow(read_only=True) as uow:
            for module, keys in by_module.items():
                for ident, obj in (await uow.objects.get_many(module, keys)).items():
                    found[(module, ident)] = obj
        self.batches += 1
        self.lookups += len(batch)
        for module, key, future in batch:
            if not future.done():
                future.set_result(found.get((module, key_identity(key))))
