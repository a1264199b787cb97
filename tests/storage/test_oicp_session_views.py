"""The operator's searches of OICP sessions and CDRs on both backends: newest first,
each filter alone and together, EvseIDs matched in any spelling, ``since`` inclusive,
the limit."""

from __future__ import annotations

from datetime import timedelta

from evroam.core.oicp_sessions import CdrFilter, SessionFilter
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW
from tests.storage.test_oicp_sessions import cdr, session, sid


async def _sessions(uow: SqlUnitOfWorkFactory) -> None:
    rows = [
        session(sid(1), created_at=NOW, evse_id="DE*ABC*E1"),
        session(sid(2), created_at=NOW + timedelta(minutes=1), evse_id="DEABCE2"),
        session(
            sid(3),
            created_at=NOW + timedelta(minutes=2),
            operator="DEOTH",
            operator_id="DE*OTH",
            evse_id="de*oth*E1",
            provider=None,
            provider_id=None,
        ),
    ]
    async with uow() as u:
        for row in rows:
            await u.oicp_sessions.add(row)
        await u.commit()


async def _search(uow: SqlUnitOfWorkFactory, limit: int = 100, **kw: object) -> list[str]:
    async with uow(read_only=True) as u:
        found = await u.oicp_sessions.search(SessionFilter(**kw), limit)  # type: ignore[arg-type]
    return [s.session_id for s in found]


async def test_sessions_newest_first_and_each_filter(uow: SqlUnitOfWorkFactory) -> None:
    await _sessions(uow)
    assert await _search(uow) == [sid(3), sid(2), sid(1)]
    assert await _search(uow, limit=2) == [sid(3), sid(2)]
    assert await _search(uow, operator="DEABC") == [sid(2), sid(1)]
    assert await _search(uow, provider="DEXYZ") == [sid(2), sid(1)]
    assert await _search(uow, provider="DENOB") == []
    # Stored as each partner wrote it; matched in the canonical form.
    assert await _search(uow, evse_id="DEABCE1") == [sid(1)]
    assert await _search(uow, evse_id="DEABCE2") == [sid(2)]
    assert await _search(uow, evse_id="DEOTHE1") == [sid(3)]
    assert await _search(uow, since=NOW + timedelta(minutes=1)) == [sid(3), sid(2)]
    assert await _search(uow, operator="DEABC", since=NOW + timedelta(minutes=1)) == [sid(2)]


async def test_cdrs_newest_first_and_each_filter(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.oicp_cdrs.add(cdr(sid(1), 0))
        await u.oicp_cdrs.add(cdr(sid(2), 5, forwarded=True, provider="DEONL"))
        await u.oicp_cdrs.add(cdr(sid(3), 10, operator="DEOTH"))
        await u.commit()

    async def search(limit: int = 100, **kw: object) -> list[str]:
        async with uow(read_only=True) as u:
            found = await u.oicp_cdrs.search(CdrFilter(**kw), limit)  # type: ignore[arg-type]
        return [c.session_id for c in found]

    assert await search() == [sid(3), sid(2), sid(1)]
    assert await search(limit=1) == [sid(3)]
    assert await search(provider="DEXYZ") == [sid(3), sid(1)]
    assert await search(operator="DEABC") == [sid(2), sid(1)]
    assert await search(forwarded=True) == [sid(2)]
    assert await search(forwarded=False, operator="DEABC") == [sid(1)]
    assert await search(since=NOW + timedelta(minutes=5)) == [sid(3), sid(2)]
