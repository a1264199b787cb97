"""Kept requests (``received_request``, ``sent_request``) and outbox calls to a partner's
URL, on SQLite and PostgreSQL: state changes are conditional (only one of two
transactions moves a request), a result overtaking the answer keeps its state, expiry
takes only what still waits, and a ``url`` entry goes to the one audience partner
whatever endpoints it lists."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from evroam.core.callbacks import (
    ReceivedRequest,
    ReceivedState,
    RequestKind,
    SentRequest,
    SentState,
)
from evroam.core.objects import ObjectKey
from evroam.core.push import OutboxState, PushChange, PushMethod
from evroam.core.types import Endpoint, InterfaceRole, ModuleId, Role
from evroam.push.outbox import Outbox
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW, make_partner, party

RESPONSE_URL = "https://emsp.example.com/ocpi/2.2.1/sender/commands/START_SESSION/r1"


def received(rid: str, *, timeout_s: int = 30, **kw: object) -> ReceivedRequest:
    base: dict[str, object] = dict(
        id=rid,
        kind=RequestKind.COMMAND,
        type="START_SESSION",
        partner_id=None,
        party="NL-CPO",
        requester="DE-MSP",
        body={"response_url": RESPONSE_URL, "location_id": "LOC1"},
        response_url=RESPONSE_URL,
        state=ReceivedState.WAITING,
        timeout_at=NOW + timedelta(seconds=timeout_s),
        created_at=NOW,
    )
    base.update(kw)
    return ReceivedRequest(**base)  # type: ignore[arg-type]


def sent(rid: str, **kw: object) -> SentRequest:
    base: dict[str, object] = dict(
        id=rid,
        kind=RequestKind.COMMAND,
        type="STOP_SESSION",
        partner_id=None,
        party="NL-CPO",
        sender="DE-MSP",
        body={"response_url": RESPONSE_URL, "session_id": "S1"},
        response_url=RESPONSE_URL,
        state=SentState.SENT,
        created_at=NOW,
        expires_at=NOW + timedelta(seconds=60),
    )
    base.update(kw)
    return SentRequest(**base)  # type: ignore[arg-type]


async def test_received_request_round_trips_and_finishes_once(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.received_requests.add(received("r1", session_id="S1"))
        await u.commit()
    async with uow() as u:
        got = await u.received_requests.get("r1")
        assert got is not None
        assert got.body["location_id"] == "LOC1" and got.timeout_at == NOW + timedelta(seconds=30)
        assert got.state == ReceivedState.WAITING and got.session_id == "S1"
        first = await u.received_requests.finish(
            "r1",
            ReceivedState.WAITING,
            ReceivedState.DONE,
            "ACCEPTED",
            None,
            {"result": "ACCEPTED"},
            NOW,
        )
        second = await u.received_requests.finish(
            "r1", ReceivedState.WAITING, ReceivedState.TIMEOUT, "TIMEOUT", None, None, NOW
        )
        await u.commit()
    assert (first, second) == (True, False)
    async with uow(read_only=True) as u:
        got = await u.received_requests.get("r1")
    assert got is not None and got.state == ReceivedState.DONE and got.result == "ACCEPTED"
    assert got.result_body == {"result": "ACCEPTED"}


async def test_overdue_lists_only_waiting_requests_past_their_timeout(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as u:
        await u.received_requests.add(received("due", timeout_s=5))
        await u.received_requests.add(received("later", timeout_s=50))
        await u.received_requests.add(received("done", timeout_s=5, state=ReceivedState.DONE))
        await u.commit()
    async with uow(read_only=True) as u:
        due = await u.received_requests.overdue(NOW + timedelta(seconds=10), 100)
    assert [r.id for r in due] == ["due"]


async def test_late_result_is_kept_once_and_only_after_timeout(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.received_requests.add(received("w"))
        await u.received_requests.add(received("t", state=ReceivedState.TIMEOUT))
        await u.commit()
    async with uow() as u:
        assert not await u.received_requests.keep_late("w", "ACCEPTED", NOW)
        assert await u.received_requests.keep_late("t", "ACCEPTED", NOW)
        assert not await u.received_requests.keep_late("t", "FAILED", NOW)
        await u.commit()
    async with uow(read_only=True) as u:
        got = await u.received_requests.get("t")
    assert got is not None and got.late_result == "ACCEPTED" and got.state == ReceivedState.TIMEOUT


async def test_two_transactions_finishing_one_request_only_one_wins(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """The watchdog of one process and a result arriving at another: both UPDATE the
    WAITING request at once; exactly one matches (PostgreSQL: row lock then re-check)."""
    async with uow() as u:
        await u.received_requests.add(received("race"))
        await u.commit()

    async def finish(state: ReceivedState) -> bool:
        async with uow() as u:
            ok = await u.received_requests.finish(
                "race", ReceivedState.WAITING, state, state.value, None, None, NOW
            )
            await asyncio.sleep(0.05)  # hold the row while the other tries
            await u.commit()
            return ok

    results = await asyncio.gather(finish(ReceivedState.DONE), finish(ReceivedState.TIMEOUT))
    assert sorted(results) == [False, True]


async def test_sent_request_answer_result_and_expiry(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.sent_requests.add(sent("a"))
        await u.sent_requests.add(sent("overtaken"))
        await u.sent_requests.add(sent("silent"))
        await u.sent_requests.add(sent("failed"))
        await u.commit()
    later = NOW + timedelta(seconds=600)
    async with uow() as u:
        assert await u.sent_requests.record_response("a", "ACCEPTED", 30, None, later, NOW)
        # The result came before the answer: the answer is kept, the state stays RESULT.
        assert await u.sent_requests.record_result("overtaken", "ACCEPTED", {"result": "A"}, NOW)
        assert await u.sent_requests.record_response("overtaken", "ACCEPTED", 30, None, later, NOW)
        assert await u.sent_requests.record_failure("failed", "timed out", NOW)
        assert not await u.sent_requests.record_failure("a", "too late", NOW)
        # A second result is not stored, unless replacing (a cancelled reservation).
        assert await u.sent_requests.record_result("a", "ACCEPTED", None, NOW)
        assert not await u.sent_requests.record_result("a", "FAILED", None, NOW)
        await u.commit()
    async with uow() as u:
        assert await u.sent_requests.expire(NOW + timedelta(seconds=120)) == 1  # "silent"
        await u.commit()
    async with uow(read_only=True) as u:
        states = {r.id: (r.state, r.response, r.result) for r in await u.sent_requests.search()}
        listed = await u.sent_requests.search(states=[SentState.EXPIRED])
    assert states == {
        "a": (SentState.RESULT, "ACCEPTED", "ACCEPTED"),
        "overtaken": (SentState.RESULT, "ACCEPTED", "ACCEPTED"),
        "silent": (SentState.EXPIRED, None, None),
        "failed": (SentState.FAILED, None, None),
    }
    assert [r.id for r in listed] == ["silent"]


async def test_accepted_request_expires_at_its_new_deadline(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.sent_requests.add(sent("acc"))
        await u.sent_requests.record_response(
            "acc", "ACCEPTED", 30, None, NOW + timedelta(seconds=300), NOW
        )
        await u.commit()
    async with uow() as u:
        assert await u.sent_requests.expire(NOW + timedelta(seconds=120)) == 0
        assert await u.sent_requests.expire(NOW + timedelta(seconds=300)) == 1
        await u.commit()


async def add_emsp(uow: SqlUnitOfWorkFactory, cc: str, pid: str, endpoints: list[Endpoint]) -> int:
    async with uow() as u:
        p = await u.partners.add(
            make_partner(roles=[party(cc, pid, Role.EMSP)], endpoints=endpoints)
        )
        await u.commit()
    return p.id


@pytest.mark.parametrize("with_endpoint", [True, False])
async def test_url_change_goes_to_the_audience_partner_only(
    uow: SqlUnitOfWorkFactory, with_endpoint: bool
) -> None:
    """A result POST to a response_url: one entry, for the partner holding the audience
    party, whether or not it lists a commands endpoint; never to the other eMSP."""
    endpoints = (
        [Endpoint("commands", InterfaceRole.SENDER, "https://emsp.example.com/c")]
        if with_endpoint
        else []
    )
    mine = await add_emsp(uow, "DE", "MSP", endpoints)
    other = await add_emsp(uow, "FR", "OTH", endpoints)
    change = PushChange(
        ModuleId.COMMANDS,
        ObjectKey("NL", "CPO", "r1"),
        PushMethod.POST,
        (),
        {"result": "ACCEPTED"},
        audience=("de", "msp"),
        url=RESPONSE_URL,
    )
    async with uow() as u:
        await Outbox(clock=lambda: NOW).enqueue(u, [change, change])
        await u.commit()
    async with uow(read_only=True) as u:
        entries = await u.outbox.entries()
    assert [(e.partner_id, e.url, e.method, e.to_party) for e in entries] == [
        (mine, RESPONSE_URL, PushMethod.POST, "DE-MSP"),
        (mine, RESPONSE_URL, PushMethod.POST, "DE-MSP"),
    ]  # POSTs never coalesce
    assert other not in {e.partner_id for e in entries}
    assert entries[0].body == '{"result":"ACCEPTED"}' and entries[0].path == ()
    assert entries[0].from_party == "NL-CPO" and entries[0].state == OutboxState.PENDING


def test_url_change_needs_an_audience_and_a_post() -> None:
    with pytest.raises(ValueError):
        PushChange(ModuleId.COMMANDS, ObjectKey("NL", "CPO", "r"), PushMethod.POST, (), {}, url="x")
    with pytest.raises(ValueError):
        PushChange(
            ModuleId.COMMANDS,
            ObjectKey("NL", "CPO", "r"),
            PushMethod.PUT,
            (),
            {},
            audience=("DE", "MSP"),
            url="x",
        )
