"""The push outbox, enqueue side: ``OutboxPort`` for the writer (DESIGN.md "Push and
outbox", issue 8).

``enqueue`` runs inside the writer's transaction, so a change of the node's own data and
what it owes each partner commit together or not at all. For a batch of changes it:

1. reads the partners once (one query for the batch, in the same transaction, so a
   partner suspended a moment ago is seen as such) and keeps, per module, those that
   receive it: registered, not SUSPENDED, speaking a version we render for, with a
   RECEIVER endpoint for the module, holding the change's audience party if it has one;
2. folds the batch's changes per Receiver path (``target``) in order: a PATCH merges
   into the change before it (a PUT absorbs it and stays a PUT), a PUT or DELETE
   replaces it, a POST (a CDR) never merges;
3. reads the pending entries of those partners' objects (one locked query per 500
   objects), merges each change into the pending entry of its path where that keeps
   the order (below), and inserts the rest: one DELETE, one UPDATE and one INSERT
   (executemany) for the whole batch.

Order first: a change merges into an earlier entry of its path only when no entry of
an overlapping path is owed between them (an EVSE's PATCH never moves ahead of a later
PUT of its Location, whose older copy of the EVSE would then arrive last); sibling
paths (two EVSEs) do not matter. A PUT or DELETE of a path makes the pending entries of
that path and below it pointless (older states of what it sends whole): they are
dropped and it is queued last. So a partner that is down for a day owes at most one
pending entry per object path (a few where PUTs of a parent come in between), whatever
the number of status changes, and the newest fields win. Merging respects OCPI's
PATCH semantics (digest §7.6): fields replace wholesale, except a Session's
``charging_periods``, which a PATCH appends.

An entry in flight is never merged into (its body is on the wire): the next change of
that path gets a new pending entry, sent after it (per-object order).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from evroam.core.objects import Document, ObjectKey
from evroam.core.ports import UnitOfWork
from evroam.core.push import OutboxEntry, OutboxState, PendingEntry, PushChange, PushMethod
from evroam.core.types import InterfaceRole, ModuleId, Partner, Role

log = logging.getLogger("evroam.push")

#: How a canonical (OCPI 2.2.1) body is rendered for a partner's version: one function
#: per version the node pushes in. Only 2.2.1 exists, whose wire form is the canonical one.
Renderer = Callable[[ModuleId, Document], Document]


def _render_2_2_1(module: ModuleId, body: Document) -> Document:
    return body


RENDERERS: dict[str, Renderer] = {"2.2.1": _render_2_2_1}

#: Which role of a partner receives a module's pushes, for the routing header TO.
_RECEIVING_ROLE: dict[ModuleId, Role] = {
    ModuleId.LOCATIONS: Role.EMSP,
    ModuleId.TARIFFS: Role.EMSP,
    ModuleId.SESSIONS: Role.EMSP,
    ModuleId.CDRS: Role.EMSP,
    ModuleId.TOKENS: Role.CPO,
    # Results of commands and charging-profile requests go to the eMSP that sent them
    # (always with an audience); ActiveChargingProfile pushes to the eMSP/SCSP.
    ModuleId.COMMANDS: Role.EMSP,
    ModuleId.CHARGING_PROFILES: Role.EMSP,
}

#: Which of a partner's endpoints of a module takes the node's pushes: the Receiver
#: for data the node owns (OCPI 2.2.1 transport §"Push model"), except where the spec
#: has the pushing side call the other's Sender: a CPO PUTs ActiveChargingProfile to
#: the eMSP/SCSP's chargingprofiles Sender (mod_charging_profiles §"Sender Interface").
_ENDPOINT_ROLE: dict[ModuleId, InterfaceRole] = {
    ModuleId.CHARGING_PROFILES: InterfaceRole.SENDER,
}


def endpoint_role(module: ModuleId) -> InterfaceRole:
    """The interface of the partner that takes pushes of ``module``."""
    return _ENDPOINT_ROLE.get(module, InterfaceRole.RECEIVER)


MAX_TARGET = 512


def utcnow() -> datetime:
    return datetime.now(UTC)


def object_key(module: ModuleId, key: ObjectKey) -> str:
    """The ordering unit as stored: module and the object's identity."""
    return f"{module.value}|{key.country_code}|{key.party_id}|{key.id_key}|{key.variant}"


