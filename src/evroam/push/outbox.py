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
3. reads the pending entries of those partners and targets (one locked query per 500
   targets), merges the first change of each target into the pending entry, and inserts
   the rest: one UPDATE and one INSERT, both executemany, for the whole batch.

So a partner that is down for a day owes at most one pending entry per object path,
whatever the number of status changes, and the newest fields win. Merging respects OCPI's
PATCH semantics (digest §7.6): fields replace wholesale, except a Session's
``charging_periods``, which a PATCH appends.

An entry in flight is never merged into (its body is on the wire): the next change of
that path gets a new pending entry, sent after it (per-object order).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from evroam.core.objects import Document, ObjectKey
from evroam.core.ports import UnitOfWork
from evroam.core.push import OutboxEntry, OutboxState, PushChange, PushMethod
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
}

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


@dataclass(slots=True)
class _Target:
    module: ModuleId
    change: PushChange  # the first change of the target (path, key, audience)
    name: str
    ops: list[_Op]


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


def receives(partner: Partner, module: ModuleId) -> bool:
    """Whether the partner is owed pushes of ``module`` at all."""
    if not partner.registered or not partner.token_out or partner.version not in RENDERERS:
        return False
    ep = partner.endpoint(module.value, InterfaceRole.RECEIVER)
    return ep is not None and ep.role == InterfaceRole.RECEIVER


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
        subscribers: dict[ModuleId, list[Partner]] = {}
        for module in {c.module for c in changes}:
            subscribers[module] = [p for p in partners if receives(p, module)]
        targets = _fold_changes(changes, subscribers)
        if not targets:
            return
        partner_ids = sorted({p.id for m in subscribers.values() for p in m})
        pending = await uow.outbox.pending_for(partner_ids, [t.name for t in targets])
        # The newest pending entry of each (partner, target): the one to merge into.
        latest: dict[tuple[int, str], OutboxEntry] = {}
        for entry in pending:
            latest[(entry.partner_id, entry.target)] = entry
        rendered: dict[tuple[int, str], str | None] = {}
        new: list[OutboxEntry] = []
        rewrites: list[tuple[int, PushMethod, str | None]] = []
        for t in targets:
            for partner in subscribers[t.module]:
                to_party = receiving_party(partner, t.module, t.change.audience)
                if not to_party:
                    continue
                version = partner.version or ""
                ops = t.ops
                existing = latest.get((partner.id, t.name))
                if existing is not None and existing.version == version:
                    stored = None if existing.body is None else json.loads(existing.body)
                    base = _Op(existing.method, stored)
                    merged = fold(t.module, base, _render_op(t.module, version, ops[0]))
                    if merged is not None:
                        rewrites.append((existing.id, merged.method, _dump(merged.body)))
                        ops = ops[1:]
                for op in ops:
                    slot = (id(op), version)
                    if slot not in rendered:
                        rendered[slot] = _dump(_render_op(t.module, version, op).body)
                    new.append(
                        OutboxEntry(
                            id=0,
                            partner_id=partner.id,
                            version=version,
                            module=t.module,
                            method=op.method,
                            path=t.change.path,
                            query=t.change.query,
                            body=rendered[slot],
                            from_party=f"{t.change.key.country_code}-{t.change.key.party_id}",
                            to_party=to_party,
                            object_key=object_key(t.module, t.change.key),
                            target=t.name,
                            state=OutboxState.PENDING,
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
        await uow.outbox.rewrite_many(rewrites, now)
        await uow.outbox.add_many(new, now)
        self.enqueued += len(rewrites) + len(new)


def _fold_changes(
    changes: Sequence[PushChange], subscribers: dict[ModuleId, list[Partner]]
) -> list[_Target]:
    """The batch's changes per target, in order of first appearance, folded."""
    by_name: dict[str, _Target] = {}
    for change in changes:
        if not subscribers.get(change.module):
            continue
        name = target(change.module, change.path, change.query)
        op = _Op(change.method, change.body)
        t = by_name.get(name)
        if t is None:
            by_name[name] = _Target(change.module, change, name, [op])
            continue
        merged = fold(change.module, t.ops[-1], op)
        if merged is None:
            t.ops.append(op)
        else:
            t.ops[-1] = merged
    return list(by_name.values())


def _render_op(module: ModuleId, version: str, op: _Op) -> _Op:
    if op.body is None:
        return op
    return _Op(op.method, RENDERERS[version](module, op.body))


def _dump(body: Any) -> str | None:
    if body is None:
        return None
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
