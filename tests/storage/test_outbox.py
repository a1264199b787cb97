"""The push outbox on a real database, SQLite and PostgreSQL: enqueue writes one entry
per receiving partner and coalesces, claims keep per-object order and never hand one
entry to two workers, leases run out, retention deletes delivered entries."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from evroam.core.objects import ObjectKey
from evroam.core.push import DeliveryResult, OutboxEntry, OutboxState, PushChange, PushMethod
from evroam.core.types import ConnectionStatus, Endpoint, InterfaceRole, ModuleId, Role
from evroam.push.outbox import Outbox
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW, make_partner, party

LEASE = timedelta(seconds=60)
LOC = ObjectKey("NL", "CPO", "LOC1")


def receiver(
    module: str = "locations", url: str = "http://p.example/ocpi/2.2.1/locations"
) -> Endpoint:
    return Endpoint(module, InterfaceRole.RECEIVER, url)


async def add_partner(
    uow: SqlUnitOfWorkFactory, cc: str, pid: str, *, role: Role = Role.EMSP, **kw: Any
) -> int:
    kw.setdefault(
        "endpoints",
        [
            Endpoint("credentials", InterfaceRole.SENDER, "http://p.example/cred"),
            receiver(),
            receiver("sessions", "http://p.example/ocpi/2.2.1/sessions"),
        ],
    )
    async with uow() as u:
        p = await u.partners.add(make_partner(roles=[party(cc, pid, role)], **kw))
        await u.commit()
    return p.id


def evse_status(evse: str, status: str, second: int = 0) -> PushChange:
    return PushChange(
        ModuleId.LOCATIONS,
        LOC,
        PushMethod.PATCH,
        ("NL", "CPO", "LOC1", evse),
        {"status": status, "last_updated": f"2026-01-01T00:00:{second:02d}Z"},
    )


def put_of(location_id: str) -> PushChange:
    """A PUT of another Location: an object of its own."""
    return PushChange(
        ModuleId.LOCATIONS,
        ObjectKey("NL", "CPO", location_id),
        PushMethod.PUT,
        ("NL", "CPO", location_id),
        {"id": location_id},
    )


def location_put(name: str) -> PushChange:
    return PushChange(
        ModuleId.LOCATIONS, LOC, PushMethod.PUT, ("NL", "CPO", "LOC1"), {"id": "LOC1", "name": name}
    )


async def enqueue(
    uow: SqlUnitOfWorkFactory, changes: list[PushChange], outbox: Outbox | None = None
) -> None:
    outbox = outbox or Outbox(clock=lambda: NOW)
    async with uow() as u:
        await outbox.enqueue(u, changes)
        await u.commit()


async def entries(uow: SqlUnitOfWorkFactory, **kw: Any) -> list[OutboxEntry]:
    async with uow(read_only=True) as u:
        return await u.outbox.entries(limit=10_000, **kw)


async def claim(
    uow: SqlUnitOfWorkFactory,
    partner_id: int,
    owner: str = "w1",
    at: timedelta = timedelta(0),
    limit: int = 100,
) -> list[OutboxEntry]:
    async with uow() as u:
        got = await u.outbox.claim(partner_id, NOW + at, limit, owner, LEASE)
        await u.commit()
    return got


async def settle(
    uow: SqlUnitOfWorkFactory, results: list[DeliveryResult], owner: str = "w1"
) -> None:
    async with uow() as u:
        await u.outbox.settle(results, owner, NOW)
        await u.commit()


def delivered(e: OutboxEntry) -> DeliveryResult:
    return DeliveryResult(e.id, OutboxState.DELIVERED, e.attempts + 1)


async def test_one_entry_per_receiving_partner_only(uow: SqlUnitOfWorkFactory) -> None:
    """Registered partners with a Locations RECEIVER get the change; one without the
    endpoint, a SUSPENDED one and one never registered get nothing."""
    a = await add_partner(uow, "DE", "AAA")
    b = await add_partner(uow, "DE", "BBB")
    await add_partner(uow, "DE", "NOE", endpoints=[])
    await add_partner(uow, "DE", "SUS", status=ConnectionStatus.SUSPENDED)
    await add_partner(uow, "DE", "NEW", registered_at=None)
    await enqueue(uow, [location_put("x")])
    got = await entries(uow)
    assert sorted(e.partner_id for e in got) == [a, b]
    e = got[0]
    assert (e.method, e.path, e.from_party, e.to_party, e.version) == (
        PushMethod.PUT,
        ("NL", "CPO", "LOC1"),
        "NL-CPO",
        "DE-AAA",
        "2.2.1",
    )
    assert json.loads(e.body or "") == {"id": "LOC1", "name": "x"}


async def test_audience_narrows_to_the_partner_holding_that_party(
    uow: SqlUnitOfWorkFactory,
) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await add_partner(uow, "DE", "BBB")
    change = PushChange(
        ModuleId.SESSIONS,
        ObjectKey("NL", "CPO", "S1"),
        PushMethod.PUT,
        ("NL", "CPO", "S1"),
        {"id": "S1"},
        audience=("de", "aaa"),
    )
    await enqueue(uow, [change])
    got = await entries(uow)
    assert [(e.partner_id, e.to_party) for e in got] == [(a, "DE-AAA")]


async def test_patches_of_one_path_coalesce_into_one_pending_entry(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """1,000 status changes of 10 EVSEs, in batches as the writer would send them, leave
    10 pending entries per partner, each with the last status."""
    a = await add_partner(uow, "DE", "AAA")
    statuses = ["AVAILABLE", "CHARGING", "BLOCKED"]
    changes = [evse_status(f"E{i % 10}", statuses[i % 3], i % 60) for i in range(1000)]
    for start in range(0, 1000, 97):
        await enqueue(uow, changes[start : start + 97])
    got = await entries(uow, partner_id=a)
    assert len(got) == 10
    final = {c.path[-1]: c.body for c in changes}
    for e in got:
        assert e.method == PushMethod.PATCH
        assert json.loads(e.body or "") == final[e.path[-1]]


async def test_put_absorbs_a_later_patch_and_a_put_replaces(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [location_put("first")])
    patch = PushChange(
        ModuleId.LOCATIONS,
        LOC,
        PushMethod.PATCH,
        ("NL", "CPO", "LOC1"),
        {"name": "patched", "x": 1},
    )
    await enqueue(uow, [patch])
    (e,) = await entries(uow, partner_id=a)
    assert e.method == PushMethod.PUT
    assert json.loads(e.body or "") == {"id": "LOC1", "name": "patched", "x": 1}
    await enqueue(uow, [location_put("second")])
    (e2,) = await entries(uow, partner_id=a)
    assert e2.id == e.id  # kept its place in the queue
    assert json.loads(e2.body or "") == {"id": "LOC1", "name": "second"}


async def test_session_patches_append_charging_periods(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    key = ObjectKey("NL", "CPO", "S1")

    def patch(n: int) -> PushChange:
        return PushChange(
            ModuleId.SESSIONS,
            key,
            PushMethod.PATCH,
            ("NL", "CPO", "S1"),
            {"kwh": n, "charging_periods": [{"n": n}]},
        )

    await enqueue(uow, [patch(1), patch(2)])
    await enqueue(uow, [patch(3)])
    (e,) = await entries(uow, partner_id=a)
    assert json.loads(e.body or "") == {
        "kwh": 3,
        "charging_periods": [{"n": 1}, {"n": 2}, {"n": 3}],
    }


async def test_an_entry_in_flight_is_not_merged_into(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [evse_status("E1", "CHARGING")])
    (first,) = await claim(uow, a)
    await enqueue(uow, [evse_status("E1", "AVAILABLE", 1)])
    got = await entries(uow, partner_id=a)
    assert [(e.state, json.loads(e.body or "")["status"]) for e in got] == [
        (OutboxState.SENDING, "CHARGING"),
        (OutboxState.PENDING, "AVAILABLE"),
    ]
    assert got[0].id == first.id


async def test_claim_takes_only_the_head_of_each_object(uow: SqlUnitOfWorkFactory) -> None:
    """A PUT of LOC1 and a PATCH of its EVSE: the PATCH waits for the PUT; another
    object's entry goes at once."""
    a = await add_partner(uow, "DE", "AAA")
    other = PushChange(
        ModuleId.LOCATIONS,
        ObjectKey("NL", "CPO", "LOC2"),
        PushMethod.PUT,
        ("NL", "CPO", "LOC2"),
        {"id": "LOC2"},
    )
    await enqueue(uow, [location_put("x"), evse_status("E1", "CHARGING"), other])
    got = await claim(uow, a)
    assert [e.path for e in got] == [("NL", "CPO", "LOC1"), ("NL", "CPO", "LOC2")]
    assert await claim(uow, a, owner="w2") == []  # the PATCH waits behind the PUT in flight
    await settle(uow, [delivered(got[0])])
    nxt = await claim(uow, a, owner="w2")
    assert [e.path for e in nxt] == [("NL", "CPO", "LOC1", "E1")]