def target(module: ModuleId, path: Sequence[str], query: Sequence[tuple[str, str]]) -> str:
    """The coalescing unit as stored: the Receiver path and query, each part quoted."""
    out = "/".join([module.value, *(quote(p, safe="") for p in path)])
    if query:
        out += "?" + urlencode(list(query))
    if len(out) > MAX_TARGET:
        raise ValueError(f"push target longer than {MAX_TARGET} characters")
    return out


@functools.lru_cache(maxsize=4096)
def target_path(name: str) -> tuple[str, ...]:
    """The (quoted) path parts of a target, for comparing paths of one object. Kept for
    the most recent targets: every partner's pending entry of an object has the same
    one, and an enqueue splits each."""
    return tuple(name.split("?", 1)[0].split("/")[1:])


def merge_body(module: ModuleId, base: Document, patch: Document) -> Document:
    """``patch`` applied to ``base`` as a Receiver applies a PATCH: fields replace, a
    Session's ``charging_periods`` are appended."""
    out = dict(base)
    for name, value in patch.items():
        if (
            module == ModuleId.SESSIONS
            and name == "charging_periods"
            and isinstance(value, list)
            and isinstance(base.get(name), list)
        ):
            out[name] = [*base[name], *value]
        else:
            out[name] = value
    return out


@dataclass(slots=True)
class _Op:
    """One call owed for a target, after folding the batch."""

    method: PushMethod
    body: Document | None


def fold(module: ModuleId, prev: _Op, new: _Op) -> _Op | None:
    """``new`` merged into ``prev`` (both owed for one target, ``prev`` first), or None
    when both must be sent."""
    if PushMethod.POST in (prev.method, new.method):
        return None
    if new.method == PushMethod.PATCH:
        if prev.method == PushMethod.DELETE or prev.body is None or new.body is None:
            return None
        return _Op(prev.method, merge_body(module, prev.body, new.body))
    return _Op(new.method, new.body)  # PUT or DELETE: the newer whole state replaces


