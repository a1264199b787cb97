"""Requests answered later by a POST to a ``response_url`` (``core/callbacks.py``), as
core ``ReceivedRequest`` and ``SentRequest`` objects.

Every change of state is one conditional UPDATE (``... WHERE id = :id AND state =
:expected``) whose row count says whether this transaction made it. That is what keeps
two processes on one database from both answering a request: the watchdog of one and a
result arriving at another both try to move a WAITING request; on PostgreSQL the second
UPDATE waits for the first's row lock, then finds the state changed and touches nothing;
on SQLite the writing transactions take turns. Only the transaction whose UPDATE
matched queues the POST to ``response_url``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import Table, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.callbacks import (
    AWAITING_RESULT,
    KeptRequest,
    ReceivedRequest,
    ReceivedState,
    RequestKind,
    SentRequest,
    SentState,
)
from evroam.core.objects import Document
from evroam.storage.tables import ReceivedRequestRow, SentRequestRow

_RECEIVED = cast(Table, ReceivedRequestRow.__table__)
_R = _RECEIVED.c
_SENT = cast(Table, SentRequestRow.__table__)
_S = _SENT.c

K = TypeVar("K", ReceivedRequest, SentRequest)

#: Fields kept as JSON text, and texts cut to their column's length.
_DOCUMENTS = frozenset({"body", "result_body"})
_TEXTS = frozenset({"message", "response_message", "error"})


def _dump(doc: Document | None) -> str | None:
    return None if doc is None else json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _load(text: str | None) -> Document | None:
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def _cut(text: str | None, n: int = 1000) -> str | None:
    return None if text is None else text[:n]


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _values(request: KeptRequest) -> dict[str, Any]:
    """A request's row: one column per field (the tables are built that way)."""
    out: dict[str, Any] = {}
    for f in fields(request):
        value = getattr(request, f.name)
        if f.name in _DOCUMENTS:
            value = _dump(value)
        elif f.name in _TEXTS:
            value = _cut(value)
        elif isinstance(value, StrEnum):
            value = value.value
        out[f.name] = value
    return out


def _request(cls: type[K], states: type[StrEnum], row: Any) -> K:
    values = {f.name: getattr(row, f.name) for f in fields(cls)}
    values["kind"] = RequestKind(row.kind)
    values["state"] = states(row.state)
    values["body"] = _load(row.body) or {}
    values["result_body"] = _load(row.result_body)
    return cls(**values)


def _received(row: Any) -> ReceivedRequest:
    return _request(ReceivedRequest, ReceivedState, row)


def _sent(row: Any) -> SentRequest:
    return _request(SentRequest, SentState, row)


async def _search(
    s: AsyncSession,
    table: Table,
    kind: RequestKind | None,
    states: Sequence[StrEnum],
    session_id: str | None,
    limit: int,
) -> Sequence[Any]:
    """Rows of ``table`` newest first: of ``kind``, in ``states``, of ``session_id``."""
    c = table.c
    query = select(table)
    if kind is not None:
        query = query.where(c.kind == kind.value)
    if states:
        query = query.where(c.state.in_([s.value for s in states]))
    if session_id is not None:
        query = query.where(c.session_id == session_id)
    return (await s.execute(query.order_by(c.created_at.desc(), c.id).limit(limit))).all()


