"""The OICP hub's session storage on both backends: sessions round-trip with their
partner date-times as text, one CDR per session decided by the database (also for two
writers at once), the CDR query's filters and paging, authentication data upserts and
lookups, kept notifications."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

from evroam.core.oicp import OicpRole
from evroam.core.oicp_sessions import (
    AuthenticationRecord,
    AuthorizationMethod,
    CdrQuery,
    KeptNotification,
    OicpSession,
    SessionState,
    StoredCdr,
)
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW
from tests.storage.test_oicp_repositories import oicp_partner


def session(session_id: str = "b2688855-7f00-0002-6d8e-48d883f6abb6", **kw: object) -> OicpSession:
    base: dict[str, object] = dict(
        session_id=session_id,
        operator="DEABC",
        operator_id="DE*ABC",
        method=AuthorizationMethod.REMOTE,
        state=SessionState.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
        evse_id="DE*ABC*E1",
        provider="DEXYZ",
        provider_id="DE-XYZ",
        identification='{"RemoteIdentification":{"EvcoID":"DE-XYZ-C12345678-9"}}',
        medium_key="REMOTE:DEXYZC123456789",
        cpo_partner_session_id="cpo-1",
        emp_partner_session_id="emp-1",
        session_start="2026-11-26T10:00:00+01:00",
    )
    base.update(kw)
    return OicpSession(**base)  # type: ignore[arg-type]


def cdr(session_id: str, received_minutes: int = 0, **kw: object) -> StoredCdr:
    base: dict[str, object] = dict(
        session_id=session_id,
        operator="DEABC",
        provider="DEXYZ",
        evse_id="DE*ABC*E1",
        record=json.dumps(
            {"SessionID": session_id, "ChargingStart": "2026-11-26T10:00:00.5+01:00"}
        ),
        received_at=NOW + timedelta(minutes=received_minutes),
        forwarded=False,
    )
    base.update(kw)
    return StoredCdr(**base)  # type: ignore[arg-type]


def sid(n: int) -> str:
    return f"00000000-0000-0000-0000-{n:012d}"


async def test_session_round_trip_save_and_remove(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.oicp_sessions.add(session())
        await u.commit()
    async with uow() as u:
        got = await u.oicp_sessions.get_for_update(session().session_id)
        assert got == session()
        assert got is not None
        got.state = SessionState.STOPPED
        got.session_end = "2026-11-26T11:00:00Z"
        await u.oicp_sessions.save(got)
        await u.commit()
    async with uow(read_only=True) as u:
        again = await u.oicp_sessions.get(session().session_id)
    assert again is not None
    assert (again.state, again.session_start, again.session_end) == (
        SessionState.STOPPED,
        "2026-11-26T10:00:00+01:00",
        "2026-11-26T11:00:00Z",
    )
    async with uow() as u:
        assert await u.oicp_sessions.remove(session().session_id)
        assert not await u.oicp_sessions.remove(session().session_id)
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.oicp_sessions.get(session().session_id) is None


async def test_a_second_cdr_of_a_session_is_not_stored(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        assert await u.oicp_cdrs.add(cdr(sid(1)))
        await u.commit()
    async with uow() as u:
        assert not await u.oicp_cdrs.add(cdr(sid(1), 5, record="{}"))
        await u.commit()
    async with uow(read_only=True) as u:
        kept = await u.oicp_cdrs.get(sid(1))
    assert kept == cdr(sid(1))


async def test_two_concurrent_cdrs_of_one_session_store_one(uow: SqlUnitOfWorkFactory) -> None:
    async def add(record: str) -> bool:
        async with uow() as u:
            stored = await u.oicp_cdrs.add(cdr(sid(2), record=record))
            await u.commit()
            return stored

    results = await asyncio.gather(add('{"a":1}'), add('{"b":2}'))
    assert sorted(results) == [False, True]


async def test_cdr_query_filters_pages_and_counts(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        for n in range(1, 6):
            await u.oicp_cdrs.add(cdr(sid(n), n, forwarded=n % 2 == 0))
        await u.oicp_cdrs.add(cdr(sid(6), 6, operator="DEOTH"))
        await u.oicp_cdrs.add(cdr(sid(7), 7, provider="DEEMP"))
        await u.oicp_cdrs.mark_forwarded(sid(5))
        await u.commit()
    window = CdrQuery("DEXYZ", NOW, NOW + timedelta(minutes=10))
    async with uow(read_only=True) as u:
        rows, total = await u.oicp_cdrs.query(window, 0, 4)
        assert total == 6 and [r.session_id for r in rows] == [sid(n) for n in (1, 2, 3, 4)]
        rows, total = await u.oicp_cdrs.query(window, 4, 4)
        assert [r.session_id for r in rows] == [sid(5), sid(6)]
        narrow = CdrQuery("DEXYZ", NOW + timedelta(minutes=2), NOW + timedelta(minutes=3))
        rows, total = await u.oicp_cdrs.query(narrow, 0, 20)
        assert total == 2 and [r.session_id for r in rows] == [sid(2), sid(3)]
        rows, _ = await u.oicp_cdrs.query(replace(window, forwarded=False), 0, 20)
        assert [r.session_id for r in rows] == [sid(1), sid(3), sid(6)]
        rows, _ = await u.oicp_cdrs.query(
            CdrQuery("DEXYZ", window.start, window.end, operators=("DEOTH",)), 0, 20
        )
        assert [r.session_id for r in rows] == [sid(6)]
        rows, _ = await u.oicp_cdrs.query(
            CdrQuery("DEXYZ", window.start, window.end, session_ids=(sid(4), sid(7))), 0, 20
        )
        assert [r.session_id for r in rows] == [sid(4)]


async def test_auth_data_put_find_delete(uow: SqlUnitOfWorkFactory) -> None:
    a = AuthenticationRecord("DEXYZ", "RFID:0A0B0C0D", '{"x":1}')
    b = AuthenticationRecord("DEXYZ", "QR:DEXYZ1", '{"y":1}', pin_hash="scrypt$1")
    other = AuthenticationRecord("DEEMP", "RFID:0A0B0C0D", '{"z":1}')
    async with uow() as u:
        await u.oicp_partners.add(oicp_partner("DE-XYZ", "DEXYZ", roles=frozenset({OicpRole.EMP})))
        await u.oicp_auth_data.put([a, b, other])
        await u.oicp_auth_data.put([AuthenticationRecord("DEXYZ", "QR:DEXYZ1", '{"y":2}')])
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.oicp_auth_data.find("RFID:0A0B0C0D") == [other, a]
        replaced = await u.oicp_auth_data.find("QR:DEXYZ1")
        assert replaced == [AuthenticationRecord("DEXYZ", "QR:DEXYZ1", '{"y":2}')]
        assert await u.oicp_auth_data.known("DEXYZ", ["RFID:0A0B0C0D", "RFID:FF"]) == {
            "RFID:0A0B0C0D"
        }
    async with uow() as u:
        assert await u.oicp_auth_data.delete("DEXYZ", ["QR:DEXYZ1", "QR:NONE"]) == 1
        assert await u.oicp_auth_data.delete_all("DEXYZ") == 1
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.oicp_auth_data.find("RFID:0A0B0C0D") == [other]


async def test_kept_notifications_come_back_in_order(uow: SqlUnitOfWorkFactory) -> None:
    kept = [
        KeptNotification(sid(1), "DEXYZ", kind, f'{{"Type":"{kind}"}}', NOW)
        for kind in ("Start", "Progress", "End")
    ]
    async with uow() as u:
        for n in kept:
            await u.oicp_notifications.add(n)
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.oicp_notifications.for_session(sid(1)) == kept
        assert await u.oicp_notifications.for_session(sid(2)) == []
