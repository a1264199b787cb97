"""Group commit: concurrent changes of stored objects share one transaction.

Why: every change of a functional object is a read-modify-write of one stored document
(a Location with its EVSEs, a Token, a Session), and committing each in a transaction
of its own costs a transaction's fixed work per request: begin, one read, one write,
commit, and on PostgreSQL a WAL flush, while every request that touches the same row
waits for the previous commit. Under load, changes arrive many at a time; the writer
applies all the changes waiting at that moment in one transaction: one read of all
their rows (``get_many_for_update``), the changes in order of arrival, in Python, each
seeing the ones before it, one write of the rows that changed (``put_many``), one
commit. Then each caller gets its own answer. A change may hand over its object parsed
(``StoredObject.document``): the next change of that object in the batch takes the
parsed form, and the text is rendered once, before the write (under load, 30 PATCHes of
one Location's EVSEs arrive together; each parsing and rendering the whole Location
again was a sixth of a request's CPU in ``bench/functional.py --case evse-patch``).

What each caller still gets on its own:

* its result, only after the commit that holds its change (never an answer for a change
  that could still be lost);
* its own refusal: a change that raises a :class:`DomainError` (a PATCH without
  ``last_updated``, an object of another sender) changes nothing and the others go on;
* isolation from a failing batch: when the transaction itself fails (a constraint, the
  database), each change of the batch is tried again alone, so only the change at
  fault fails.

The writer is the one way the services change functional objects, so the push outbox
(issue 8) joins the same transaction here: what each applied change owes the partners
(``Written.push``) goes to ``OutboxPort.enqueue`` before the commit, in the order the
changes were applied, and the outbox is woken after it. A change and its pushes commit
together or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from evroam.core.errors import DomainError
from evroam.core.objects import ObjectKey, StoredObject, dump_document, key_identity
from evroam.core.ports import OutboxPort, UnitOfWorkFactory
from evroam.core.push import PushChange
from evroam.core.types import ModuleId
from evroam.services.batching import Batcher, settle_error

log = logging.getLogger("evroam.writes")

R = TypeVar("R")

#: Most changes in one transaction: bounds how long one commit holds the write lock.
MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class Written(Generic[R]):
    """What a change decided: the object to store (None: store nothing), or ``delete``
    the stored one, and what its caller is answered."""

    obj: StoredObject | None
    result: R
    delete: bool = False
    #: What partners are owed for it (changes of the node's own data only).
    push: tuple[PushChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Change(Generic[R]):
    """A change of the stored object ``key`` of ``module``. ``apply`` gets the object as
    stored, including what earlier changes of the same batch made of it (None: there is
    none) and must not modify it; it may raise a ``DomainError`` to refuse."""

    module: ModuleId
    key: ObjectKey
    apply: Callable[[StoredObject | None], Written[R]]


class ObjectWriter(Batcher[Change[Any]]):
    """Batches concurrent ``write`` calls into shared transactions (see the module)."""

    def __init__(
        self, uow: UnitOfWorkFactory, max_batch: int = MAX_BATCH, outbox: OutboxPort | None = None
    ) -> None:
        super().__init__(max_batch)
        self._uow = uow
        self._outbox = outbox

    async def write(self, change: Change[R]) -> R:
        """Apply ``change`` and return its result once it is committed."""
        result: R = await self.submit(change)
        return result

    def submit(self, change: Change[R]) -> asyncio.Future[R]:
        """Queue ``change``; the future settles once it is committed (or refused).
        Changes are applied in the order they were submitted."""
        return self.enqueue(change)

    async def failed(
        self, batch: list[tuple[Change[Any], asyncio.Future[Any]]], exc: Exception
    ) -> None:
        """The shared transaction failed: each change is tried alone, so that only the
        one at fault fails."""
        if len(batch) == 1:
            settle_error(batch[0][1], exc)
            return
        log.warning(
            "a batch of %d changes failed (%s); retrying each alone",
            len(batch),
            type(exc).__name__,
        )
        for item in batch:
            try:
                await self.run([item])
            except Exception as single:  # noqa: BLE001 - that change's own
                settle_error(item[1], single)

    async def run(self, batch: list[tuple[Change[Any], asyncio.Future[Any]]]) -> None:
        answers: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        async with self._uow() as uow:
            by_module: dict[ModuleId, list[ObjectKey]] = {}
            for change, _ in batch:
                by_module.setdefault(change.module, []).append(change.key)
            current: dict[tuple[ModuleId, tuple[str, str, str, str]], StoredObject | None] = {}
            for module, keys in by_module.items():
                stored = await uow.objects.get_many_for_update(module, keys)
                for key in keys:
                    ident = key_identity(key)
                    current[(module, ident)] = stored.get(ident)
            written: dict[tuple[ModuleId, tuple[str, str, str, str]], StoredObject] = {}
            deleted: list[int] = []
            pushes: list[PushChange] = []
            for change, future in batch:
                slot = (change.module, key_identity(change.key))
                try:
                    outcome = change.apply(current[slot])
                except DomainError as exc:
                    answers.append((future, None, exc))
                    continue
                if outcome.delete:
                    before = current[slot]
                    if before is not None and before.row_id is not None:
                        deleted.append(before.row_id)
                    written.pop(slot, None)  # inserted earlier in this batch: not at all
                    current[slot] = None
                elif outcome.obj is not None:
                    before = current[slot]
                    obj = outcome.obj
                    # The row this key already has (read above, or inserted by an earlier
                    # change of this batch: then still without a row id, inserted once).
                    obj.row_id = before.row_id if before is not None else None
                    if before is not None and obj.created_at is None:
                        obj.created_at = before.created_at
                    current[slot] = obj
                    written[slot] = obj
                pushes.extend(outcome.push)
                answers.append((future, outcome.result, None))
            if deleted:
                await uow.objects.delete_rows(deleted)
            if written:
                objs = list(written.values())
                for obj in objs:
                    if obj.document is not None:  # handed over parsed: rendered once, here
                        obj.document_json = dump_document(obj.document)
                        obj.document = None
                await uow.objects.put_many(objs)
            outbox = self._outbox if pushes else None
            if outbox is not None:
                await outbox.enqueue(uow, pushes)
            await uow.commit()
        if outbox is not None:
            outbox.wake()
        for future, result, error in answers:
            if future.done():  # the caller went away; its change is stored all the same
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