class SqlReceivedRequestRepository:
    """``ReceivedRequestRepository``: the CPO side."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, request: ReceivedRequest) -> None:
        await self._s.execute(_RECEIVED.insert().values(**_values(request)))

    async def get(self, request_id: str) -> ReceivedRequest | None:
        row = (await self._s.execute(select(_RECEIVED).where(_R.id == request_id))).first()
        return _received(row) if row else None

    async def finish(
        self,
        request_id: str,
        expected: ReceivedState,
        state: ReceivedState,
        result: str,
        message: str | None,
        result_body: Document | None,
        at: datetime,
    ) -> bool:
        """Move a request from ``expected`` to ``state`` with its result; False (and
        nothing changed) when it is no longer in ``expected``."""
        done = await self._s.execute(
            update(_RECEIVED)
            .where(_R.id == request_id, _R.state == expected.value)
            .values(
                state=state.value,
                result=result,
                message=_cut(message),
                result_body=_dump(result_body),
                result_at=at,
            )
        )
        return _rowcount(done) == 1

    async def keep_late(self, request_id: str, result: str, at: datetime) -> bool:
        """Keep the first result that came after TIMEOUT (for the operator only)."""
        done = await self._s.execute(
            update(_RECEIVED)
            .where(
                _R.id == request_id,
                _R.state == ReceivedState.TIMEOUT.value,
                _R.late_result.is_(None),
            )
            .values(late_result=result, late_result_at=at)
        )
        return _rowcount(done) == 1

    async def overdue(self, now: datetime, limit: int) -> list[ReceivedRequest]:
        """Requests still WAITING whose ``timeout_at`` has passed, oldest first."""
        rows = await self._s.execute(
            select(_RECEIVED)
            .where(_R.state == ReceivedState.WAITING.value, _R.timeout_at <= now)
            .order_by(_R.timeout_at, _R.id)
            .limit(limit)
        )
        return [_received(r) for r in rows]

    async def search(
        self,
        *,
        kind: RequestKind | None = None,
        states: Sequence[ReceivedState] = (),
        session_id: str | None = None,
        limit: int = 100,
    ) -> list[ReceivedRequest]:
        """Newest first."""
        rows = await _search(self._s, _RECEIVED, kind, states, session_id, limit)
        return [_received(r) for r in rows]


class SqlSentRequestRepository:
    """``SentRequestRepository``: the eMSP side."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, request: SentRequest) -> None:
        await self._s.execute(_SENT.insert().values(**_values(request)))

    async def get(self, request_id: str) -> SentRequest | None:
        row = (await self._s.execute(select(_SENT).where(_S.id == request_id))).first()
        return _sent(row) if row else None

    async def record_response(
        self,
        request_id: str,
        response: str,
        timeout: int | None,
        message: str | None,
        expires_at: datetime,
        at: datetime,
    ) -> bool:
        """The partner's answer at once. The state becomes the answer only while it is
        SENT: a result that overtook the answer (the partner POSTed it before its HTTP
        answer reached us) stays the state."""
        done = await self._s.execute(
            update(_SENT)
            .where(_S.id == request_id)
            .values(
                response=response,
                timeout=timeout,
                response_message=_cut(message),
                responded_at=at,
                state=case((_S.state == SentState.SENT.value, response), else_=_S.state),
                expires_at=case(
                    (_S.state == SentState.SENT.value, expires_at), else_=_S.expires_at
                ),
            )
        )
        return _rowcount(done) == 1

    async def record_failure(self, request_id: str, error: str, at: datetime) -> bool:
        """The call got no usable answer: FAILED, while still SENT."""
        done = await self._s.execute(
            update(_SENT)
            .where(_S.id == request_id, _S.state == SentState.SENT.value)
            .values(state=SentState.FAILED.value, error=_cut(error), responded_at=at)
        )
        return _rowcount(done) == 1

    async def record_result(
        self,
        request_id: str,
        result: str,
        result_body: Document | None,
        at: datetime,
        *,
        replace: bool = False,
    ) -> bool:
        """The result the partner POSTed: stored once (``replace``: over an earlier
        one, for a reservation the CPO cancelled after accepting it)."""
        query = update(_SENT).where(_S.id == request_id)
        if not replace:
            query = query.where(_S.result.is_(None))
        done = await self._s.execute(
            query.values(
                state=SentState.RESULT.value,
                result=result,
                result_body=_dump(result_body),
                result_at=at,
            )
        )
        return _rowcount(done) == 1

    async def overdue(self, now: datetime, limit: int) -> list[SentRequest]:
        """Requests still waiting for a result past ``expires_at`` (a read: the expiry
        writes only when there are some)."""
        rows = await self._s.execute(
            select(_SENT)
            .where(_S.state.in_([s.value for s in AWAITING_RESULT]), _S.expires_at <= now)
            .order_by(_S.expires_at, _S.id)
            .limit(limit)
        )
        return [_sent(r) for r in rows]

    async def expire(self, now: datetime) -> int:
        """Requests still waiting for a result past ``expires_at``: EXPIRED; how many."""
        done = await self._s.execute(
            update(_SENT)
            .where(_S.state.in_([s.value for s in AWAITING_RESULT]), _S.expires_at <= now)
            .values(state=SentState.EXPIRED.value)
        )
        return _rowcount(done)

    async def search(
        self,
        *,
        kind: RequestKind | None = None,
        states: Sequence[SentState] = (),
        session_id: str | None = None,
        limit: int = 100,
    ) -> list[SentRequest]:
        """Newest first."""
        rows = await _search(self._s, _SENT, kind, states, session_id, limit)
        return [_sent(r) for r in rows]
