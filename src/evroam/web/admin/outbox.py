"""Operator API of the push outbox: the queues, the entries, and what an operator does
about a dead letter (retry it, or drop it and give up what it owed).

``GET /outbox`` answers per partner and module the queue depth by state, the age of the
oldest unfinished entry and the deliveries of the last minute (the delivery rate), read
from the database, so it covers every process delivering from it. Entries carry the
partner's last answer (HTTP status, OCPI status, message) as the partner wrote it: the
CLI prints it as text; other clients must not render it as markup either.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from evroam.core.push import OutboxEntry, OutboxState, QueueStat
from evroam.core.types import ModuleId, Partner
from evroam.ocpi.common.timeutil import format_datetime
from evroam.web.admin.context import AdminContext, AdminDep

router = APIRouter(prefix="/outbox", tags=["outbox"])


class QueueOut(BaseModel):
    partner_id: int
    partner: str = Field(description="The partner's parties, CC-PID")
    module: str
    pending: int
    sending: int
    dead: int
    held: int
    oldest_age_seconds: float | None = Field(
        description="Age of the oldest entry not delivered yet"
    )
    delivered_last_minute: int


class OutboxOut(BaseModel):
    queues: list[QueueOut]
    pending: int
    dead: int
    held: int
    delivered_last_minute: int


class EntryOut(BaseModel):
    id: int
    partner_id: int
    module: str
    method: str
    path: list[str]
    query: dict[str, str]
    url: str | None = Field(
        default=None, description="A URL the partner gave for this call (a response_url)"
    )
    state: str
    held_reason: str | None
    attempts: int
    next_attempt_at: str
    created_at: str
    delivered_at: str | None
    from_party: str
    to_party: str
    version: str
    last_http_status: int | None
    last_ocpi_status: int | None
    last_error: str | None = Field(description="The partner's last answer, as it wrote it")
    body: Any = Field(default=None, description="Only in the answer for one entry")


def _label(partners: dict[int, Partner], partner_id: int) -> str:
    p = partners.get(partner_id)
    return ", ".join(sorted({r.label for r in p.roles})) if p and p.roles else f"#{partner_id}"


def queue_out(stat: QueueStat, partners: dict[int, Partner], now: datetime) -> QueueOut:
    age = (now - stat.oldest_at).total_seconds() if stat.oldest_at else None
    return QueueOut(
        partner_id=stat.partner_id,
        partner=_label(partners, stat.partner_id),
        module=stat.module.value,
        pending=stat.pending,
        sending=stat.sending,
        dead=stat.dead,
        held=stat.held,
        oldest_age_seconds=None if age is None else round(max(age, 0.0), 3),
        delivered_last_minute=stat.delivered_last_minute,
    )


def entry_out(e: OutboxEntry, *, body: bool = False) -> EntryOut:
    return EntryOut(
        id=e.id,
        partner_id=e.partner_id,
        module=e.module.value,
        method=e.method.value,
        path=list(e.path),
        query=dict(e.query),
        url=e.url,
        state=e.state.value,
        held_reason=e.held_reason,
        attempts=e.attempts,
        next_attempt_at=format_datetime(e.next_attempt_at),
        created_at=format_datetime(e.created_at),
        delivered_at=format_datetime(e.delivered_at) if e.delivered_at else None,
        from_party=e.from_party,
        to_party=e.to_party,
        version=e.version,
        last_http_status=e.last_http_status,
        last_ocpi_status=e.last_ocpi_status,
        last_error=e.last_error,
        body=json.loads(e.body) if body and e.body is not None else None,
    )


async def _entry(node: AdminContext, entry_id: int) -> OutboxEntry:
    async with node.partners.ctx.uow(read_only=True) as uow:
        entry = await uow.outbox.get(entry_id)
    if entry is None:
        raise HTTPException(404, f"no outbox entry {entry_id}")
    return entry


@router.get("", response_model=OutboxOut, summary="Queues per partner and module")
async def overview(node: AdminDep) -> Any:
    ctx = node.partners.ctx
    now = ctx.now()
    async with ctx.uow(read_only=True) as uow:
        stats = await uow.outbox.stats(now)
        partners = {p.id: p for p in await uow.partners.list()}
    queues = [queue_out(s, partners, now) for s in stats]
    return OutboxOut(
        queues=queues,
        pending=sum(q.pending + q.sending for q in queues),
        dead=sum(q.dead for q in queues),
        held=sum(q.held for q in queues),
        delivered_last_minute=sum(q.delivered_last_minute for q in queues),
    )


@router.get("/entries", response_model=list[EntryOut], summary="Entries, oldest first")
async def entries(
    node: AdminDep,
    partner: Annotated[str | None, Query(description="Partner id or CC-PID")] = None,
    state: Annotated[list[OutboxState] | None, Query()] = None,
    module: Annotated[ModuleId | None, Query()] = None,
    after: Annotated[int | None, Query(ge=0, description="Entries after this id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    partner_id = None
    if partner is not None:
        partner_id = (await node.partners.directory.resolve(partner)).id
    async with node.partners.ctx.uow(read_only=True) as uow:
        found = await uow.outbox.entries(
            partner_id=partner_id,
            states=state or (),
            module=module,
            after_id=after,
            limit=limit,
        )
    return [entry_out(e) for e in found]


@router.get("/entries/{entry_id}", response_model=EntryOut, summary="One entry, with its body")
async def show(entry_id: int, node: AdminDep) -> Any:
    return entry_out(await _entry(node, entry_id), body=True)


@router.post(
    "/entries/{entry_id}/retry",
    response_model=EntryOut,
    summary="Send a dead letter (or an entry waiting for its backoff) again now",
)
async def retry(entry_id: int, node: AdminDep) -> Any:
    ctx = node.partners.ctx
    async with ctx.uow() as uow:
        done = await uow.outbox.retry(entry_id, ctx.now())
        await uow.commit()
    entry = await _entry(node, entry_id)
    if not done:
        raise HTTPException(409, f"outbox entry {entry_id} is {entry.state.value}, not dead")
    if ctx.outbox is not None:
        ctx.outbox.wake()
    return entry_out(entry)


class RetriedOut(BaseModel):
    retried: int = Field(description="Dead letters due again now")


@router.post(
    "/retry",
    response_model=RetriedOut,
    summary="Send every dead letter of a partner (of one module) again now",
)
async def retry_partner(
    node: AdminDep,
    partner: Annotated[str, Query(description="Partner id or CC-PID")],
    module: Annotated[ModuleId | None, Query()] = None,
) -> Any:
    ctx = node.partners.ctx
    partner_id = (await node.partners.directory.resolve(partner)).id
    async with ctx.uow() as uow:
        count = await uow.outbox.retry_dead(partner_id, module, ctx.now())
        await uow.commit()
    if count and ctx.outbox is not None:
        ctx.outbox.wake()
    return RetriedOut(retried=count)


@router.delete(
    "/entries/{entry_id}",
    status_code=204,
    summary="Drop an entry: what it owed the partner is given up",
)
async def drop(entry_id: int, node: AdminDep) -> Response:
    entry = await _entry(node, entry_id)
    async with node.partners.ctx.uow() as uow:
        done = await uow.outbox.drop(entry_id)
        await uow.commit()
    if not done:
        raise HTTPException(409, f"outbox entry {entry_id} is {entry.state.value}: in flight")
    if node.partners.ctx.outbox is not None:
        node.partners.ctx.outbox.wake()  # entries of its object may flow now
    return Response(status_code=204)
