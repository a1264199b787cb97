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
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.callbacks import (
    AWAITING_RESULT,
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


def _received(r: Any) -> ReceivedRequest:
    return ReceivedRequest(
        id=r.id,
        kind=RequestKind(r.kind),
        type=r.type,
        partner_id=r.partner_id,
        party=r.party,
        requester=r.requester,
        body=_load(r.body) or {},
        response_url=r.response_url,
        state=ReceivedState(r.state),
        timeout_at=r.timeout_at,
        created_at=r.created_at,
        session_id=r.session_id,
        result=r.result,
        message=r.message,
        result_body=_load(r.result_body),
        result_at=r.result_at,
        late_result=r.late_result,
        late_result_at=r.late_result_at,
    )


def _sent(r: Any) -> SentRequest:
    return SentRequest(
        id=r.id,
        kind=RequestKind(r.kind),
        type=r.type,
        partner_id=r.partner_id,
        party=r.party,
        sender=r.sender,
        body=_load(r.body) or {},
        response_url=r.response_url,
        state=SentState(r.state),
        created_at=r.created_at,
        expires_at=r.expires_at,
        session_id=r.session_id,
        response=r.response,
        timeout=r.timeout,
        response_message=r.response_message,
        responded_at=r.responded_at,
        result=r.result,
        result_body=_load(r.result_body),
        result_at=r.result_at,
        error=r.error,
    )


class SqlReceivedRequestRepository:
    """``ReceivedRequestRepository``: the CPO side."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, request: ReceivedRequest) -> None:
        await self._s.execute(
            _RECEIVED.insert().values(
                id=request.id,
                kind=request.kind.value,
                type=request.type,
                partner_id=request.partner_id,
                party=request.party,
                requester=request.requester,
                session_id=request.session_id,
                body=_dump(request.body),
                response_url=request.response_url,
                state=request.state.value,
                result=request.result,
                message=_cut(request.message),
                result_body=_dump(request.result_body),
                timeout_at=request.timeout_at,
                created_at=request.created_at,
                result_at=request.result_at,
            )
        )

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
        query = select(_RECEIVED)
        if kind is not None:
            query = query.where(_R.kind == kind.value)
        if states:
            query = query.where(_R.state.in_([s.value for s in states]))
        if session_id is not None:
            query = query.where(_R.session_id == session_id)
        rows = await self._s.execute(query.order_by(_R.created_at.desc(), _R.id).limit(limit))
        return [_received(r) for r in rows]


class SqlSentRequestRepository:
    """``SentRequestRepository``: the eMSP side."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, request: SentRequest) -> None:
        await self._s.execute(
            _SENT.insert().values(
                id=request.id,
                kind=request.kind.value,
                type=request.type,
                partner_id=request.partner_id,
                party=request.party,
                sender=request.sender,
                session_id=request.session_id,
                body=_dump(request.body),
                response_url=request.response_url,
                state=request.state.value,
                created_at=request.created_at,
                expires_at=request.expires_at,
            )
        )

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
        query = select(_SENT)
        if kind is not None:
            query = query.where(_S.kind == kind.value)
        if states:
            query = query.where(_S.state.in_([s.value for s in states]))
        if session_id is not None:
            query = query.where(_S.session_id == session_id)
        rows = await self._s.execute(query.order_by(_S.created_at.desc(), _S.id).limit(limit))
        return [_sent(r) for r in rows]
