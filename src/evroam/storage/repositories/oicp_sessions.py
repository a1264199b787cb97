"""The OICP hub's sessions, charge detail records, authentication data and kept
charging notifications (core ``oicp_sessions``).

One CDR per session is the database's key: :meth:`SqlOicpCdrRepository.add` is one
``INSERT ... ON CONFLICT DO NOTHING`` and reports whether it stored, so a second CDR
racing the first is refused however the two interleave. Authentication data is upserted
on (provider, medium key); the order of one provider's pushes is kept by the service,
which locks the provider's partner row first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.oicp_sessions import (
    AuthenticationRecord,
    AuthorizationMethod,
    CdrFilter,
    CdrQuery,
    KeptNotification,
    OicpSession,
    SessionFilter,
    SessionState,
    StoredCdr,
)
from evroam.storage.repositories._insert import insert_for
from evroam.storage.tables.oicp_sessions import (
    OicpAuthRecordRow,
    OicpCdrRow,
    OicpNotificationRow,
    OicpSessionRow,
)

_CHUNK = 500
_SESSION_FIELDS = tuple(f.name for f in fields(OicpSession))


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(values))
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _canonical_column(column: Any) -> ColumnElement[str]:
    """An ID column in the form ``ids.canonical`` gives (upper case, no ``*``/``-``):
    EvseIDs are stored as the partner wrote them."""
    return func.upper(func.replace(func.replace(column, "*", ""), "-", ""))


def _session(row: OicpSessionRow) -> OicpSession:
    values = {name: getattr(row, name) for name in _SESSION_FIELDS}
    values["method"] = AuthorizationMethod(row.method)
    values["state"] = SessionState(row.state)
    return OicpSession(**values)


def _session_values(session: OicpSession) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(session, name) for name in _SESSION_FIELDS}
    values["method"] = session.method.value
    values["state"] = session.state.value
    return values


class SqlOicpSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, session: OicpSession) -> None:
        self._s.add(OicpSessionRow(**_session_values(session)))
        await self._s.flush()

    async def get(self, session_id: str) -> OicpSession | None:
        row = await self._s.get(OicpSessionRow, session_id)
        return _session(row) if row is not None else None

    async def get_for_update(self, session_id: str) -> OicpSession | None:
        row = await self._s.scalar(
            select(OicpSessionRow)
            .where(OicpSessionRow.session_id == session_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return _session(row) if row is not None else None

    async def save(self, session: OicpSession) -> None:
        values = _session_values(session)
        del values["session_id"]
        result = await self._s.execute(
            update(OicpSessionRow)
            .where(OicpSessionRow.session_id == session.session_id)
            .values(**values)
            .returning(OicpSessionRow.session_id)
            .execution_options(synchronize_session=False)
        )
        if result.first() is None:
            raise KeyError(session.session_id)

    async def remove(self, session_id: str) -> bool:
        result = await self._s.execute(
            delete(OicpSessionRow)
            .where(OicpSessionRow.session_id == session_id)
            .returning(OicpSessionRow.session_id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def search(self, session_filter: SessionFilter, limit: int) -> list[OicpSession]:
        f = session_filter
        stmt = select(OicpSessionRow)
        if f.operator is not None:
            stmt = stmt.where(OicpSessionRow.operator == f.operator)
        if f.provider is not None:
            stmt = stmt.where(OicpSessionRow.provider == f.provider)
        if f.evse_id is not None:
            stmt = stmt.where(_canonical_column(OicpSessionRow.evse_id) == f.evse_id)
        if f.since is not None:
            stmt = stmt.where(OicpSessionRow.created_at >= f.since)
        rows = await self._s.scalars(
            stmt.order_by(OicpSessionRow.created_at.desc(), OicpSessionRow.session_id).limit(limit)
        )
        return [_session(r) for r in rows]


def _cdr(row: OicpCdrRow) -> StoredCdr:
    return StoredCdr(
        session_id=row.session_id,
        operator=row.operator,
        provider=row.provider,
        evse_id=row.evse_id,
        record=row.record,
        received_at=row.received_at,
        forwarded=row.forwarded,
    )


class SqlOicpCdrRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, cdr: StoredCdr) -> bool:
        stmt = (
            insert_for(self._s, OicpCdrRow)
            .values(
                session_id=cdr.session_id,
                operator=cdr.operator,
                provider=cdr.provider,
                evse_id=cdr.evse_id,
                record=cdr.record,
                received_at=cdr.received_at,
                forwarded=cdr.forwarded,
            )
            .on_conflict_do_nothing(index_elements=["session_id"])
            .returning(OicpCdrRow.session_id)
        )
        return (await self._s.execute(stmt)).first() is not None

    async def get(self, session_id: str) -> StoredCdr | None:
        row = await self._s.get(OicpCdrRow, session_id)
        return _cdr(row) if row is not None else None

    async def mark_forwarded(self, session_id: str) -> None:
        await self._s.execute(
            update(OicpCdrRow)
            .where(OicpCdrRow.session_id == session_id)
            .values(forwarded=True)
            .execution_options(synchronize_session=False)
        )

    async def query(self, query: CdrQuery, offset: int, limit: int) -> tuple[list[StoredCdr], int]:
        where = [
            OicpCdrRow.provider == query.provider,
            OicpCdrRow.received_at >= query.start,
            OicpCdrRow.received_at <= query.end,
        ]
        if query.session_ids:
            where.append(OicpCdrRow.session_id.in_(sorted(set(query.session_ids))))
        if query.operators:
            where.append(OicpCdrRow.operator.in_(sorted(set(query.operators))))
        if query.forwarded is not None:
            where.append(OicpCdrRow.forwarded == query.forwarded)
        total = await self._s.scalar(select(func.count()).select_from(OicpCdrRow).where(*where))
        rows = await self._s.scalars(
            select(OicpCdrRow)
            .where(*where)
            .order_by(OicpCdrRow.received_at, OicpCdrRow.session_id)
            .offset(offset)
            .limit(limit)
        )
        return [_cdr(r) for r in rows], int(total or 0)

    async def search(self, cdr_filter: CdrFilter, limit: int) -> list[StoredCdr]:
        f = cdr_filter
        stmt = select(OicpCdrRow)
        if f.provider is not None:
            stmt = stmt.where(OicpCdrRow.provider == f.provider)
        if f.operator is not None:
            stmt = stmt.where(OicpCdrRow.operator == f.operator)
        if f.forwarded is not None:
            stmt = stmt.where(OicpCdrRow.forwarded == f.forwarded)
        if f.since is not None:
            stmt = stmt.where(OicpCdrRow.received_at >= f.since)
        rows = await self._s.scalars(
            stmt.order_by(OicpCdrRow.received_at.desc(), OicpCdrRow.session_id).limit(limit)
        )
        return [_cdr(r) for r in rows]


def _auth(row: OicpAuthRecordRow) -> AuthenticationRecord:
    return AuthenticationRecord(
        provider=row.provider,
        key=row.medium_key,
        identification=row.identification,
        pin_hash=row.pin_hash,
        hashed_pin=row.hashed_pin,
    )


class SqlOicpAuthDataRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def known(self, provider: str, keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(keys):
            rows = await self._s.scalars(
                select(OicpAuthRecordRow.medium_key).where(
                    OicpAuthRecordRow.provider == provider,
                    OicpAuthRecordRow.medium_key.in_(chunk),
                )
            )
            found.update(rows)
        return found

    async def put(self, records: Sequence[AuthenticationRecord]) -> None:
        for i in range(0, len(records), _CHUNK):
            values = [
                {
                    "provider": r.provider,
                    "medium_key": r.key,
                    "identification": r.identification,
                    "pin_hash": r.pin_hash,
                    "hashed_pin": r.hashed_pin,
                }
                for r in records[i : i + _CHUNK]
            ]
            stmt = insert_for(self._s, OicpAuthRecordRow).values(values)
            await self._s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["provider", "medium_key"],
                    set_={
                        "identification": stmt.excluded.identification,
                        "pin_hash": stmt.excluded.pin_hash,
                        "hashed_pin": stmt.excluded.hashed_pin,
                    },
                )
            )

    async def delete(self, provider: str, keys: Iterable[str]) -> int:
        count = 0
        for chunk in _chunks(keys):
            result = await self._s.execute(
                delete(OicpAuthRecordRow)
                .where(
                    OicpAuthRecordRow.provider == provider,
                    OicpAuthRecordRow.medium_key.in_(chunk),
                )
                .returning(OicpAuthRecordRow.medium_key)
            )
            count += len(result.all())
        return count

    async def delete_all(self, provider: str) -> int:
        result = await self._s.execute(
            delete(OicpAuthRecordRow)
            .where(OicpAuthRecordRow.provider == provider)
            .returning(OicpAuthRecordRow.medium_key)
        )
        return len(result.all())

    async def find(self, key: str) -> list[AuthenticationRecord]:
        rows = await self._s.scalars(
            select(OicpAuthRecordRow)
            .where(OicpAuthRecordRow.medium_key == key)
            .order_by(OicpAuthRecordRow.provider)
        )
        return [_auth(r) for r in rows]


class SqlOicpNotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, notification: KeptNotification) -> None:
        self._s.add(
            OicpNotificationRow(
                session_id=notification.session_id,
                provider=notification.provider,
                kind=notification.kind,
                body=notification.body,
                received_at=notification.received_at,
            )
        )
        await self._s.flush()

    async def for_session(self, session_id: str) -> list[KeptNotification]:
        rows = await self._s.scalars(
            select(OicpNotificationRow)
            .where(OicpNotificationRow.session_id == session_id)
            .order_by(OicpNotificationRow.id)
        )
        return [
            KeptNotification(r.session_id, r.provider, r.kind, r.body, r.received_at) for r in rows
        ]
