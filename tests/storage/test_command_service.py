"""The Commands service and the request watchdog on a real database (SQLite and
PostgreSQL), with a driven clock instead of sleeping: a command is kept WAITING until a
result or its timeout moves it, exactly one POST to its response_url is queued either
way (also when two watchdogs race), a late result is kept and not sent, a second one
ignored; what the backend cannot take is answered at once and never POSTed; an eMSP's
sent command keeps an overtaking result, fails when the CPO cannot be used, expires when
no result comes, and takes a result only from the partner it went to."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from evroam.core.backend import (
    BackendError,
    CommandResultType,
    CommandType,
)
from evroam.core.callbacks import (
    ReceivedRequest,
    ReceivedState,
    Reply,
    RequestKind,
    SentState,
    UnknownRequest,
)
from evroam.core.errors import InvalidInput, PartnerUnreachable
from evroam.core.objects import Document, ObjectKey, StoredObject
from evroam.core.push import OutboxEntry
from evroam.core.types import Endpoint, InterfaceRole, ModuleId, Partner, Role
from evroam.services.callbacks import Callbacks
from evroam.services.commands import CommandsService
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW, make_partner, party
from tests.storage.requests_support import (
    EMSP_URL,
    NODE_SENDER,
    Clock,
    FakeBackend,
    node_context,
    outbox_entries,
)

RESPONSE = f"{EMSP_URL}/ocpi/2.2.1/sender/commands/START_SESSION/r-1"


class FakeApi:
    """``CommandsApi``: answers ``reply``, raises ``fail``, runs ``during`` first."""

    def __init__(self) -> None:
        self.reply = Reply("ACCEPTED", 10)
        self.fail: Exception | None = None
        self.during: Any = None
        self.bodies: list[Document] = []

    async def send(
        self,
        partner: Partner,
        command: CommandType,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply:
        self.bodies.append(body)
        if self.during is not None:
            await self.during(body)
        if self.fail is not None:
            raise self.fail
        return self.reply


class Rig:
    def __init__(self, uow: SqlUnitOfWorkFactory, partner: Partner) -> None:
        self.uow = uow
        self.partner = partner
        self.clock = Clock()
        self.backend = FakeBackend()
        self.api = FakeApi()
        self.ctx = node_context(uow, self.clock)
        self.service = CommandsService(
            self.ctx,
            timeout=30,
            expire_after=60,
            response_base=f"{NODE_SENDER}/commands",
            api=self.api,
            backend=self.backend,
        )

    async def entries(self) -> list[OutboxEntry]:
        return await outbox_entries(self.uow, ModuleId.COMMANDS)

    async def state(self, request_id: str) -> Any:
        async with self.uow(read_only=True) as u:
            return await u.received_requests.get(request_id)

    async def start(self) -> str:
        body = {
            "response_url": RESPONSE,
            "token": {"country_code": "DE", "party_id": "MSP", "uid": "U1", "type": "RFID"},
            "location_id": "LOC1",
        }
        reply = await self.service.receive(self.partner, CommandType.START_SESSION, body)
        assert (reply.result, reply.timeout) == ("ACCEPTED", 30)
        return self.backend.commands[-1].id


@pytest.fixture
async def rig(uow: SqlUnitOfWorkFactory) -> Rig:
    async with uow() as u:
        partner = await u.partners.add(
            make_partner(
                versions_url=f"{EMSP_URL}/ocpi/versions",
                roles=[party("DE", "MSP", Role.EMSP)],
                endpoints=[
                    Endpoint("credentials", InterfaceRole.SENDER, f"{EMSP_URL}/cred"),
                    Endpoint("commands", InterfaceRole.RECEIVER, f"{EMSP_URL}/commands"),
                ],
            )
        )
        location = {"country_code": "NL", "party_id": "CPO", "id": "LOC1", "evses": []}
        await u.objects.put(
            StoredObject(
                ModuleId.LOCATIONS, ObjectKey("NL", "CPO", "LOC1"), NOW, json.dumps(location)
            )
        )
        await u.commit()
    return Rig(uow, partner)


async def test_no_result_in_time_is_answered_timeout_once_and_a_late_one_is_kept(
    rig: Rig,
) -> None:
    command_id = await rig.start()
    handed = rig.backend.commands[-1]
    assert (handed.emsp, handed.party, handed.timeout_s) == (("DE", "MSP"), ("NL", "CPO"), 30)
    assert (await rig.state(command_id)).state == ReceivedState.WAITING
    rig.clock.advance(29)
    assert await rig.service.callbacks.tick() == (0, 0)
    assert await rig.entries() == []
    rig.clock.advance(1)
    assert await rig.service.callbacks.tick() == (1, 0)
    [entry] = await rig.entries()
    assert entry.url == RESPONSE and json.loads(entry.body or "")["result"] == "TIMEOUT"
    assert (entry.from_party, entry.to_party) == ("NL-CPO", "DE-MSP")
    await rig.service.report_result(command_id, CommandResultType.ACCEPTED)
    await rig.service.report_result(command_id, CommandResultType.FAILED)
    kept = await rig.state(command_id)
    assert (kept.state, kept.result, kept.late_result) == (
        ReceivedState.TIMEOUT,
        "TIMEOUT",
        "ACCEPTED",
    )
    assert len(await rig.entries()) == 1  # neither result was sent
    assert await rig.service.callbacks.tick() == (0, 0)


async def test_a_result_in_time_is_sent_once_and_the_watchdog_leaves_it(rig: Rig) -> None:
    command_id = await rig.start()
    await rig.service.report_result(command_id, CommandResultType.EVSE_OCCUPIED, "busy")
    await rig.service.report_result(command_id, CommandResultType.ACCEPTED)  # ignored
    rig.clock.advance(60)
    assert await rig.service.callbacks.tick() == (0, 0)
    [entry] = await rig.entries()
    assert json.loads(entry.body or "") == {
        "result": "EVSE_OCCUPIED",
        "message": [{"language": "en", "text": "busy"}],
    }
    assert (await rig.state(command_id)).state == ReceivedState.DONE
    with pytest.raises(UnknownRequest):
        await rig.service.report_result("no-such-command", CommandResultType.ACCEPTED)


async def test_two_watchdogs_racing_queue_one_timeout(rig: Rig) -> None:
    """Two processes' watchdogs (two Callbacks) tick at once on one overdue command."""
    await rig.start()
    rig.clock.advance(31)
    other = Callbacks(rig.ctx)
    results = await asyncio.gather(rig.service.callbacks.tick(), other.tick())
    assert sorted(r[0] for r in results) == [0, 1]
    assert len(await rig.entries()) == 1


