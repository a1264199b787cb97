"""The push outbox (``outbox_message``) as core ``OutboxEntry`` objects.

Statements are Core, not ORM, and set-based: enqueue writes hundreds of entries per
transaction (one INSERT executemany, one UPDATE executemany), the worker claims and
settles a batch at a time. The claim is where order and exclusivity are decided:

* only the head of each (partner, object) queue is due: a row is claimed only when no
  earlier row of the same partner and object is unfinished (pending, sending, dead,
  held), so a later PATCH never overtakes an earlier PUT or PATCH, across processes;
* on PostgreSQL the due rows are locked ``FOR UPDATE SKIP LOCKED``: two claimers never
  take the same row and never wait for each other; on SQLite the claiming transaction
  holds the database's write lock (``BEGIN IMMEDIATE``) and is alone anyway;
* a claimed row gets a lease: ``next_attempt_at`` is set to its end, so a row whose
  worker died is due again when the lease runs out (at-least-once), and results are
  written only by the lease's owner.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select, Update
from sqlalchemy.sql.elements import ColumnClause

from evroam.core.push import (
    UNFINISHED,
    DeliveryResult,
    OutboxEntry,
    OutboxState,
    PendingEntry,
    PushMethod,
    QueueStat,
)
from evroam.core.types import ModuleId
from evroam.storage.tables import OutboxRow

_TABLE = cast(Table, OutboxRow.__table__)
_T = _TABLE.c

#: Values per IN list, well under both backends' limit of bound variables.
_CHUNK = 500

_UNFINISHED = [s.value for s in UNFINISHED]

#: The PostgreSQL notification channel of new entries (``push/runner.py`` listens).
CHANNEL = "evroam_outbox"


def _claim_statement(*, lock: bool) -> Update:
    """Lease the due entries of partner ``:pid`` at ``:now`` to ``:owner`` until
    ``:until`` and return what delivery needs of them, in one statement.

    The due entries (``due``) are the head of each object's queue (no earlier unfinished
    entry of the same partner and object), oldest first, at most ``:lim``; on PostgreSQL
    locked ``FOR UPDATE SKIP LOCKED`` (a CTE with a row lock is evaluated once). It was a
    SELECT of every column and an UPDATE ``id IN (...)`` of the ids: two round trips, an
    IN list compiled per claim, and per row nine columns nobody reads on the hot path
    (their values after the lease are known: state, next_attempt_at, partner_id) -- the
    claim was ~9% of a busy node's CPU (py-spy), ``_row_to_entry`` alone 3%."""
    # The states as SQL literals, not an expanding IN: that was compiled on every claim.
    unfinished: list[ColumnClause[Any]] = [literal_column(f"'{v}'") for v in _UNFINISHED]
    claimable: list[ColumnClause[Any]] = [
        literal_column(f"'{s.value}'") for s in (OutboxState.PENDING, OutboxState.SENDING)
    ]
    due_t = _TABLE.alias("due")
    d = due_t.c
    earlier = _TABLE.alias("earlier")
    e = earlier.c
    blocked = exists().where(
        e.partner_id == d.partner_id,
        e.object_key == d.object_key,
        e.id < d.id,
        e.state.in_(unfinished),
    )
    due = (
        select(d.id)
        .where(
            d.partner_id == bindparam("pid"),
            d.state.in_(claimable),
            d.next_attempt_at <= bindparam("now"),
            ~blocked,
        )
        .order_by(d.id)
        .limit(bindparam("lim"))
    )
    if lock:
        due = due.with_for_update(skip_locked=True, of=due_t)
    due_cte = due.cte("due_ids")
    return (
        update(_TABLE)
        .where(_T.id == due_cte.c.id)
        .values(
            state=OutboxState.SENDING.value,
            lease_owner=bindparam("owner"),
            lease_until=bindparam("until"),
            next_attempt_at=bindparam("until"),
            updated_at=bindparam("now"),
        )
        .returning(*(_T[name] for name in _CLAIMED))
    )


#: The columns a claim hands back, in ``_claimed_entry``'s order.
_CLAIMED = (
    "id",
    "version",
    "module",
    "method",
    "path",
    "query",
    "body",
    "from_party",
    "to_party",
    "object_key",
    "target",
    "attempts",
    "created_at",
    "held_reason",
    "last_error",
    "last_http_status",
    "last_ocpi_status",
    "delivered_at",
    "url",
)
_CLAIM = _claim_statement(lock=False)
_CLAIM_LOCKED = _claim_statement(lock=True)