async def test_a_dead_letter_holds_only_its_object(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    other = PushChange(
        ModuleId.LOCATIONS,
        ObjectKey("NL", "CPO", "LOC2"),
        PushMethod.PUT,
        ("NL", "CPO", "LOC2"),
        {"id": "LOC2"},
    )
    await enqueue(uow, [location_put("x")])
    (put,) = await claim(uow, a)
    await settle(uow, [DeliveryResult(put.id, OutboxState.DEAD, 1, error="OCPI 2001")])
    await enqueue(uow, [evse_status("E1", "CHARGING"), other])
    got = await claim(uow, a)
    assert [e.path for e in got] == [("NL", "CPO", "LOC2")]
    async with uow() as u:
        assert await u.outbox.retry(put.id, NOW)
        await u.commit()
    assert [e.id for e in await claim(uow, a)] == [put.id]


async def test_a_lease_runs_out_and_only_its_owner_settles(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [location_put("x")])
    (e,) = await claim(uow, a, owner="dead-worker")
    assert await claim(uow, a, owner="w2", at=LEASE - timedelta(seconds=1)) == []
    (again,) = await claim(uow, a, owner="w2", at=LEASE + timedelta(seconds=1))
    assert again.id == e.id
    await settle(uow, [delivered(e)], owner="dead-worker")  # too late: not its lease now
    (row,) = await entries(uow)
    assert row.state == OutboxState.SENDING
    await settle(uow, [delivered(e)], owner="w2")
    (row,) = await entries(uow)
    assert row.state == OutboxState.DELIVERED and row.delivered_at == NOW


async def test_retry_waits_for_next_attempt_at(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [location_put("x")])
    (e,) = await claim(uow, a)
    later = NOW + timedelta(seconds=30)
    await settle(uow, [DeliveryResult(e.id, OutboxState.PENDING, 1, later, "HTTP 500", 500)])
    assert await claim(uow, a, at=timedelta(seconds=29)) == []
    (again,) = await claim(uow, a, at=timedelta(seconds=30))
    assert (again.attempts, again.last_http_status, again.last_error) == (1, 500, "HTTP 500")


async def test_hold_and_release(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [location_put("x")])
    async with uow() as u:
        assert await u.outbox.hold(a, "partner is SUSPENDED", NOW) == 1
        await u.commit()
    (e,) = await entries(uow)
    assert (e.state, e.held_reason) == (OutboxState.HELD, "partner is SUSPENDED")
    assert await claim(uow, a) == []
    async with uow() as u:
        assert await u.outbox.held_partners() == [a]
        assert await u.outbox.release([a], NOW) == 1
        await u.commit()
    assert len(await claim(uow, a)) == 1


async def test_retention_deletes_delivered_entries_in_batches(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [put_of(f"L{i}") for i in range(7)])
    got = await claim(uow, a)
    await settle(uow, [delivered(e) for e in got[:5]])
    async with uow() as u:
        assert await u.outbox.purge_delivered(NOW, 3) == 0  # not older than the cut
        assert await u.outbox.purge_delivered(NOW + timedelta(seconds=1), 3) == 3
        assert await u.outbox.purge_delivered(NOW + timedelta(seconds=1), 3) == 2
        await u.commit()
    assert [e.state for e in await entries(uow)] == [OutboxState.SENDING] * 2


async def test_stats_count_by_state(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [put_of(f"L{i}") for i in range(3)])
    got = await claim(uow, a, limit=2)
    await settle(uow, [delivered(got[0]), DeliveryResult(got[1].id, OutboxState.DEAD, 1)])
    async with uow(read_only=True) as u:
        (stat,) = await u.outbox.stats(NOW)
    assert (stat.partner_id, stat.module, stat.pending, stat.dead, stat.delivered_last_minute) == (
        a,
        ModuleId.LOCATIONS,
        1,
        1,
        1,
    )
    assert stat.oldest_at == NOW


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_concurrent_claimers_never_share_an_entry(uow: SqlUnitOfWorkFactory) -> None:
    """PostgreSQL: eight workers claiming at once, in small batches until the queue is
    empty, get every entry exactly once (FOR UPDATE SKIP LOCKED)."""
    a = await add_partner(uow, "DE", "AAA")
    changes = [
        PushChange(
            ModuleId.LOCATIONS,
            ObjectKey("NL", "CPO", f"L{i}"),
            PushMethod.PUT,
            ("NL", "CPO", f"L{i}"),
            {"id": f"L{i}"},
        )
        for i in range(400)
    ]
    await enqueue(uow, changes)

    async def worker(name: str) -> list[int]:
        mine: list[int] = []
        while True:
            got = await claim(uow, a, owner=name, limit=7)
            if not got:
                return mine
            mine.extend(e.id for e in got)
            await settle(uow, [delivered(e) for e in got], owner=name)

    claimed = await asyncio.gather(*(worker(f"w{i}") for i in range(8)))
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 400
    assert sum(1 for ids in claimed if ids) > 1  # they really ran side by side


async def test_due_and_pending_partners_are_reads_of_the_queue(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    b = await add_partner(uow, "DE", "BBB", endpoints=[])
    async with uow(read_only=True) as u:
        assert not await u.outbox.due(a, NOW)
    await enqueue(uow, [location_put("x")])
    async with uow(read_only=True) as u:
        assert await u.outbox.due(a, NOW)
        assert not await u.outbox.due(b, NOW)
        assert await u.outbox.pending_partners([a, b]) == [a]
    await claim(uow, a)
    async with uow(read_only=True) as u:
        assert not await u.outbox.due(a, NOW)  # in flight: due again when the lease ends
        assert await u.outbox.due(a, NOW + LEASE)
        assert await u.outbox.pending_partners([a]) == []


async def test_a_put_drops_what_is_owed_below_it_and_goes_last(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """Pending EVSE PATCHes are older states of what a Location PUT sends whole: the PUT
    replaces them, queued last; PATCHes after it merge again (siblings do not stop
    that). Alternating PUTs and PATCHes stay bounded."""
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [evse_status("E1", "CHARGING"), evse_status("E2", "CHARGING")])
    await enqueue(uow, [location_put("x")])
    await enqueue(uow, [evse_status("E1", "BLOCKED", 1)])
    await enqueue(uow, [evse_status("E1", "AVAILABLE", 2), evse_status("E2", "BLOCKED", 2)])
    await enqueue(uow, [evse_status("E1", "OUTOFORDER", 3)])
    got = await entries(uow, partner_id=a)
    assert [(e.path[-1], json.loads(e.body or "").get("status")) for e in got] == [
        ("LOC1", None),
        ("E1", "OUTOFORDER"),
        ("E2", "BLOCKED"),
    ]
    for n in range(50):
        await enqueue(uow, [location_put(f"n{n}"), evse_status("E1", "CHARGING", n)])
    got = await entries(uow, partner_id=a)
    assert [(e.method, e.path[-1]) for e in got] == [("PUT", "LOC1"), ("PATCH", "E1")]
    assert json.loads(got[0].body or "")["name"] == "n49"


async def test_a_patch_never_merges_ahead_of_a_later_patch_of_its_location(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """EVSE PATCH, then a PATCH of its Location (which may carry the EVSE list), both
    pending: the next PATCH of that EVSE is queued after it, not merged into the first
    (it would arrive before the Location's older copy of the EVSE)."""
    a = await add_partner(uow, "DE", "AAA")
    loc_patch = PushChange(
        ModuleId.LOCATIONS, LOC, PushMethod.PATCH, ("NL", "CPO", "LOC1"), {"name": "n"}
    )
    await enqueue(uow, [evse_status("E1", "CHARGING"), loc_patch])
    await enqueue(uow, [evse_status("E1", "BLOCKED", 1)])
    got = await entries(uow, partner_id=a)
    assert [(e.path[-1], json.loads(e.body or "").get("status")) for e in got] == [
        ("E1", "CHARGING"),
        ("LOC1", None),
        ("E1", "BLOCKED"),
    ]


async def test_the_same_rules_hold_within_one_batch(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(
        uow,
        [
            evse_status("E1", "CHARGING"),
            location_put("x"),
            evse_status("E1", "BLOCKED", 1),
            evse_status("E1", "AVAILABLE", 2),
        ],
    )
    got = await entries(uow, partner_id=a)
    assert [(e.method, json.loads(e.body or "").get("status")) for e in got] == [
        ("PUT", None),
        ("PATCH", "AVAILABLE"),
    ]


async def test_retry_dead_of_a_partner_and_module(uow: SqlUnitOfWorkFactory) -> None:
    a = await add_partner(uow, "DE", "AAA")
    await enqueue(uow, [put_of("L1"), put_of("L2")])
    got = await claim(uow, a)
    await settle(uow, [DeliveryResult(e.id, OutboxState.DEAD, 1) for e in got])
    async with uow() as u:
        assert await u.outbox.retry_dead(a, ModuleId.TARIFFS, NOW) == 0
        assert await u.outbox.retry_dead(a, ModuleId.LOCATIONS, NOW) == 2
        assert await u.outbox.retry_dead(a, None, NOW) == 0
        await u.commit()
    assert len(await claim(uow, a)) == 2
