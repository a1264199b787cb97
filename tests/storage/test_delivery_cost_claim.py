"""The claim leases and reads in one statement (``UPDATE ... RETURNING``): what it hands
back is the entry as the table now holds it (SENDING, due again when the lease ends),
field for field, in id order, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

from evroam.core.push import OutboxState
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW
from tests.storage.test_outbox import (
    LEASE,
    add_partner,
    claim,
    enqueue,
    entries,
    evse_status,
    put_of,
)


async def test_a_claimed_entry_is_the_row_as_its_lease_left_it(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [put_of(f"L{i}") for i in range(5)] + [evse_status("E1", "CHARGING")])
    got = await claim(uow, a, limit=4)
    stored = {e.id: e for e in await entries(uow, partner_id=a)}
    assert [e.id for e in got] == sorted(e.id for e in got)
    assert len(got) == 4
    for entry in got:
        assert entry.state == OutboxState.SENDING
        assert entry.next_attempt_at == NOW + LEASE
        assert dataclasses.asdict(entry) == dataclasses.asdict(stored[entry.id])
    unclaimed = [e for e in stored.values() if e.id not in {g.id for g in got}]
    assert {e.state for e in unclaimed} == {OutboxState.PENDING}


async def test_a_second_claim_takes_the_rest_and_then_nothing(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [put_of(f"L{i}") for i in range(5)])
    first = await claim(uow, a, limit=3)
    second = await claim(uow, a, owner="w2", limit=3)
    assert len(first) == 3 and len(second) == 2
    assert not {e.id for e in first} & {e.id for e in second}
    assert await claim(uow, a, owner="w3") == []
