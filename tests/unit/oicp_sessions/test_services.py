"""The session services on a real (SQLite) store with scripted partners: whom an
authorization asks and what it keeps, what a failed first step leaves behind (nothing),
one CDR per session, the ActionType rules of authentication data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from evroam.core.oicp import ActionType, InvalidRequest, OicpPartner, OicpRole
from evroam.core.oicp_sessions import (
    CallFailure,
    DuplicateCdr,
    ForeignEvco,
    Medium,
    OicpSession,
    PartnerAnswer,
    PartnerCallFailed,
    SessionState,
    UnknownSession,
)
from evroam.services.oicp import authdata, authorization, cdrs, notifications, remote
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW

RFID = Medium("RFID:0A1B2C3D", None, '{"RFIDMifareFamilyIdentification":{"UID":"0A1B2C3D"}}')
REMOTE = Medium("REMOTE:DEEMACABC123456", "DEEMA", '{"RemoteIdentification":{}}')


def partner(pid: str, role: OicpRole, endpoint: str | None = "https://p.test") -> OicpPartner:
    canonical = pid.replace("*", "").replace("-", "")
    return OicpPartner(
        pid, canonical, frozenset({role}), pid, endpoint=endpoint, created_at=NOW, updated_at=NOW
    )


CPO = partner("DE*CPO", OicpRole.CPO)
EMPS = [partner("DE-EMA", OicpRole.EMP), partner("DE-EMB", OicpRole.EMP)]
SILENT = partner("DE-EMC", OicpRole.EMP)
OFFLINE = partner("DE-OFF", OicpRole.EMP, endpoint=None)


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    factory = SqlUnitOfWorkFactory(session_factory(engine))
    async with factory() as u:
        for p in (CPO, *EMPS, SILENT, OFFLINE):
            await u.oicp_partners.add(p)
        await u.commit()
    yield factory
    await engine.dispose()


class Script:
    """Partners' answers by partner ID; records who was asked with which session."""

    def __init__(self, **accepted: bool | None) -> None:
        self.accepted = accepted
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, p: OicpPartner, session: OicpSession) -> PartnerAnswer:
        self.asked.append((p.partner_id, session.session_id))
        verdict = self.accepted.get(p.canonical_id)
        if verdict is None:
            raise PartnerCallFailed(p.partner_id, CallFailure.NO_ANSWER)
        return PartnerAnswer(verdict, "000" if verdict else "102", {}, "cpo-x", "emp-x")


async def session_of(uow: SqlUnitOfWorkFactory, sid: str) -> OicpSession | None:
    async with uow(read_only=True) as u:
        return await u.oicp_sessions.get(sid)


async def test_an_rfid_start_asks_every_online_emp_and_the_first_that_authorizes_wins(
    uow: SqlUnitOfWorkFactory,
) -> None:
    script = Script(DEEMA=False, DEEMB=True)
    outcome = await authorization.authorize_start(uow, CPO, RFID, None, script, NOW)
    assert outcome.authorized and outcome.session is not None
    assert sorted(p for p, _ in script.asked) == ["DE-EMA", "DE-EMB", "DE-EMC"]
    assert len({s for _, s in script.asked}) == 1  # one SessionID for all
    stored = await session_of(uow, outcome.session.session_id)
    assert stored is not None
    assert (stored.provider_id, stored.state, stored.emp_partner_session_id) == (
        "DE-EMB",
        SessionState.ACTIVE,
        "emp-x",
    )


async def test_a_failed_authorization_leaves_no_session(uow: SqlUnitOfWorkFactory) -> None:
    script = Script(DEEMA=False, DEEMB=False)
    outcome = await authorization.authorize_start(uow, CPO, RFID, None, script, NOW)
    assert outcome.failure is authorization.Failure.UNKNOWN_MEDIUM
    assert await session_of(uow, script.asked[0][1]) is None


async def test_offline_data_authorizes_without_asking_anyone(uow: SqlUnitOfWorkFactory) -> None:
    medium = Medium("RFID:0A1B2C3D", None, "{}")
    await authdata.push_authentication_data(
        uow, OFFLINE, ActionType.FULL_LOAD, [authdata.AuthDataItem(medium)]
    )
    script = Script()
    outcome = await authorization.authorize_start(uow, CPO, RFID, None, script, NOW)
    assert outcome.session is not None and outcome.session.provider_id == "DE-OFF"
    assert script.asked == []