def _pending_statement(*, lock: bool) -> Select[Any]:
    """``pending_for``'s query, built once (``pids``, ``keys``: expanding lists) and run
    on the Core connection: building and compiling it per enqueue, then ORM rows, was
    a third of an enqueue's cost (``bench/push.py --case write-path`` profiles)."""
    query = (
        select(_T.id, _T.partner_id, _T.version, _T.method, _T.object_key, _T.target, _T.body)
        .where(
            _T.partner_id.in_(bindparam("pids", expanding=True)),
            _T.object_key.in_(bindparam("keys", expanding=True)),
            # ``state || ''``: no index on state for this test. Otherwise SQLite searched
            # the claim index (partner_id, state) and read every pending entry of these
            # partners for each enqueue, a backlog's worth per write (bench/push.py);
            # the object index finds just these objects.
            _T.state.concat("") == OutboxState.PENDING.value,
        )
        .order_by(_T.id)
    )
    return query.with_for_update(of=_TABLE) if lock else query


_PENDING = _pending_statement(lock=False)
_PENDING_LOCKED = _pending_statement(lock=True)
_REWRITE = (
    update(_TABLE)
    .where(_T.id == bindparam("rid"), _T.state == OutboxState.PENDING.value)
    .values(method=bindparam("m"), body=bindparam("b"), updated_at=bindparam("at"))
)


def _entry_id(entry: PendingEntry) -> int:
    return entry.id


#: Stored text -> enum member, a dict lookup instead of an Enum call per row.
_MODULES = {m.value: m for m in ModuleId}
_METHODS = {m.value: m for m in PushMethod}
_NO_QUERY = "[]"


def _claimed_entry(r: Any, partner_id: int, until: datetime) -> OutboxEntry:
    """An entry as its claim left it: SENDING, due again when the lease ends."""
    (
        id_,
        version,
        module,
        method,
        path,
        query,
        body,
        from_party,
        to_party,
        object_key,
        target,
        attempts,
        created_at,
        held_reason,
        last_error,
        last_http_status,
        last_ocpi_status,
        delivered_at,
        url,
    ) = r
    return OutboxEntry(
        id_,
        partner_id,
        version,
        _MODULES.get(module) or ModuleId(module),
        _METHODS.get(method) or PushMethod(method),
        tuple(json.loads(path)),
        () if query == _NO_QUERY else tuple((k, v) for k, v in json.loads(query)),
        body,
        from_party,
        to_party,
        object_key,
        target,
        OutboxState.SENDING,
        attempts,
        until,
        created_at,
        held_reason,
        last_error,
        last_http_status,
        last_ocpi_status,
        delivered_at,
        url,
    )


_SETTLE = (
    update(_TABLE)
    .where(
        _T.id == bindparam("rid"),
        _T.lease_owner == bindparam("owner"),
        _T.state == OutboxState.SENDING.value,
    )
    .values(
        state=bindparam("st"),
        attempts=bindparam("att"),
        next_attempt_at=bindparam("nxt"),
        last_error=bindparam("err"),
        last_http_status=bindparam("hs"),
        last_ocpi_status=bindparam("os"),
        delivered_at=bindparam("dat"),
        lease_owner=None,
        lease_until=None,
        updated_at=bindparam("now"),
    )
)


def _row_to_entry(r: Any) -> OutboxEntry:
    return OutboxEntry(
        id=r.id,
        partner_id=r.partner_id,
        version=r.version,
        module=ModuleId(r.module),
        method=PushMethod(r.method),
        path=tuple(json.loads(r.path)),
        query=tuple((k, v) for k, v in json.loads(r.query)),
        body=r.body,
        from_party=r.from_party,
        to_party=r.to_party,
        object_key=r.object_key,
        target=r.target,
        state=OutboxState(r.state),
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        created_at=r.created_at,
        held_reason=r.held_reason,
        last_error=r.last_error,
        last_http_status=r.last_http_status,
        last_ocpi_status=r.last_ocpi_status,
        delivered_at=r.delivered_at,
        url=r.url,
    )


