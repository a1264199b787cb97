"""The ChargingProfiles service on a real database (SQLite and PostgreSQL), with a driven
clock: what the CPO side refuses stores nothing; an accepted request is handed to the
backend and its result POSTed once to its response_url (the result object of its type);
no result in time is answered UNKNOWN by the watchdog, and a late one kept, not sent;
ActiveChargingProfile changes are PUT only to an eMSP party whose SET the chargers
ACCEPTED on that session; the eMSP side takes a result only from the partner the request
went to, once, and keeps the latest ActiveChargingProfile only for sessions it set a
profile on with that partner."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evroam.core.backend import (
    ChargingProfileResultType,
    ProfileRequestType,
)
from evroam.core.callbacks import ReceivedState, Reply, SentState, UnknownRequest
from evroam.core.errors import InvalidInput
from evroam.core.objects import Document, ObjectKey, StoredObject
from evroam.core.push import OutboxEntry, PushMethod
from evroam.core.types import Endpoint, InterfaceRole, ModuleId, Partner, Role
from evroam.ocpi.v2_2_1.chargingprofiles import convert
from evroam.services.backend_reports import UnknownReportObject
from evroam.services.chargingprofiles import ChargingProfilesService, ProfileValidators
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

OTHER_URL = "https://other.example.com"
PROFILE: Document = {
    "charging_rate_unit": "W",
    "charging_profile_period": [{"start_period": 0, "limit": 7400}],
}
ACTIVE: Document = {"start_date_time": "2026-01-02T03:04:05Z", "charging_profile": PROFILE}


def response_url(n: int, base: str = EMSP_URL) -> str:
    return f"{base}/ocpi/2.2.1/sender/chargingprofiles/SET/r-{n}"


class FakeApi:
    """``ChargingProfilesApi``: answers ``reply``."""

    def __init__(self) -> None:
        self.reply = Reply("ACCEPTED", 10)
        self.calls: list[tuple[ProfileRequestType, str, Document]] = []

    async def send(
        self,
        partner: Partner,
        request_type: ProfileRequestType,
        session_id: str,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply:
        self.calls.append((request_type, session_id, body))
        return self.reply


def session(sid: str, token_party: tuple[str, str], status: str = "ACTIVE") -> StoredObject:
    doc = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": sid,
        "status": status,
        "cdr_token": {"country_code": token_party[0], "party_id": token_party[1], "uid": "U"},
    }
    return StoredObject(ModuleId.SESSIONS, ObjectKey("NL", "CPO", sid), NOW, json.dumps(doc))


class Rig:
    def __init__(self, uow: SqlUnitOfWorkFactory, emsp: Partner, other: Partner) -> None:
        self.uow = uow
        self.emsp, self.other = emsp, other
        self.clock = Clock()
        self.backend = FakeBackend()
        self.api = FakeApi()
        self.ctx = node_context(uow, self.clock)
        self.service = ChargingProfilesService(
            self.ctx,
            ProfileValidators(convert.parse_active, convert.result_document),
            timeout=30,
            expire_after=60,
            response_base=f"{NODE_SENDER}/chargingprofiles",
            api=self.api,
            backend=self.backend,
        )

    async def entries(self) -> list[OutboxEntry]:
        return await outbox_entries(self.uow, ModuleId.CHARGING_PROFILES)

    async def received(self) -> list[Any]:
        async with self.uow(read_only=True) as u:
            return await u.received_requests.search(limit=1000)

    async def set(self, sid: str = "S1", n: int = 1, partner: Partner | None = None) -> str:
        partner = partner or self.emsp
        base = EMSP_URL if partner is self.emsp else OTHER_URL
        body = {"charging_profile": PROFILE, "response_url": response_url(n, base)}
        reply = await self.service.receive(partner, ProfileRequestType.SET, sid, body)
        assert (reply.result, reply.timeout) == ("ACCEPTED", 30)
        return self.backend.requests[-1].id


def _partner(base: str, cc: str, pid: str) -> Partner:
    return make_partner(
        versions_url=f"{base}/ocpi/versions",
        roles=[party(cc, pid, Role.EMSP)],
        endpoints=[
            Endpoint("credentials", InterfaceRole.SENDER, f"{base}/cred"),
            Endpoint("chargingprofiles", InterfaceRole.SENDER, f"{base}/ocpi/2.2.1/sender/cp"),
            Endpoint("chargingprofiles", InterfaceRole.RECEIVER, f"{base}/ocpi/2.2.1/rcv/cp"),
        ],
    )


@pytest.fixture
async def rig(uow: SqlUnitOfWorkFactory) -> Rig:
    async with uow() as u:
        emsp = await u.partners.add(_partner(EMSP_URL, "DE", "MSP"))
        other = await u.partners.add(_partner(OTHER_URL, "FR", "OTH"))
        await u.objects.put(session("S1", ("DE", "MSP")))
        await u.objects.put(session("S2", ("FR", "OTH")))
        await u.objects.put(session("DONE1", ("DE", "MSP"), status="COMPLETED"))
        await u.commit()
    return Rig(uow, emsp, other)


async def test_refusals_store_nothing(rig: Rig) -> None:
    cases: list[tuple[str, Document, str | None]] = [
        ("NOPE", {"response_url": response_url(1)}, "UNKNOWN_SESSION"),
        ("S2", {"response_url": response_url(1)}, "REJECTED"),  # another party's driver
        ("DONE1", {"response_url": response_url(1)}, "REJECTED"),  # over
        ("S1", {"response_url": response_url(1, OTHER_URL)}, None),  # not the caller's host
        ("S1", {"response_url": "http://emsp.example.com:81/x"}, None),  # another port
    ]
    for sid, body, result in cases:
        if result is None:
            with pytest.raises(InvalidInput, match="response_url"):
                await rig.service.receive(rig.emsp, ProfileRequestType.CLEAR, sid, body)
            continue
        reply = await rig.service.receive(rig.emsp, ProfileRequestType.CLEAR, sid, body)
        assert (reply.result, reply.timeout) == (result, 0), sid
    assert await rig.received() == [] and rig.backend.requests == []


async def test_result_is_posted_once_in_the_shape_of_its_request(rig: Rig) -> None:
    set_id = await rig.set()
    handed = rig.backend.requests[-1]
    assert (handed.type, handed.party, handed.session_id, handed.profile) == (
        ProfileRequestType.SET,
        ("NL", "CPO"),
        "S1",
        PROFILE,
    )
    body = {"duration": 600, "response_url": response_url(2)}
    await rig.service.receive(rig.emsp, ProfileRequestType.GET_ACTIVE, "s1", body)
    get = rig.backend.requests[-1]
    assert (get.duration_s, get.session_id) == (600, "S1")  # the stored id's case
    with pytest.raises(InvalidInput):
        await rig.service.report_result(get.id, ChargingProfileResultType.ACCEPTED, {"x": 1})
    await rig.service.report_result(get.id, ChargingProfileResultType.ACCEPTED, ACTIVE)
    await rig.service.report_result(set_id, ChargingProfileResultType.ACCEPTED)
    await rig.service.report_result(set_id, ChargingProfileResultType.REJECTED)  # ignored
    posts = [e for e in await rig.entries() if e.url is not None]
    assert [(e.url, json.loads(e.body or "")) for e in posts] == [
        (response_url(2), {"result": "ACCEPTED", "profile": ACTIVE}),
        (response_url(1), {"result": "ACCEPTED"}),
    ]
    assert {(e.from_party, e.to_party, e.method) for e in posts} == {
        ("NL-CPO", "DE-MSP", PushMethod.POST)
    }
    with pytest.raises(UnknownRequest):
        await rig.service.report_result("no-such", ChargingProfileResultType.ACCEPTED)


async def test_no_result_in_time_is_answered_unknown_and_a_late_one_is_kept(rig: Rig) -> None:
    request_id = await rig.set()
    rig.clock.advance(29)
    assert await rig.service.callbacks.tick() == (0, 0)
    rig.clock.advance(1)
    assert await rig.service.callbacks.tick() == (1, 0)
    [entry] = await rig.entries()
    assert (entry.url, json.loads(entry.body or "")) == (response_url(1), {"result": "UNKNOWN"})
    await rig.service.report_result(request_id, ChargingProfileResultType.ACCEPTED)
    [kept] = await rig.received()
    assert (kept.state, kept.result, kept.late_result) == (
        ReceivedState.TIMEOUT,
        "UNKNOWN",
        "ACCEPTED",
    )
    assert len(await rig.entries()) == 1
    # The eMSP was never told its profile took: no active profile is pushed to it.
    await rig.service.active_profile_changed(("NL", "CPO"), "S1", ACTIVE)
    assert len(await rig.entries()) == 1


async def test_active_profile_goes_only_to_who_set_one_successfully(rig: Rig) -> None:
    with pytest.raises(UnknownReportObject):
        await rig.service.active_profile_changed(("NL", "CPO"), "NOPE", ACTIVE)
    with pytest.raises(InvalidInput):
        await rig.service.active_profile_changed(("NL", "CPO"), "S1", {"charging_profile": {}})
    await rig.service.active_profile_changed(("NL", "CPO"), "S1", ACTIVE)
    assert await rig.entries() == []  # nobody set a profile yet
    rejected = await rig.set(n=1)
    await rig.service.report_result(rejected, ChargingProfileResultType.REJECTED)
    await rig.service.active_profile_changed(("NL", "CPO"), "S1", ACTIVE)
    assert [e.method for e in await rig.entries()] == [PushMethod.POST]  # the result only
    accepted = await rig.set(n=2)
    await rig.service.report_result(accepted, ChargingProfileResultType.ACCEPTED)
    await rig.service.active_profile_changed(("nl", "cpo"), "s1", ACTIVE)
    puts = [e for e in await rig.entries() if e.method == PushMethod.PUT]
    assert [(e.partner_id, e.path, e.to_party, json.loads(e.body or "")) for e in puts] == [
        (rig.emsp.id, ("S1",), "DE-MSP", ACTIVE)
    ]
    # The other eMSP's session S2 is not the emsp's: its SET was refused at once.
    reply = await rig.service.receive(
        rig.emsp,
        ProfileRequestType.SET,
        "S2",
        {"charging_profile": PROFILE, "response_url": response_url(3)},
    )
    assert reply.result == "REJECTED"


async def test_emsp_takes_results_from_its_cpo_once_and_keeps_the_latest_active_profile(
    rig: Rig,
) -> None:
    with pytest.raises(InvalidInput, match="name the CPO party"):
        await rig.service.send(ProfileRequestType.CLEAR, "UNSEEN")
    sent = await rig.service.send(
        ProfileRequestType.SET, "X1", party=("de", "msp"), profile=PROFILE
    )
    assert (sent.state, sent.response, sent.timeout) == (SentState.ACCEPTED, "ACCEPTED", 10)
    [(kind, sid, body)] = rig.api.calls
    assert (kind, sid, body["charging_profile"]) == (ProfileRequestType.SET, "X1", PROFILE)
    assert body["response_url"] == f"{rig.service.response_base}/SET/{sent.id}"
    with pytest.raises(UnknownRequest):  # not the partner it went to
        await rig.service.receive_result(
            rig.other, ProfileRequestType.SET, sent.id, {"result": "REJECTED"}
        )
    with pytest.raises(UnknownRequest):  # not a request of that type
        await rig.service.receive_result(
            rig.emsp, ProfileRequestType.CLEAR, sent.id, {"result": "REJECTED"}
        )
    doc = {"result": "ACCEPTED"}
    assert await rig.service.receive_result(rig.emsp, ProfileRequestType.SET, sent.id, doc)
    assert not await rig.service.receive_result(
        rig.emsp, ProfileRequestType.SET, sent.id, {"result": "REJECTED"}
    )
    got = await rig.service.get(sent.id)
    assert got is not None and (got.state, got.result) == (SentState.RESULT, "ACCEPTED")

    with pytest.raises(UnknownRequest):  # never set a profile with that partner
        await rig.service.receive_active(rig.other, "X1", ACTIVE)
    with pytest.raises(UnknownRequest):
        await rig.service.receive_active(rig.emsp, "X2", ACTIVE)
    assert await rig.service.active_profile("X1") is None
    await rig.service.receive_active(rig.emsp, "X1", ACTIVE)
    newer = {**ACTIVE, "start_date_time": "2026-01-02T04:00:00Z"}
    rig.clock.advance(5)
    await rig.service.receive_active(rig.emsp, "X1", newer)
    kept = await rig.service.active_profile("X1")
    assert kept is not None
    assert (kept.party, kept.document, kept.received_at) == (("DE", "MSP"), newer, rig.clock.now)