@pytest.mark.parametrize(
    ("error", "answer"),
    [
        (BackendError("charger offline"), "REJECTED"),
        (BackendError("no such command", not_supported=True), "NOT_SUPPORTED"),
        (RuntimeError("bug"), "REJECTED"),
    ],
)
async def test_what_the_backend_cannot_take_is_answered_at_once_and_never_posted(
    rig: Rig, error: BaseException, answer: str
) -> None:
    rig.backend.refuse = error
    body = {"response_url": RESPONSE, "reservation_id": "R1"}
    reply = await rig.service.receive(rig.partner, CommandType.CANCEL_RESERVATION, body)
    assert (reply.result, reply.timeout) == (answer, 0)
    async with rig.uow(read_only=True) as u:
        [kept] = await u.received_requests.search()
    assert (kept.state, kept.result) == (ReceivedState.REFUSED, answer)
    rig.clock.advance(600)
    assert await rig.service.callbacks.tick() == (0, 0)
    assert await rig.entries() == []


async def test_no_backend_is_not_supported_and_keeps_nothing(rig: Rig) -> None:
    rig.service.backend = None
    body = {"response_url": RESPONSE, "reservation_id": "R1"}
    reply = await rig.service.receive(rig.partner, CommandType.CANCEL_RESERVATION, body)
    assert reply.result == "NOT_SUPPORTED"
    async with rig.uow(read_only=True) as u:
        assert await u.received_requests.search() == []


async def test_a_cancelled_reservation_is_one_more_result(rig: Rig) -> None:
    body = {
        "response_url": RESPONSE,
        "token": {"country_code": "DE", "party_id": "MSP", "uid": "U1", "type": "RFID"},
        "expiry_date": "2026-01-02T05:00:00Z",
        "reservation_id": "R1",
        "location_id": "LOC1",
    }
    reply = await rig.service.receive(rig.partner, CommandType.RESERVE_NOW, body)
    assert reply.result == "ACCEPTED"
    command_id = rig.backend.commands[-1].id
    assert rig.backend.commands[-1].expiry_date == datetime.fromisoformat(
        "2026-01-02T05:00:00+00:00"
    )
    await rig.service.report_result(command_id, CommandResultType.ACCEPTED)
    await rig.service.report_result(command_id, CommandResultType.CANCELED_RESERVATION)
    await rig.service.report_result(command_id, CommandResultType.CANCELED_RESERVATION)
    results = [json.loads(e.body or "")["result"] for e in await rig.entries()]
    assert results == ["ACCEPTED", "CANCELED_RESERVATION"]


async def test_a_partner_without_an_emsp_role_may_send_no_command(
    rig: Rig, uow: SqlUnitOfWorkFactory
) -> None:
    async with uow() as u:
        cpo = await u.partners.add(
            make_partner(
                versions_url=f"{EMSP_URL}/ocpi/versions",
                roles=[party("BE", "CPX", Role.CPO)],
                endpoints=[Endpoint("credentials", InterfaceRole.SENDER, f"{EMSP_URL}/cred")],
            )
        )
        await u.commit()
    body = {
        "response_url": RESPONSE,
        "token": {"country_code": "BE", "party_id": "CPX", "uid": "U1", "type": "RFID"},
        "location_id": "LOC1",
    }
    with pytest.raises(InvalidInput, match="EMSP"):
        await rig.service.receive(cpo, CommandType.START_SESSION, body)
    assert rig.backend.commands == []
    async with uow(read_only=True) as u:
        assert await u.received_requests.search(kind=RequestKind.COMMAND) == []