def _first(row: Any) -> Any:
    return row[0]


def _entry_to_row(
    e: OutboxEntry, now: datetime, texts: dict[tuple[Any, ...], str]
) -> dict[str, Any]:
    """The row of a new entry; ``texts`` caches the JSON of paths and queries, shared by
    the entries of one change for every partner."""
    path = texts.get(e.path)
    if path is None:
        path = texts[e.path] = json.dumps(list(e.path))
    query = texts.get(e.query)
    if query is None:
        query = texts[e.query] = json.dumps([list(pair) for pair in e.query])
    return {
        "partner_id": e.partner_id,
        "version": e.version,
        "module": e.module.value,
        "method": e.method.value,
        "path": path,
        "query": query,
        "body": e.body,
        "url": e.url,
        "from_party": e.from_party,
        "to_party": e.to_party,
        "object_key": e.object_key,
        "target": e.target,
        "state": e.state.value,
        "held_reason": e.held_reason,
        "attempts": e.attempts,
        "next_attempt_at": e.next_attempt_at,
        "created_at": e.created_at,
        "updated_at": now,
    }


class SqlOutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    @property
    def _postgres(self) -> bool:
        return self._s.get_bind().dialect.name == "postgresql"

    def _lock(self, query: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
        """Row locks on PostgreSQL; SQLite's writing transaction holds the database."""
        if not self._postgres:
            return query
        return query.with_for_update(skip_locked=skip_locked, of=_TABLE)

    # ------------------------------------------------------------------ enqueue

    async def pending_for(
        self, partner_ids: Sequence[int], object_keys: Sequence[str]
    ) -> list[PendingEntry]:
        """The pending entries of these partners' objects, locked, in id order (so
        concurrent enqueues lock in one order and never deadlock): what a new change
        may merge into, and what it must not overtake. Entries in flight, dead or held
        are never after a pending one of their object, so these are all that matter."""
        if not partner_ids or not object_keys:
            return []
        found: list[PendingEntry] = []
        unique = sorted(set(object_keys))
        conn = await self._s.connection()
        query = _PENDING_LOCKED if self._postgres else _PENDING
        pids = sorted(set(partner_ids))
        methods = _METHODS
        for start in range(0, len(unique), _CHUNK):
            rows = await conn.execute(query, {"pids": pids, "keys": unique[start : start + _CHUNK]})
            found.extend(
                PendingEntry(r[0], r[1], r[2], methods[r[3]], r[4], r[5], r[6]) for r in rows
            )
        found.sort(key=_entry_id)
        return found

    async def drop_pending(self, entry_ids: Sequence[int]) -> None:
        """Delete pending entries (read with ``pending_for``) a newer change made moot."""
        ids = sorted(set(entry_ids))
        for start in range(0, len(ids), _CHUNK):
            await self._s.execute(
                delete(_TABLE).where(
                    _T.id.in_(ids[start : start + _CHUNK]), _T.state == OutboxState.PENDING.value
                )
            )

    async def notify(self) -> None:
        """PostgreSQL: tell listening workers of other processes (``NOTIFY``, delivered
        when this transaction commits, once however often it is called); SQLite: none."""
        if self._postgres:
            await self._s.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    async def add_many(self, entries: Sequence[OutboxEntry], now: datetime) -> None:
        if entries:
            texts: dict[tuple[Any, ...], str] = {}
            await self._s.execute(insert(_TABLE), [_entry_to_row(e, now, texts) for e in entries])

    async def rewrite_many(
        self, changes: Sequence[tuple[int, PushMethod, str | None]], now: datetime
    ) -> None:
        """Give pending entries (read with ``pending_for``) a new method and body."""
        if not changes:
            return
        conn = await self._s.connection()
        await conn.execute(
            _REWRITE, [{"rid": i, "m": m.value, "b": b, "at": now} for i, m, b in changes]
        )

    # ------------------------------------------------------------------ delivery

    async def claim(
        self, partner_id: int, now: datetime, limit: int, owner: str, lease: timedelta
    ) -> list[OutboxEntry]:
        """Due entries of one partner, each the head of its object's queue, leased to
        ``owner`` until ``now + lease`` (see the module docstring), in id order. The
        statement is built once (``_CLAIM*``) and run on the session's Core connection:
        building and keying it per call was most of a claim's cost on a busy worker."""
        conn = await self._s.connection()
        query = _CLAIM_LOCKED if self._postgres else _CLAIM
        until = now + lease
        params = {"pid": partner_id, "now": now, "lim": limit, "owner": owner, "until": until}
        rows = sorted((await conn.execute(query, params)).all(), key=_first)  # RETURNING: no order
        return [_claimed_entry(r, partner_id, until) for r in rows]

    async def settle(self, results: Sequence[DeliveryResult], owner: str, now: datetime) -> None:
        """Record what each attempt came to; only rows still leased to ``owner`` change
        (a row whose lease ran out may have been claimed again elsewhere)."""
        if not results:
            return
        conn = await self._s.connection()
        await conn.execute(
            _SETTLE,
            [
                {
                    "rid": r.entry_id,
                    "owner": owner,
                    "now": now,
                    "st": r.state.value,
                    "att": r.attempts,
                    "nxt": r.next_attempt_at or now,
                    "err": r.error[:1000] if r.error else None,
                    "hs": r.http_status,
                    "os": r.ocpi_status,
                    "dat": now if r.state == OutboxState.DELIVERED else None,
                }
                for r in results
            ],
        )

    async def lease_owners(self, now: datetime) -> list[str]:
        """The owners of leases still running (a read: who might have died holding one)."""
        rows = await self._s.scalars(
            select(_T.lease_owner)
            .where(_T.state == OutboxState.SENDING.value, _T.lease_until > now)
            .distinct()
        )
        return [o for o in rows if o]

    async def reclaim(self, owners: Sequence[str], now: datetime) -> int:
        """Entries leased to ``owners`` (known dead) become pending, due now: a crashed
        worker's batch is sent again at once instead of when its lease runs out."""
        if not owners:
            return 0
        result = await self._s.execute(
            update(_TABLE)
            .where(_T.state == OutboxState.SENDING.value, _T.lease_owner.in_(list(owners)))
            .values(
                state=OutboxState.PENDING.value,
                lease_owner=None,
                lease_until=None,
                next_attempt_at=now,
                updated_at=now,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def hold(self, partner_id: int, reason: str, now: datetime) -> int:
        """Hold the partner's pending entries, saying why; how many."""
        result = await self._s.execute(
            update(_TABLE)
            .where(_T.partner_id == partner_id, _T.state == OutboxState.PENDING.value)
            .values(state=OutboxState.HELD.value, held_reason=reason[:255], updated_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def release(self, partner_ids: Sequence[int], now: datetime) -> int:
        """Held entries of partners that can receive again become pending, due now."""
        if not partner_ids:
            return 0
        result = await self._s.execute(
            update(_TABLE)
            .where(_T.state == OutboxState.HELD.value, _T.partner_id.in_(list(partner_ids)))
            .values(
                state=OutboxState.PENDING.value,
                held_reason=None,
                next_attempt_at=now,
                updated_at=now,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def due(self, partner_id: int, now: datetime) -> bool:
        """Whether the partner has an entry due (maybe not claimable: behind another of
        its object): a read, so an idle worker does not take SQLite's write lock."""
        row = await self._s.scalar(
            select(_T.id)
            .where(
                _T.partner_id == partner_id,
                _T.state.in_((OutboxState.PENDING.value, OutboxState.SENDING.value)),
                _T.next_attempt_at <= now,
            )
            .limit(1)
        )
        return row is not None

    async def pending_partners(self, partner_ids: Sequence[int]) -> list[int]:
        """Which of these partners have pending entries."""
        if not partner_ids:
            return []
        rows = await self._s.scalars(
            select(_T.partner_id)
            .where(_T.partner_id.in_(list(partner_ids)), _T.state == OutboxState.PENDING.value)
            .distinct()
        )
        return list(rows)

    async def held_partners(self) -> list[int]:
        rows = await self._s.scalars(
            select(_T.partner_id).where(_T.state == OutboxState.HELD.value).distinct()
        )
        return list(rows)

    async def purge_delivered(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` entries delivered before ``before``; how many."""
        ids = select(_T.id).where(_T.state == OutboxState.DELIVERED.value, _T.delivered_at < before)
        victims = list(await self._s.scalars(ids.order_by(_T.id).limit(limit)))
        if victims:
            await self._s.execute(delete(_TABLE).where(_T.id.in_(victims)))
        return len(victims)

    # ------------------------------------------------------------------ operator

    async def get(self, entry_id: int) -> OutboxEntry | None:
        row = (await self._s.execute(select(_TABLE).where(_T.id == entry_id))).first()
        return _row_to_entry(row) if row else None

    async def entries(
        self,
        *,
        partner_id: int | None = None,
        states: Sequence[OutboxState] = (),
        module: ModuleId | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[OutboxEntry]:
        """Entries in creation order, narrowed by partner, states and module."""
        query = select(_TABLE)
        if partner_id is not None:
            query = query.where(_T.partner_id == partner_id)
        if states:
            query = query.where(_T.state.in_([s.value for s in states]))
        if module is not None:
            query = query.where(_T.module == module.value)
        if after_id is not None:
            query = query.where(_T.id > after_id)
        rows = await self._s.execute(query.order_by(_T.id).limit(limit))
        return [_row_to_entry(r) for r in rows]

    async def stats(self, now: datetime) -> list[QueueStat]:
        """Per partner and module: entries by state, the oldest unfinished one, and the
        deliveries of the last minute."""
        counts: dict[tuple[int, str], dict[str, Any]] = {}
        rows = await self._s.execute(
            select(_T.partner_id, _T.module, _T.state, func.count(), func.min(_T.created_at))
            .where(_T.state.in_(_UNFINISHED))
            .group_by(_T.partner_id, _T.module, _T.state)
        )
        for pid, module, state, count, oldest in rows:
            slot = counts.setdefault((pid, module), {"oldest_at": None})
            slot[state] = int(count)
            if oldest is not None and (slot["oldest_at"] is None or oldest < slot["oldest_at"]):
                slot["oldest_at"] = oldest
        delivered = await self._s.execute(
            select(_T.partner_id, _T.module, func.count())
            .where(
                and_(
                    _T.state == OutboxState.DELIVERED.value,
                    _T.delivered_at >= now - timedelta(minutes=1),
                )
            )
            .group_by(_T.partner_id, _T.module)
        )
        for pid, module, count in delivered:
            counts.setdefault((pid, module), {"oldest_at": None})["delivered"] = int(count)
        out = []
        for (pid, module), slot in sorted(counts.items()):
            oldest = slot["oldest_at"]
            if isinstance(oldest, str):  # SQLite's MIN() of a text column
                oldest = datetime.fromisoformat(oldest)
            out.append(
                QueueStat(
                    partner_id=pid,
                    module=ModuleId(module),
                    pending=slot.get(OutboxState.PENDING.value, 0),
                    sending=slot.get(OutboxState.SENDING.value, 0),
                    dead=slot.get(OutboxState.DEAD.value, 0),
                    held=slot.get(OutboxState.HELD.value, 0),
                    oldest_at=_aware(oldest),
                    delivered_last_minute=slot.get("delivered", 0),
                )
            )
        return out

    async def retry(self, entry_id: int, now: datetime) -> bool:
        """A dead entry (or a pending one waiting for its backoff) is due now."""
        result = await self._s.execute(
            update(_TABLE)
            .where(
                _T.id == entry_id,
                _T.state.in_((OutboxState.DEAD.value, OutboxState.PENDING.value)),
            )
            .values(state=OutboxState.PENDING.value, next_attempt_at=now, updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def retry_dead(self, partner_id: int, module: ModuleId | None, now: datetime) -> int:
        """Every dead letter of a partner (of one module) due now; how many."""
        query = update(_TABLE).where(
            _T.partner_id == partner_id, _T.state == OutboxState.DEAD.value
        )
        if module is not None:
            query = query.where(_T.module == module.value)
        result = await self._s.execute(
            query.values(state=OutboxState.PENDING.value, next_attempt_at=now, updated_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop(self, entry_id: int) -> bool:
        """Delete an entry not in flight: what it owed is given up."""
        result = await self._s.execute(
            delete(_TABLE).where(_T.id == entry_id, _T.state != OutboxState.SENDING.value)
        )
        return bool(getattr(result, "rowcount", 0))


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
