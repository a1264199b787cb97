"""Group commit (``services/writes.py``) on a real database: concurrent changes share
transactions, each caller gets its own answer, and none is lost or answered early."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from evroam.core.errors import DomainError, InvalidInput
from evroam.core.objects import ObjectKey, StoredObject
from evroam.core.types import ModuleId
from evroam.services.reads import ObjectReader
from evroam.services.writes import Change, ObjectWriter, Written
from evroam.storage.db import create_engine, session_factory
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW

KEY = ObjectKey("NL", "CPO", "COUNTER")


def _increment(stored: StoredObject | None) -> Written[int]:
    """A read-modify-write: a counter document, created at 1."""
    value = 1 if stored is None else json.loads(stored.document_json)["n"] + 1
    obj = StoredObject(
        module=ModuleId.TARIFFS,
        key=KEY,
        last_updated=NOW + timedelta(seconds=value),
        document_json=json.dumps({"id": KEY.id, "n": value}),
        partner_id=None,
        shared=True,
        created_at=NOW,
    )
    return Written(obj, value)


async def _stored_count(uow: SqlUnitOfWorkFactory) -> int:
    async with uow(read_only=True) as u:
        stored = await u.objects.get(ModuleId.TARIFFS, KEY)
    assert stored is not None
    return int(json.loads(stored.document_json)["n"])


async def test_concurrent_changes_share_transactions_and_lose_nothing(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """200 concurrent increments of one object: every one is applied, each caller sees
    its own step, and they took far fewer transactions than changes. Without the
    batching (one transaction each) ``batches`` would equal 200."""
    writer = ObjectWriter(uow)
    results = await asyncio.gather(
        *(writer.write(Change(ModuleId.TARIFFS, KEY, _increment)) for _ in range(200))
    )
    assert sorted(results) == list(range(1, 201))
    assert results == list(range(1, 201))  # applied in the order submitted
    assert await _stored_count(uow) == 200
    assert writer.items == 200
    assert writer.batches < 20


async def test_a_refused_change_changes_nothing_and_the_others_go_on(
    uow: SqlUnitOfWorkFactory,
) -> None:
    writer = ObjectWriter(uow)

    def refuse(stored: StoredObject | None) -> Written[int]:
        raise InvalidInput("no")

    outcomes = await asyncio.gather(
        writer.write(Change(ModuleId.TARIFFS, KEY, _increment)),
        writer.write(Change(ModuleId.TARIFFS, KEY, refuse)),
        writer.write(Change(ModuleId.TARIFFS, KEY, _increment)),
        return_exceptions=True,
    )
    assert outcomes[0] == 1 and outcomes[2] == 2
    assert isinstance(outcomes[1], DomainError)
    assert writer.batches == 1
    assert await _stored_count(uow) == 2


async def test_a_failing_transaction_fails_only_the_change_at_fault(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """A change whose row breaks a constraint (a second insert of an existing key, as
    if the object had been read as absent) makes the shared transaction fail; the batch
    is retried change by change, so the good ones still land."""
    writer = ObjectWriter(uow)
    await writer.write(Change(ModuleId.TARIFFS, KEY, _increment))
    other = ObjectKey("NL", "CPO", "OTHER")

    def duplicate(stored: StoredObject | None) -> Written[int]:
        written = _increment(None)
        assert written.obj is not None
        # Claims to be new (no row id is carried over for a new object below).
        return Written(written.obj, -1)

    def new_other(stored: StoredObject | None) -> Written[str]:
        return Written(
            StoredObject(
                module=ModuleId.TARIFFS,
                key=other,
                last_updated=NOW,
                document_json=json.dumps({"id": other.id}),
                partner_id=None,
                shared=True,
                created_at=NOW,
            ),
            "created",
        )

    outcomes = await asyncio.gather(
        writer.write(Change(ModuleId.TARIFFS, other, new_other)),
        # Addressed to OTHER's slot but writing COUNTER's key as a new row: the insert
        # collides with the stored COUNTER.
        writer.write(Change(ModuleId.TARIFFS, ObjectKey("NL", "CPO", "NOWHERE"), duplicate)),
        return_exceptions=True,
    )
    assert outcomes[0] == "created"
    assert isinstance(outcomes[1], IntegrityError)
    async with uow(read_only=True) as u:
        assert await u.objects.get(ModuleId.TARIFFS, other) is not None
    assert await _stored_count(uow) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_answers_wait_for_the_commit(uow: SqlUnitOfWorkFactory) -> None:
    """A caller is answered only once its change is committed: when the answer arrives,
    another connection already reads it."""
    writer = ObjectWriter(uow)
    seen: list[int] = []

    async def write_then_read() -> None:
        value = await writer.write(Change(ModuleId.TARIFFS, KEY, _increment))
        seen.append(await _stored_count(uow) - value)

    await asyncio.gather(*(write_then_read() for _ in range(20)))
    assert all(delta >= 0 for delta in seen)


async def test_concurrent_lookups_share_one_read(uow: SqlUnitOfWorkFactory) -> None:
    """100 concurrent point reads (one object that exists, one that does not) are
    answered right from a few read transactions, not one each."""
    writer = ObjectWriter(uow)
    await writer.write(Change(ModuleId.TARIFFS, KEY, _increment))
    reader = ObjectReader(uow)
    missing = ObjectKey("NL", "CPO", "MISSING")
    # The id in another case finds the same object (ids are case-insensitive).
    keys = [ObjectKey("nl", "cpo", "counter") if i % 2 else missing for i in range(100)]
    found = await asyncio.gather(*(reader.get(ModuleId.TARIFFS, k) for k in keys))
    assert [f is not None for f in found] == [bool(i % 2) for i in range(100)]
    assert all(f.key.id == "COUNTER" for f in found if f is not None)
    assert reader.items == 100 and reader.batches <= 2


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_bulk_inserts_keep_postgresql_statistics(
    uow: SqlUnitOfWorkFactory, engine: AsyncEngine
) -> None:
    """Without statistics the planner filters ``get_many``'s ids row by row across the
    whole party (seconds per batch on a freshly loaded table); the repository ANALYZEs
    the table once bulk inserts have grown it past 2,000 rows, and not before."""

    async def analyzed() -> bool:
        async with engine.connect() as conn:
            last = await conn.scalar(
                text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'ocpi_object'")
            )
        return last is not None

    def row(i: int) -> StoredObject:
        return StoredObject(
            module=ModuleId.LOCATIONS,
            key=ObjectKey("NL", "CPO", f"L{i:05d}"),
            last_updated=NOW,
            document_json="{}",
            partner_id=None,
            shared=True,
            created_at=NOW,
        )

    async with uow() as u:
        await u.objects.put_many([row(i) for i in range(1500)])
        await u.commit()
    assert not await analyzed()
    async with uow() as u:
        await u.objects.put_many([row(i) for i in range(1500, 3000)])
        await u.commit()
    assert await analyzed()


async def test_a_delete_in_a_batch_removes_the_row_and_later_changes_see_it_gone(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """Deletes share batches too: a delete after an increment removes the row, and an
    increment after it in the same batch starts again from nothing."""
    writer = ObjectWriter(uow)
    await writer.write(Change(ModuleId.TARIFFS, KEY, _increment))

    def remove(stored: StoredObject | None) -> Written[bool]:
        return Written(None, stored is not None, delete=True)

    outcomes = await asyncio.gather(
        writer.write(Change(ModuleId.TARIFFS, KEY, _increment)),
        writer.write(Change(ModuleId.TARIFFS, KEY, remove)),
        writer.write(Change(ModuleId.TARIFFS, KEY, _increment)),
    )
    assert outcomes == [2, True, 1]
    assert await _stored_count(uow) == 1
    await writer.write(Change(ModuleId.TARIFFS, KEY, remove))
    async with uow(read_only=True) as u:
        assert await u.objects.get(ModuleId.TARIFFS, KEY) is None


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_two_writers_on_one_database_lose_nothing_whatever_their_order(
    db_url: str, uow: SqlUnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Two writers with pools of their own (as two node processes on one PostgreSQL
    database) increment the same two objects, one in the order A, B and the other B, A,
    at once: every increment lands and no caller sees an error. (That their rows are
    locked in one order is shown by the next test: here the interleaving that would
    deadlock is not forced.)"""
    # Different owners: read by separate queries, the order of which decides the locks.
    keys = [ObjectKey("NL", "CPO", "A"), ObjectKey("DE", "ABC", "B")]

    def increment(key: ObjectKey) -> Change[int]:
        def apply(stored: StoredObject | None) -> Written[int]:
            value = 1 if stored is None else json.loads(stored.document_json)["n"] + 1
            obj = StoredObject(
                module=ModuleId.TARIFFS,
                key=key,
                last_updated=NOW,
                document_json=json.dumps({"n": value}),
                partner_id=None,
                shared=True,
                created_at=NOW,
            )
            return Written(obj, value)

        return Change(ModuleId.TARIFFS, key, apply)

    seed = ObjectWriter(uow)
    for key in keys:
        await seed.write(increment(key))
    other_engine = create_engine(db_url)
    try:
        first = ObjectWriter(uow)
        second = ObjectWriter(SqlUnitOfWorkFactory(session_factory(other_engine)))
        calls = []
        for _ in range(30):
            calls += [first.write(increment(keys[0])), first.write(increment(keys[1]))]
            calls += [second.write(increment(keys[1])), second.write(increment(keys[0]))]
        with caplog.at_level(logging.WARNING, logger="evroam.writes"):
            await asyncio.gather(*calls)
    finally:
        await other_engine.dispose()
    # No batch had to be taken apart after a deadlock.
    assert not [r for r in caplog.records if "retrying each alone" in r.getMessage()]
    async with uow(read_only=True) as u:
        for key in keys:
            stored = await u.objects.get(ModuleId.TARIFFS, key)
            assert stored is not None and json.loads(stored.document_json)["n"] == 61