def related(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two Receiver paths of one object overlap: one is the other or holds it
    (a Location and its EVSE), as opposed to siblings (two EVSEs)."""
    n = min(len(a), len(b))
    return tuple(a[:n]) == tuple(b[:n])


@dataclass(slots=True)
class _Slot:
    """One call owed for a target in a (partner or batch) queue of one object: an
    entry already pending (``entry``) or a new one; ``text`` caches its rendered body."""

    target: str
    path: tuple[str, ...]
    op: _Op | None  # None: the pending entry's, not parsed yet
    entry: PendingEntry | None = None
    text: str | None = None
    dirty: bool = False
    dropped: bool = False
    change: PushChange | None = None

    def current(self) -> _Op:
        if self.op is None:
            assert self.entry is not None
            body = None if self.entry.body is None else json.loads(self.entry.body)
            self.op = _Op(self.entry.method, body)
        return self.op


def _superseded(queue: list[_Slot], path: tuple[str, ...]) -> list[_Slot]:
    """Remove from ``queue`` what a PUT or DELETE of ``path`` makes pointless: owed
    calls of that path or below it (older states of what the new call sends whole, or
    of what it deletes); what was removed. POSTs stay: each is a record of its own."""
    gone = [
        s
        for s in queue
        if tuple(s.path[: len(path)]) == path and s.current().method != PushMethod.POST
    ]
    for s in gone:
        queue.remove(s)
    return gone


def _candidate(queue: Sequence[_Slot], name: str, path: tuple[str, ...]) -> _Slot | None:
    """The slot a new change of ``name`` may merge into: the last one of that target,
    unless a later slot of an overlapping path is owed after it. Merging there would
    move the change ahead of it: a PATCH of an EVSE ahead of the later PUT of its
    Location, whose older copy of the EVSE would then arrive last."""
    for slot in reversed(queue):
        if slot.target == name:
            return slot
        if related(slot.path, path):
            return None
    return None


def _absorb(module: ModuleId, queue: list[_Slot], slot: _Slot) -> int | None:
    """Fold ``slot`` into an earlier pending slot of its target when nothing of an
    overlapping path is owed between them; the id of the entry that became moot.

    Two pending entries of one target arise when a change came while the first was in
    flight (it could not be merged then) and the attempt failed: both are pending again.
    Without this, a partner that stays down keeps two entries for such an object, not
    the one per object that coalescing promises."""
    at = queue.index(slot)
    for earlier in reversed(queue[:at]):
        if earlier.target == slot.target:
            if earlier.entry is None or slot.entry is None:
                return None  # only stored entries can be two: a batch merges its own
            if earlier.entry.version != slot.entry.version:
                return None
            merged = fold(module, earlier.current(), slot.current())
            if merged is None:
                return None
            earlier.op, earlier.text, earlier.dirty = merged, None, True
            slot.dropped = True
            queue.remove(slot)
            return slot.entry.id
        if related(earlier.path, slot.path):
            return None
    return None


def receiving_party(partner: Partner, module: ModuleId, audience: tuple[str, str] | None) -> str:
    """The partner's party the call is addressed to (routing header TO), ``CC-PID``;
    empty when the partner must not get it (it does not hold the audience party)."""
    if audience is not None:
        wanted = (audience[0].upper(), audience[1].upper())
        return f"{wanted[0]}-{wanted[1]}" if wanted in partner.party_keys else ""
    role = _RECEIVING_ROLE.get(module)
    for party in partner.roles:
        if party.role == role:
            return party.label
    return partner.roles[0].label if partner.roles else ""


def can_receive(partner: Partner) -> bool:
    """Whether the partner can be sent anything: registered, with a token, in a version
    the node renders for."""
    return partner.registered and bool(partner.token_out) and partner.version in RENDERERS


def receives(partner: Partner, module: ModuleId) -> bool:
    """Whether the partner is owed pushes of ``module`` at all."""
    if not can_receive(partner):
        return False
    role = endpoint_role(module)
    ep = partner.endpoint(module.value, role)
    return ep is not None and ep.role == role


def url_target(module: ModuleId, url: str) -> str:
    """The stored ``target`` of a call to a partner's own URL: never equal to a path
    target (those have no ``@``), so nothing coalesces with it."""
    return f"{module.value}@{url}"[:MAX_TARGET]


class Outbox:
    """``OutboxPort``: enqueue in the caller's transaction, wake the workers after it."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self._wakers: list[Callable[[], None]] = []
        self.enqueued = 0  # entries written or merged, for the operator and benchmarks

    def on_wake(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (an in-process worker's) whenever ``wake`` is."""
        self._wakers.append(callback)

    def wake(self) -> None:
        for callback in self._wakers:
            callback()

    async def enqueue(self, uow: UnitOfWork, changes: Sequence[PushChange]) -> None:
        if not changes:
            return
        now = self._clock()
        partners = await uow.partners.list()
        direct = [c for c in changes if c.url is not None]
        if direct:
            await self._enqueue_direct(uow, partners, direct, now)
        changes = [c for c in changes if c.url is None]
        subscribers: dict[ModuleId, list[Partner]] = {}
        for module in {c.module for c in changes}:
            subscribers[module] = [p for p in partners if receives(p, module)]
        batch = _fold_batch([c for c in changes if subscribers[c.module]])
        if not batch:
            return
        partner_ids = sorted({p.id for m in subscribers.values() for p in m})
        keys = sorted({object_key(s.change.module, s.change.key) for s in batch if s.change})
        # Each (partner, object) queue: its pending entries, then what this batch adds.
        queues: dict[tuple[int, str], list[_Slot]] = {}
        for entry in await uow.outbox.pending_for(partner_ids, keys):
            queues.setdefault((entry.partner_id, entry.object_key), []).append(
                _Slot(entry.target, target_path(entry.target), None, entry)
            )
        rendered: dict[tuple[int, str], str | None] = {}
        merges: dict[tuple[PushMethod, str | None, int, str], tuple[_Op | None, str | None]] = {}
        added: list[tuple[_Slot, Partner, str]] = []
        dropped: list[int] = []
        for item in batch:
            change = item.change
            assert change is not None
            okey = object_key(change.module, change.key)
            for partner in subscribers[change.module]:
                to_party = receiving_party(partner, change.module, change.audience)
                if not to_party:
                    continue
                version = partner.version or ""
                op = item.current()
                queue = queues.setdefault((partner.id, okey), [])
                slot = _candidate(queue, item.target, item.path)
                if slot is not None and (slot.entry is None or slot.entry.version == version):
                    theirs = _render_op(change.module, version, op)
                    if slot.entry is not None and slot.op is None:
                        # Partners usually owe the same: merge each stored body once.
                        key = (slot.entry.method, slot.entry.body, id(item), version)
                        hit = merges.get(key)
                        if hit is None:
                            m = fold(change.module, slot.current(), theirs)
                            hit = merges[key] = (m, None if m is None else _dump(m.body))
                        merged, text = hit
                    else:
                        merged, text = fold(change.module, slot.current(), theirs), None
                    if merged is not None:
                        slot.op, slot.text, slot.dirty = merged, text, True
                        absorbed = _absorb(change.module, queue, slot)
                        if absorbed is not None:
                            dropped.append(absorbed)
                        continue
                if op.method in (PushMethod.PUT, PushMethod.DELETE):
                    for gone in _superseded(queue, item.path):
                        gone.dropped = True
                        if gone.entry is not None:
                            dropped.append(gone.entry.id)
                cache = (id(item), version)
                if cache not in rendered:
                    rendered[cache] = _dump(_render_op(change.module, version, op).body)
                new = _Slot(item.target, item.path, op, text=rendered[cache], change=change)
                queue.append(new)
                added.append((new, partner, to_party))
        rewrites = [
            (
                s.entry.id,
                s.current().method,
                s.text if s.text is not None else _dump(s.current().body),
            )
            for q in queues.values()
            for s in q
            if s.entry is not None and s.dirty and not s.dropped
        ]
        entries = [
            _pending(
                slot.change,
                partner,
                to_party,
                slot.current().method,
                slot.text if slot.text is not None else _dump(slot.current().body),
                slot.target,
                now,
            )
            for slot, partner, to_party in added
            if slot.change is not None and not slot.dropped
        ]
        await uow.outbox.drop_pending(dropped)
        await uow.outbox.rewrite_many(rewrites, now)
        await uow.outbox.add_many(entries, now)
        if entries:
            await uow.outbox.notify()  # workers of other processes (PostgreSQL)
        self.enqueued += len(rewrites) + len(entries)

    async def _enqueue_direct(
        self,
        uow: UnitOfWork,
        partners: Sequence[Partner],
        changes: Sequence[PushChange],
        now: datetime,
    ) -> None:
        """Calls to a URL the partner gave (``PushChange.url``): one entry each, for the
        partner holding the audience party, whatever endpoints it lists. Nothing merges
        into them (POSTs), and they keep their place in their object's queue."""
        entries: list[OutboxEntry] = []
        for change in changes:
            assert change.url is not None and change.audience is not None
            before = len(entries)
            for partner in partners:
                to_party = receiving_party(partner, change.module, change.audience)
                if not to_party or not can_receive(partner):
                    continue
                body = change.body
                if body is not None:
                    body = RENDERERS[partner.version or ""](change.module, body)
                entries.append(
                    _pending(
                        change,
                        partner,
                        to_party,
                        change.method,
                        _dump(body),
                        url_target(change.module, change.url),
                        now,
                    )
                )
            if len(entries) == before:
                log.warning(
                    "push: no partner that can receive holds %s: its %s call is not queued",
                    "-".join(change.audience),
                    change.module.value,
                )
        if not entries:
            return
        await uow.outbox.add_many(entries, now)
        await uow.outbox.notify()
        self.enqueued += len(entries)


def _pending(
    change: PushChange,
    partner: Partner,
    to_party: str,
    method: PushMethod,
    body: str | None,
    target: str,
    now: datetime,
) -> OutboxEntry:
    """A new pending entry of ``change`` for ``partner``: to its endpoint's ``path``, or
    to the change's own ``url`` when it has one."""
    return OutboxEntry(
        id=0,
        partner_id=partner.id,
        version=partner.version or "",
        module=change.module,
        method=method,
        path=change.path,
        query=change.query,
        body=body,
        from_party=f"{change.key.country_code}-{change.key.party_id}",
        to_party=to_party,
        object_key=object_key(change.module, change.key),
        target=target,
        state=OutboxState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        url=change.url,
    )


async def compact(
    uow: UnitOfWork, partner_id: int, object_keys: Sequence[str], now: datetime
) -> int:
    """Merge the pending entries of one target that an attempt in flight kept apart,
    in the transaction that settles the failed attempt; how many entries went.

    A change that comes while its target's entry is on the wire cannot merge into it
    and is queued behind it; when the attempt fails, both are pending. ``enqueue``
    folds them at the object's next change (``_absorb``); this does it at once, so a
    partner that is down owes one entry per target even when no change follows."""
    if not object_keys:
        return 0
    queues: dict[str, list[_Slot]] = {}
    for entry in await uow.outbox.pending_for([partner_id], object_keys):
        queues.setdefault(entry.object_key, []).append(
            _Slot(entry.target, target_path(entry.target), None, entry)
        )
    dropped: list[int] = []
    for okey, queue in queues.items():
        module = ModuleId(okey.split("|", 1)[0])
        for slot in list(queue):
            gone = _absorb(module, queue, slot)
            if gone is not None:
                dropped.append(gone)
    if not dropped:
        return 0
    rewrites = [
        (s.entry.id, s.current().method, _dump(s.current().body))
        for q in queues.values()
        for s in q
        if s.entry is not None and s.dirty and not s.dropped
    ]
    await uow.outbox.drop_pending(dropped)
    await uow.outbox.rewrite_many(rewrites, now)
    return len(dropped)


def _fold_batch(changes: Sequence[PushChange]) -> list[_Slot]:
    """The batch's changes in order, each merged into an earlier one of its target
    where that keeps the order of overlapping paths (``_candidate``)."""
    out: list[_Slot] = []
    by_object: dict[str, list[_Slot]] = {}
    for change in changes:
        name = target(change.module, change.path, change.query)
        path = target_path(name)
        queue = by_object.setdefault(object_key(change.module, change.key), [])
        op = _Op(change.method, change.body)
        slot = _candidate(queue, name, path)
        if slot is not None:
            merged = fold(change.module, slot.current(), op)
            if merged is not None:
                slot.op = merged
                continue
        if change.method in (PushMethod.PUT, PushMethod.DELETE):
            for gone in _superseded(queue, path):
                out.remove(gone)
        new = _Slot(name, path, op, change=change)
        queue.append(new)
        out.append(new)
    return out


def _render_op(module: ModuleId, version: str, op: _Op) -> _Op:
    if op.body is None:
        return op
    return _Op(op.method, RENDERERS[version](module, op.body))


def _dump(body: Any) -> str | None:
    if body is None:
        return None
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