async def test_a_refused_remote_start_leaves_no_session(uow: SqlUnitOfWorkFactory) -> None:
    start = remote.RemoteStart("DE*CPO*E1", "DECPOE1", "DECPO", REMOTE)
    refused = await remote.remote_start(uow, EMPS[0], start, Script(DECPO=False), NOW)
    assert not refused.accepted and await session_of(uow, refused.session.session_id) is None
    silent = await remote.remote_start(uow, EMPS[0], start, Script(), NOW)
    assert silent.failure is not None and await session_of(uow, silent.session.session_id) is None
    ok = await remote.remote_start(uow, EMPS[0], start, Script(DECPO=True), NOW)
    stored = await session_of(uow, ok.session.session_id)
    assert stored is not None and stored.state is SessionState.ACTIVE
    assert stored.cpo_partner_session_id == "cpo-x"


async def test_one_cdr_per_session_and_only_the_sessions_operator(
    uow: SqlUnitOfWorkFactory,
) -> None:
    start = remote.RemoteStart("DE*CPO*E1", "DECPOE1", "DECPO", REMOTE)
    sid = (
        await remote.remote_start(uow, EMPS[0], start, Script(DECPO=True), NOW)
    ).session.session_id
    other = partner("DE*OTH", OicpRole.CPO)
    with pytest.raises(UnknownSession):
        await cdrs.receive_cdr(uow, other, cdrs.IncomingCdr(sid, "DE*OTH*E1", "DEOTH", "{}"), NOW)
    incoming = cdrs.IncomingCdr(sid, "DE*CPO*E1", "DECPO", '{"n":1}')
    receipt = await cdrs.receive_cdr(uow, CPO, incoming, NOW)
    assert await cdrs.forward_cdr(uow, receipt, Script(DEEMA=True))
    with pytest.raises(DuplicateCdr):
        await cdrs.receive_cdr(uow, CPO, incoming, NOW)
    async with uow(read_only=True) as u:
        kept = await u.oicp_cdrs.get(sid)
    assert kept is not None and kept.forwarded and kept.record == '{"n":1}'


async def test_notifications_for_an_offline_emp_are_kept(uow: SqlUnitOfWorkFactory) -> None:
    medium = Medium("RFID:0A1B2C3D", None, "{}")
    await authdata.push_authentication_data(
        uow, OFFLINE, ActionType.INSERT, [authdata.AuthDataItem(medium)]
    )
    outcome = await authorization.authorize_start(uow, CPO, RFID, None, Script(), NOW)
    assert outcome.session is not None
    sid = outcome.session.session_id
    note = notifications.Notification(sid, "Start", "DE*CPO*E1", "DECPO", '{"Type":"Start"}')
    delivery = await notifications.receive_notification(uow, CPO, note, Script(), NOW)
    assert delivery.answer is None and delivery.failure is None
    async with uow(read_only=True) as u:
        assert [n.body for n in await u.oicp_notifications.for_session(sid)] == [note.body]


async def test_authentication_data_follows_the_action_type(uow: SqlUnitOfWorkFactory) -> None:
    def item(uid: str) -> authdata.AuthDataItem:
        return authdata.AuthDataItem(Medium(f"RFID:{uid}", None, "{}"))

    push = authdata.push_authentication_data
    await push(uow, OFFLINE, ActionType.INSERT, [item("01"), item("02")])
    with pytest.raises(InvalidRequest):
        await push(uow, OFFLINE, ActionType.INSERT, [item("03"), item("01")])
    with pytest.raises(InvalidRequest):
        await push(uow, OFFLINE, ActionType.UPDATE, [item("04")])
    with pytest.raises(InvalidRequest):
        await push(uow, OFFLINE, ActionType.INSERT, [item("05"), item("05")])
    foreign = authdata.AuthDataItem(Medium("QR:DEEMA1", "DEEMA", "{}"))
    with pytest.raises(ForeignEvco):
        await push(uow, OFFLINE, ActionType.INSERT, [item("06"), foreign])
    async with uow(read_only=True) as u:
        assert await u.oicp_auth_data.known(
            "DEOFF", ["RFID:01", "RFID:02", "RFID:03", "RFID:06"]
        ) == {
            "RFID:01",
            "RFID:02",
        }
    await push(uow, OFFLINE, ActionType.FULL_LOAD, [item("07")])
    await push(uow, OFFLINE, ActionType.DELETE, [item("01")])
    async with uow(read_only=True) as u:
        assert await u.oicp_auth_data.known("DEOFF", ["RFID:01", "RFID:02", "RFID:07"]) == {
            "RFID:07"
        }