async def test_response_url_of_another_origin_is_refused_before_anything(rig: Rig) -> None:
    from evroam.core.errors import InvalidInput

    for url in (
        "https://emsp.example.com:8443/cb",  # another port
        "https://other.example.com/cb",
        "https://user:pw@emsp.example.com/cb",
        "javascript:alert(1)",
    ):
        body = {"response_url": url, "reservation_id": "R1"}
        with pytest.raises(InvalidInput, match="response_url"):
            await rig.service.receive(rig.partner, CommandType.CANCEL_RESERVATION, body)
    assert rig.backend.commands == []


async def test_sent_command_answer_overtaken_failed_expired_and_foreign_result(
    rig: Rig, uow: SqlUnitOfWorkFactory
) -> None:
    service = rig.service
    async with uow() as u:
        cpo = await u.partners.add(
            make_partner(
                roles=[party("FR", "CPX", Role.CPO)],
                endpoints=[Endpoint("commands", InterfaceRole.RECEIVER, "https://cpx/commands")],
            )
        )
        other = await u.partners.add(make_partner(roles=[party("BE", "OTH", Role.CPO)]))
        await u.commit()
    body = {"reservation_id": "R1"}
    accepted = await service.send(("fr", "cpx"), CommandType.CANCEL_RESERVATION, body)
    assert (accepted.state, accepted.timeout) == (SentState.ACCEPTED, 10)
    assert accepted.response_url.startswith("https://node.example.com/ocpi/2.2.1/sender/")
    assert rig.api.bodies[-1]["response_url"] == accepted.response_url
    assert accepted.expires_at == NOW + timedelta(seconds=10 + 60)

    async def result_first(sent: Document) -> None:
        rid = str(sent["response_url"]).rsplit("/", 1)[1]
        stored = await service.receive_result(
            cpo, CommandType.CANCEL_RESERVATION, rid, "ACCEPTED", {"result": "ACCEPTED"}
        )
        assert stored

    rig.api.during = result_first
    overtaken = await service.send(("FR", "CPX"), CommandType.CANCEL_RESERVATION, body)
    assert (overtaken.state, overtaken.response, overtaken.result) == (
        SentState.RESULT,
        "ACCEPTED",
        "ACCEPTED",
    )
    rig.api.during = None
    rig.api.fail = PartnerUnreachable("POST https://cpx/commands: timed out")
    failed = await service.send(("FR", "CPX"), CommandType.CANCEL_RESERVATION, body)
    assert failed.state == SentState.FAILED and "timed out" in (failed.error or "")

    with pytest.raises(UnknownRequest):  # another partner answering it
        await service.receive_result(
            other, CommandType.CANCEL_RESERVATION, accepted.id, "FAILED", {"result": "FAILED"}
        )
    with pytest.raises(UnknownRequest):  # the right partner, the wrong command type
        await service.receive_result(
            cpo, CommandType.STOP_SESSION, accepted.id, "FAILED", {"result": "FAILED"}
        )
    rig.clock.advance(69)
    assert await service.callbacks.tick() == (0, 0)
    rig.clock.advance(1)
    assert await service.callbacks.tick() == (0, 1)
    expired = await service.get_sent(accepted.id)
    assert expired is not None and expired.state == SentState.EXPIRED
    # A result after all is still kept (the CPO was late), once.
    assert await service.receive_result(
        cpo, CommandType.CANCEL_RESERVATION, accepted.id, "ACCEPTED", {"result": "ACCEPTED"}
    )
    assert not await service.receive_result(
        cpo, CommandType.CANCEL_RESERVATION, accepted.id, "FAILED", {"result": "FAILED"}
    )


async def test_an_overdue_request_of_a_kind_without_a_timeout_result_leaves_waiting(
    rig: Rig,
) -> None:
    """Otherwise it would be read again every tick, and enough of them would keep the
    watchdog from ever reaching the commands behind them."""
    async with rig.uow() as u:
        await u.received_requests.add(
            ReceivedRequest(
                id="profile-1",
                kind=RequestKind.PROFILE,
                type="SET",
                partner_id=rig.partner.id,
                party="NL-CPO",
                requester="DE-MSP",
                body={"response_url": RESPONSE},
                response_url=RESPONSE,
                state=ReceivedState.WAITING,
                timeout_at=NOW,
                created_at=NOW,
            )
        )
        await u.commit()
    callbacks = Callbacks(rig.ctx, timeout_results={})
    assert await callbacks.tick() == (0, 0)
    assert (await rig.state("profile-1")).state == ReceivedState.TIMEOUT
    assert await rig.entries() == []
