"""Operator API for the catch-up pull (issue 8, ``services/sync.py``):
``POST /partners/{ref}/sync`` starts one, ``GET /partners/{ref}/sync/{job}`` follows it,
``GET /partners/{ref}/sync`` lists the partner's recent ones (scheduled ones included).

A sync runs as a background job rather than inside the request, because its length is
the partner's to decide: 100,000 Locations at a partner's page size of 100, each page a
round trip of up to ``partner_timeout``, outlast any HTTP timeout between the operator and
the node, and a proxy giving up must not cut a half-done sync. So ``POST`` checks what it
can at once (the partner is registered, offers a Sender for each module asked for, no
sync of it is running: 409, 422, 409) and answers 202 with the job; its summary grows
page by page, which is what ``evroam sync`` polls to draw its progress bar.
``?wait=SECONDS`` (at most 60) answers 200 with the finished job when it ends within
that time, for scripts and small partners. Jobs live in the node's memory: a restart
forgets them, never what they stored.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator
from starlette.responses import JSONResponse

from evroam.core.types import ModuleId
from evroam.ocpi.common.timeutil import format_datetime
from evroam.services.sync import SYNC_ORDER, ModuleSummary, SyncJob, SyncRunning
from evroam.web.admin.context import AdminDep
from evroam.web.admin.errors import api_error

router = APIRouter(prefix="/partners", tags=["sync"])

MAX_WAIT = 60.0


class SyncIn(BaseModel):
    modules: list[str] | None = Field(
        default=None,
        max_length=len(SYNC_ORDER),
        description="Modules to pull (" + ", ".join(m.value for m in SYNC_ORDER) + "); "
        "absent or empty: every module the partner's roles send to ours that it offers",
    )
    since: datetime | None = Field(
        default=None,
        description="Only objects changed at or after this time (date_from); without a "
        "time zone, UTC",
    )

    @field_validator("modules")
    @classmethod
    def _known(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        names = {m.value for m in SYNC_ORDER}
        out = []
        for name in v:
            if name.lower() not in names:
                raise ValueError(
                    f"{name[:40]!r} is not a module with a Sender list (one of "
                    + ", ".join(sorted(names))
                    + ")"
                )
            out.append(name.lower())
        return out

    @field_validator("since")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


class ModuleOut(BaseModel):
    module: str
    done: bool
    pages: int
    total: int | None = Field(description="The partner's X-Total-Count, when it sent one")
    received: int
    stored: int = Field(description="created + updated")
    created: int
    updated: int
    unchanged: int = Field(description="Older than (or, for a CDR, the same as) ours")
    refused: int
    reasons: list[str] = Field(description="The first refusals and why (partner text)")
    error: str | None = Field(description="Why this module's pull stopped, if it did")


class SyncJobOut(BaseModel):
    id: str
    partner_id: int
    partner: str
    trigger: str = Field(description="operator, or after-offline (the schedule)")
    state: str = Field(description="running, done, or failed (a module stopped)")
    failure: str | None
    since: str | None
    started_at: str
    finished_at: str | None
    modules: list[ModuleOut]


def _ts(value: datetime | None) -> str | None:
    return format_datetime(value) if value else None


def module_out(m: ModuleSummary) -> ModuleOut:
    return ModuleOut(
        module=m.module.value,
        done=m.done,
        pages=m.pages,
        total=m.total,
        received=m.received,
        stored=m.stored,
        created=m.created,
        updated=m.updated,
        unchanged=m.unchanged,
        refused=m.refused,
        reasons=list(m.reasons),
        error=m.error,
    )


def job_out(job: SyncJob) -> SyncJobOut:
    s = job.summary
    return SyncJobOut(
        id=job.id,
        partner_id=s.partner_id,
        partner=s.partner,
        trigger=job.trigger,
        state=job.state,
        failure=job.failure,
        since=_ts(s.since),
        started_at=format_datetime(s.started_at),
        finished_at=_ts(s.finished_at),
        modules=[module_out(m) for m in s.modules],
    )


@router.post(
    "/{ref}/sync",
    response_model=SyncJobOut,
    status_code=202,
    summary="Pull the partner's Sender lists and store them as if pushed (a background job)",
    responses={
        200: {"description": "Finished within ?wait"},
        409: {"description": "Not registered, or a sync of it is running"},
    },
)
async def start_sync(
    ref: str,
    node: AdminDep,
    body: SyncIn | None = None,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT, description="Seconds to wait for it")] = 0,
) -> Any:
    partner = await node.partners.directory.resolve(ref)
    modules = [ModuleId(m) for m in body.modules] if body and body.modules else None
    try:
        job = await node.partners.sync.start(partner.id, modules, body.since if body else None)
    except SyncRunning as exc:
        answer = api_error(409, "SyncRunning", str(exc))
        answer.headers["Location"] = f"/api/v1/partners/{partner.id}/sync/{exc.job.id}"
        return answer
    if wait > 0 and job.task is not None:
        await asyncio.wait({job.task}, timeout=wait)
    status = 202 if job.state == "running" else 200
    return JSONResponse(job_out(job).model_dump(mode="json"), status_code=status)


@router.get(
    "/{ref}/sync",
    response_model=list[SyncJobOut],
    summary="The partner's recent syncs, newest first",
)
async def list_syncs(ref: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    return [job_out(j) for j in node.partners.sync.jobs_of(partner.id)]


@router.get("/{ref}/sync/{job_id}", response_model=SyncJobOut, summary="One sync job")
async def show_sync(ref: str, job_id: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    job = node.partners.sync.job(job_id)
    if job is None or job.summary.partner_id != partner.id:
        return api_error(404, "NotFound", "no such sync job of this partner")
    return job_out(job)