async def test_rows_are_locked_in_one_order_whatever_the_order_asked(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    """Two batches asking for the same objects in opposite orders read (and on
    PostgreSQL lock) them in the same order, so two processes' batches queue rather than
    deadlock: owners in sorted order, ids sorted within each."""
    keys = [ObjectKey("NL", "CPO", "A"), ObjectKey("DE", "ABC", "B"), ObjectKey("NL", "CPO", "0")]
    seen: list[tuple[Any, ...]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if "FROM ocpi_object" in statement and "id_key IN" in statement:
            seen.append(tuple(params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        for order in (keys, list(reversed(keys))):
            async with uow() as u:
                await u.objects.get_many_for_update(ModuleId.TARIFFS, order)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    first, second = seen[: len(seen) // 2], seen[len(seen) // 2 :]
    assert len(first) == 2 and first == second
    assert (
        "DE" in first[0]
        and "0" in first[1]
        and list(first[1]).index("0") < list(first[1]).index("A")
    )


async def test_one_batch_of_location_changes_hands_the_document_on_and_stores_it_once(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """A partner's PATCHes of one Location arriving together share a batch: each change
    takes the document the one before handed over (no parse), a stale and an unknown
    change between them leave it as it was, and the batch stores the rendered text.
    Without the writer's rendering the row would hold an empty text; with a refused
    change that changed the handed-over document in place, the unknown EVSE's PUT would
    leave an ``evses`` list or the stale status behind."""
    from evroam.core.types import Role
    from evroam.ocpi.v2_2_1.locations.convert import validate_location
    from evroam.services.locations import LocationPath, LocationsService, merge_fields
    from tests.storage.factories import make_partner, party
    from tests.storage.requests_support import Clock, node_context

    async with uow() as u:
        partner = await u.partners.add(make_partner(roles=[party("NL", "ABC", Role.CPO)]))
        await u.commit()
    service = LocationsService(node_context(uow, Clock()))
    key = ObjectKey("NL", "ABC", "LOC1")
    stamp = "2026-11-20T10:00:00Z"
    connector = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": stamp,
    }
    location = validate_location(
        {
            "country_code": "NL",
            "party_id": "ABC",
            "id": "LOC1",
            "publish": True,
            "address": "Street 1",
            "city": "Town",
            "country": "NLD",
            "coordinates": {"latitude": "52.10000", "longitude": "4.10000"},
            "time_zone": "Europe/Amsterdam",
            "evses": [
                {
                    "uid": uid,
                    "status": "AVAILABLE",
                    "connectors": [connector],
                    "last_updated": stamp,
                }
                for uid in ("E1", "E2")
            ],
            "last_updated": stamp,
        }
    )
    assert await service.receive_put(partner, LocationPath(key), location) == "created"

    def status(value: str, at: str) -> dict[str, Any]:
        return {"status": value, "last_updated": at}

    writer = service.ctx.writer
    before = writer.batches
    outcomes = await asyncio.gather(
        service.receive_patch(
            partner,
            LocationPath(key, "E1"),
            status("CHARGING", "2026-11-21T10:00:00Z"),
            merge_fields,
        ),
        service.receive_patch(
            partner,
            LocationPath(key, "E2"),
            status("BLOCKED", "2026-11-01T10:00:00Z"),
            merge_fields,
        ),
        service.receive_put(partner, LocationPath(key, "E9", "1"), connector),
        service.receive_patch(
            partner,
            LocationPath(key, "E2"),
            status("OUTOFORDER", "2026-11-22T10:00:00Z"),
            merge_fields,
        ),
    )
    assert outcomes == ["updated", "stale", "unknown", "updated"]
    assert writer.batches == before + 1  # one batch: the handing-over was exercised
    async with uow(read_only=True) as u:
        stored = await u.objects.get(ModuleId.LOCATIONS, key)
    assert stored is not None and stored.document is None
    doc = json.loads(stored.document_json)
    assert [(e["uid"], e["status"]) for e in doc["evses"]] == [
        ("E1", "CHARGING"),
        ("E2", "OUTOFORDER"),
    ]
    assert doc["last_updated"] == "2026-11-22T10:00:00Z"
    assert stored.last_updated.isoformat() == "2026-11-22T10:00:00+00:00"
