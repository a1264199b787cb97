"""The mechanics that the group-commit writer (``writes.py``) and the batched reader
(``reads.py``) share: callers queue items and wait on futures; one drainer task at a
time takes what is waiting, in order, and hands it to ``run`` as one batch.

Why a drainer task rather than the first caller doing the work: the caller that
happens to be first would pay for everyone's batch in its own latency and cancellation
(a client that disconnects would cancel the transaction of the others).
"""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Loop turns a drainer waits before taking a batch (see ``Batcher._drain``); 1 gave
#: 3,538 EVSE PATCHes/s, 3 gave 4,249 (``bench/functional.py``, 2026-11-25).
GATHER_TURNS = 3


class Batcher(Generic[T]):
    """Queues ``(item, future)`` pairs; subclasses implement ``run`` (settle each
    future of the batch) and may override ``failed`` (``run`` raised)."""

    def __init__(self, max_batch: int) -> None:
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        #: How many batches and items went through (for tests and benchmarks).
        self.batches = 0
        self.items = 0

    def enqueue(self, item: T) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._drainer is None:
            # Started after the callbacks already scheduled: requests being handled right
            # now get to add their items to the same batch.
            self._drainer = asyncio.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            while self._pending:
                # A few more turns of the loop before taking the batch: requests whose
                # bytes arrived meanwhile get to join it (with SQLite on the loop's
                # thread a batch never yields, so without them batches held two or three
                # items under load; the turns cost microseconds when idle).
                for _ in range(GATHER_TURNS):
                    await asyncio.sleep(0)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    await self.run(batch)
                except Exception as exc:  # noqa: BLE001 - each waiter learns it in failed()
                    await self.failed(batch, exc)
                self.batches += 1
                self.items += len(batch)
        finally:
            self._drainer = None
            if self._pending:  # arrived while the last batch was finishing
                self._drainer = asyncio.create_task(self._drain())

    async def run(self, batch: list[tuple[T, asyncio.Future[Any]]]) -> None:
        raise NotImplementedError

    async def failed(self, batch: list[tuple[T, asyncio.Future[Any]]], exc: Exception) -> None:
        """``run`` raised: by default every waiter of the batch gets the error."""
        for _, future in batch:
            settle_error(future, exc)


def settle_error(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
