"""Pull to catch up (issue 8, ``evroam sync``): read a partner's Sender lists and store
what they hold exactly as if the partner had pushed it.

Why: pushes can be missed (our node was down, the partner's outbox gave up, a partner
registered after its data was made), and OCPI's answer is the Sender's list, whose pages
together are the full truth (digest §1.7). A sync reads them through the ``PartnerApi``
port (``pull``: SENDER endpoints, ``Link`` followed to the end, ``date_from`` when given)
and hands every object to the same service call the module's Receiver route makes:

* the owner must be one of the partner's parties (transport_and_format §"Client Owned
  Object Push", digest §1.9): an object of another party is refused and counted, never
  stored (the partner may be a platform that lists other parties' objects too);
* an object held for another sender is refused by the service, as for a push;
* the newer ``last_updated`` wins: an older object changes nothing (``unchanged``); an
  equal one is applied, as a push of it would be;
* CDRs never change: one received before is ``unchanged``.

An item that is not a valid object of the module is refused with its reason by the port
and the sync goes on. Each page's objects go to the services concurrently, so the
group-commit writer (``writes.py``) stores a page in a few transactions.

Which modules by default: those the partner's roles send and ours receive (a CPO's
Tariffs, Locations, Sessions and CDRs for our eMSP; an eMSP's Tokens for our CPO; a hub
both), among those it offers a Sender for; Tariffs before Locations, which refer to them.

Long syncs run as background jobs (:meth:`SyncService.start`), one per partner at a
time, kept in memory with their live summary (a restart forgets them; the data they
stored stays). The schedule: when a partner comes back from OFFLINE to CONNECTED,
:class:`CatchUpLiveness` starts one sync of its modules since it was last heard of
(``last_connection``, or when it went OFFLINE), minus a margin for clock skew.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from evroam.core.errors import DomainError, InvalidInput, NotRegistered
from evroam.core.objects import StoredObject, dump_document
from evroam.core.ports import PulledObject
from evroam.core.types import ConnectionStatus, InterfaceRole, ModuleId, Partner, Role
from evroam.services.cdrs import CdrAlreadyReceived, CdrService
from evroam.services.context import PartnerContext
from evroam.services.liveness import Liveness
from evroam.services.locations import LocationPath, LocationsService
from evroam.services.sessions import SessionsService
from evroam.services.tariffs import TariffsService
from evroam.services.tokens import TokensService

log = logging.getLogger("evroam.sync")

Outcome = Literal["created", "updated", "unchanged"]

#: Every module a sync can pull, in the order it pulls them.
SYNC_ORDER: tuple[ModuleId, ...] = (
    ModuleId.TARIFFS,
    ModuleId.LOCATIONS,
    ModuleId.SESSIONS,
    ModuleId.CDRS,
    ModuleId.TOKENS,
)
_CPO_DATA = frozenset({ModuleId.TARIFFS, ModuleId.LOCATIONS, ModuleId.SESSIONS, ModuleId.CDRS})
#: What a party of each role sends to whom (OCPI 2.2.1 §"Typical OCPI implementation per
#: role", digest §5.8): (module, the role that sends it, the role that receives it).
_FLOWS: dict[ModuleId, tuple[Role, Role]] = {m: (Role.CPO, Role.EMSP) for m in _CPO_DATA} | {
    ModuleId.TOKENS: (Role.EMSP, Role.CPO)
}
#: Refusal reasons kept per module: enough to act on, never a copy of a hostile list.
MAX_REASONS = 5
#: Finished jobs remembered for ``GET .../sync/{job}``.
MAX_FINISHED_JOBS = 50


class ModuleNotOffered(InvalidInput):
    """The operator asked for a module the partner offers no Sender for."""


class SyncRunning(DomainError):
    """A sync of this partner is running already; the operator joins or waits."""

    def __init__(self, message: str, job: SyncJob) -> None:
        super().__init__(message)
        self.job = job


@dataclass(slots=True)
class ModuleSummary:
    """What one module's pull did. ``total``: the partner's ``X-Total-Count`` (may change
    while paging); ``reasons``: the first refusals, partner-given text included."""

    module: ModuleId
    pages: int = 0
    total: int | None = None
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    done: bool = False

    @property
    def stored(self) -> int:
        return self.created + self.updated

    def count(self, outcome: Outcome) -> None:
        if outcome == "created":
            self.created += 1
        elif outcome == "updated":
            self.updated += 1
        else:
            self.unchanged += 1

    def refuse(self, reason: str) -> None:
        self.refused += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason)


@dataclass(slots=True)
class SyncSummary:
    partner_id: int
    partner: str
    since: datetime | None
    modules: list[ModuleSummary]
    started_at: datetime
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return all(m.error is None for m in self.modules)


Progress = Callable[[SyncSummary], None]
Trigger = Literal["operator", "after-offline"]


@dataclass(slots=True)
class SyncJob:
    """A sync running (or run) in the background; ``summary`` is live while it runs."""

    id: str
    trigger: Trigger
    summary: SyncSummary
    task: asyncio.Task[None] | None = None
    failure: str | None = None

    @property
    def state(self) -> Literal["running", "done", "failed"]:
        if self.summary.finished_at is None:
            return "running"
        return "done" if self.summary.ok and self.failure is None else "failed"


@dataclass(frozen=True, slots=True)
class SyncSchedule:
    """``Settings.sync``: whether a partner back from OFFLINE is synced, and the margin
    taken before the time it was last heard of (clock skew, changes made just before)."""

    after_offline: bool = True
    margin: timedelta = timedelta(minutes=5)


class SyncService:
    def __init__(self, ctx: PartnerContext, schedule: SyncSchedule | None = None) -> None:
        self.ctx = ctx
        self.schedule = schedule or SyncSchedule(after_offline=False)
        self.locations = LocationsService(ctx)
        self.tariffs = TariffsService(ctx)
        self.sessions = SessionsService(ctx)
        self.cdrs = CdrService(ctx)
        self.tokens = TokensService(ctx)
        self._jobs: dict[str, SyncJob] = {}
        #: Partners seen OFFLINE, as they were then (``reconcile``), until caught up.
        self._offline: dict[int, Partner] = {}

    # -- what to sync ------------------------------------------------------------------

    async def plan(
        self, partner_id: int, modules: Sequence[ModuleId] | None = None
    ) -> tuple[Partner, list[ModuleId]]:
        """The partner (registered, else ``NotRegistered``) and the modules to pull, in
        pull order: those asked for (each must have a Sender at the partner, else
        ``ModuleNotOffered``), or by default every module its roles send to ours."""
        async with self.ctx.uow(read_only=True) as uow:
            partner = await uow.partners.get(partner_id)
        if partner is None or not partner.registered or not partner.token_out:
            label = partner.label if partner else f"partner#{partner_id}"
            raise NotRegistered(f"partner {label} is not registered: nothing to pull from")
        offered = [m for m in SYNC_ORDER if partner.endpoint(m, InterfaceRole.SENDER)]
        if modules:
            for m in modules:
                if m not in SYNC_ORDER:
                    raise InvalidInput(f"{m.value} has no Sender list to sync")
                if m not in offered:
                    raise ModuleNotOffered(
                        f"partner {partner.label} offers no {m.value} Sender (it offers: "
                        + (", ".join(o.value for o in offered) or "none")
                        + ")"
                    )
            return partner, [m for m in SYNC_ORDER if m in modules]
        chosen = [m for m in offered if self._flows_to_us(partner, m)]
        if not chosen:
            raise ModuleNotOffered(
                f"partner {partner.label} offers no Sender of a module its roles send to "
                "this node's roles"
            )
        return partner, chosen

    def _flows_to_us(self, partner: Partner, module: ModuleId) -> bool:
        sender, receiver = _FLOWS[module]
        theirs = {p.role for p in partner.roles}
        ours = {p.role for p in self.ctx.own_parties}
        return bool(theirs & {sender, Role.HUB}) and bool(ours & {receiver, Role.HUB})

    def _our_party(self, module: ModuleId) -> tuple[str, str]:
        """The party the routing headers name as the caller: ours that receives it."""
        receiver = _FLOWS[module][1]
        for party in self.ctx.own_parties:
            if party.role in (receiver, Role.HUB):
                return party.key
        return self.ctx.own_parties[0].key

    # -- one sync ----------------------------------------------------------------------

    async def sync(
        self,
        partner_id: int,
        modules: Sequence[ModuleId] | None = None,
        since: datetime | None = None,
        progress: Progress | None = None,
    ) -> SyncSummary:
        """Pull and store each module's Sender list; the summary per module. A failing
        module (partner unreachable, refusing) records its error and the next goes on."""
        partner, chosen = await self.plan(partner_id, modules)
        summary = self._new_summary(partner, chosen, since)
        await self._run(partner, summary, progress)
        return summary

    def _new_summary(
        self, partner: Partner, modules: list[ModuleId], since: datetime | None
    ) -> SyncSummary:
        return SyncSummary(
            partner_id=partner.id,
            partner=partner.label,
            since=since,
            modules=[ModuleSummary(m) for m in modules],
            started_at=self.ctx.now(),
        )

    async def _run(self, partner: Partner, summary: SyncSummary, progress: Progress | None) -> None:
        api = self.ctx.api.for_partner(partner.label)
        try:
            for ms in summary.modules:
                try:
                    pages = api.pull(partner, ms.module, self._our_party(ms.module), summary.since)
                    async for page in pages:
                        ms.pages += 1
                        ms.total = page.total if page.total is not None else ms.total
                        ms.received += len(page.objects) + len(page.invalid)
                        for reason in page.invalid:
                            ms.refuse(reason)
                        await self._store_page(partner, ms, page.objects)
                        if progress is not None:
                            progress(summary)
                except DomainError as exc:
                    ms.error = str(exc)
                    log.warning("sync of %s from %s stopped: %s", ms.module, partner.label, exc)
                ms.done = True
                if progress is not None:
                    progress(summary)
        finally:
            summary.finished_at = self.ctx.now()
        log.info(
            "sync from %s: %s",
            partner.label,
            "; ".join(
                f"{m.module} received {m.received}, stored {m.stored}, unchanged "
                f"{m.unchanged}, refused {m.refused}" + (f", error: {m.error}" if m.error else "")
                for m in summary.modules
            ),
        )

    async def _store_page(
        self, partner: Partner, ms: ModuleSummary, objects: list[PulledObject]
    ) -> None:
        results = await asyncio.gather(
            *(self._store(partner, ms.module, obj) for obj in objects), return_exceptions=True
        )
        for obj, result in zip(objects, results, strict=True):
            if isinstance(result, DomainError):
                ms.refuse(f"{obj.key.label}: {result}")
            elif isinstance(result, BaseException):
                raise result
            else:
                ms.count(result)

    async def _store(self, partner: Partner, module: ModuleId, obj: PulledObject) -> Outcome:
        """One object, through the call the module's Receiver route makes for a push."""
        if obj.key.party not in partner.party_keys:
            theirs = ", ".join(sorted(f"{c}-{p}" for c, p in partner.party_keys)) or "none"
            raise InvalidInput(
                f"owner {obj.key.country_code}-{obj.key.party_id} is not one of the "
                f"partner's parties ({theirs})"
            )
        outcome: str
        if module == ModuleId.LOCATIONS:
            outcome = await self.locations.receive_put(partner, LocationPath(obj.key), obj.document)
        elif module == ModuleId.TARIFFS:
            outcome = await self.tariffs.receive_put(
                partner, obj.key, obj.key, obj.document, obj.last_updated
            )
        elif module == ModuleId.SESSIONS:
            outcome = await self.sessions.receive_put(partner, obj.key, obj.document)
        elif module == ModuleId.TOKENS:
            outcome = await self.tokens.receive_put(
                partner, obj.key, obj.document, obj.last_updated
            )
        elif module == ModuleId.CDRS:
            cdr = StoredObject(
                module=ModuleId.CDRS,
                key=obj.key,
                last_updated=obj.last_updated,
                document_json=dump_document(obj.document),
                audience=obj.audience,
            )
            try:
                await self.cdrs.receive(partner, cdr)
            except CdrAlreadyReceived:
                return "unchanged"
            return "created"
        else:
            raise InvalidInput(f"{module.value} has no Sender list to sync")
        if outcome in ("created", "updated"):
            return "created" if outcome == "created" else "updated"
        if outcome == "stale":
            return "unchanged"
        raise InvalidInput(f"not stored ({outcome})")

    # -- background jobs ---------------------------------------------------------------

    async def start(
        self,
        partner_id: int,
        modules: Sequence[ModuleId] | None = None,
        since: datetime | None = None,
        trigger: Trigger = "operator",
    ) -> SyncJob:
        """Plan now (so the caller hears of a partner or module that cannot be synced),
        then run in the background; ``SyncRunning`` when one runs for the partner."""
        partner, chosen = await self.plan(partner_id, modules)
        running = self.running(partner.id)
        if running is not None:
            raise SyncRunning(
                f"a sync of partner {partner.label} is running already (job {running.id})",
                running,
            )
        job = SyncJob(uuid.uuid4().hex[:12], trigger, self._new_summary(partner, chosen, since))
        self._forget_old()
        self._jobs[job.id] = job
        job.task = asyncio.create_task(self._job(job, partner), name=f"sync-{job.id}")
        return job

    async def _job(self, job: SyncJob, partner: Partner) -> None:
        try:
            await self._run(partner, job.summary, None)
        except asyncio.CancelledError:
            job.failure = "cancelled: the node is stopping"
            raise
        except Exception as exc:  # a job must end with a state, whatever went wrong
            log.exception("sync job %s of %s failed", job.id, partner.label)
            job.failure = f"internal error ({type(exc).__name__}); see the node's log"
        finally:
            if job.summary.finished_at is None:
                job.summary.finished_at = self.ctx.now()

    def running(self, partner_id: int) -> SyncJob | None:
        return next(
            (
                j
                for j in self._jobs.values()
                if j.summary.partner_id == partner_id and j.state == "running"
            ),
            None,
        )

    def job(self, job_id: str) -> SyncJob | None:
        return self._jobs.get(job_id)

    def jobs_of(self, partner_id: int) -> list[SyncJob]:
        """The partner's jobs, newest first."""
        jobs = [j for j in self._jobs.values() if j.summary.partner_id == partner_id]
        return sorted(jobs, key=lambda j: j.summary.started_at, reverse=True)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        finished.sort(key=lambda j: j.summary.started_at)
        for old in finished[: max(0, len(finished) - MAX_FINISHED_JOBS + 1)]:
            del self._jobs[old.id]

    async def close(self) -> None:
        """Stop the running jobs (the node is shutting down)."""
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the schedule ------------------------------------------------------------------

    def catch_up_since(self, before: Partner) -> datetime:
        """Where the catch-up after an outage starts: when the partner was last heard of
        (or went OFFLINE, if earlier or the only one known), minus the margin."""
        known = [t for t in (before.last_connection, before.status_changed_at) if t]
        start = min(known) if known else self.ctx.now()
        return start - self.schedule.margin

    async def after_offline(self, before: Partner) -> SyncJob | None:
        """The partner, OFFLINE as ``before`` shows it, is CONNECTED again: start the
        catch-up once (none when the schedule is off or one runs already)."""
        self._offline.pop(before.id, None)
        if not self.schedule.after_offline:
            return None
        since = self.catch_up_since(before)
        try:
            job = await self.start(before.id, None, since, "after-offline")
        except SyncRunning:
            return None
        except DomainError as exc:
            log.info("no catch-up sync of %s after its outage: %s", before.label, exc)
            return None
        log.info("partner %s is back: catch-up sync since %s (job %s)", before.label, since, job.id)
        return job

    async def reconcile(self) -> list[SyncJob]:
        """Catch up partners seen OFFLINE before and CONNECTED now, whatever made them so
        (the push worker marks a partner CONNECTED on its own, without ``Liveness``), and
        remember those OFFLINE now, as they are (their last contact before the outage).
        Run on every tick of the liveness loop; after a restart, its first run finds the
        partners still OFFLINE."""
        async with self.ctx.uow(read_only=True) as uow:
            partners = await uow.partners.list()
        known = {p.id for p in partners}
        self._offline = {pid: p for pid, p in self._offline.items() if pid in known}
        started: list[SyncJob] = []
        for partner in partners:
            if not partner.registered:
                self._offline.pop(partner.id, None)
            elif partner.status == ConnectionStatus.OFFLINE:
                self._offline.setdefault(partner.id, partner)
            elif partner.status == ConnectionStatus.CONNECTED and partner.id in self._offline:
                job = await self.after_offline(self._offline[partner.id])
                if job is not None:
                    started.append(job)
        return started


class CatchUpLiveness(Liveness):
    """Liveness that also starts the catch-up sync when a partner comes back from OFFLINE.

    A partner found CONNECTED again by our ping or by its own call passes through
    ``record_contact``, where the status it had before is read: the catch-up starts at
    once. The extra read happens only on successful contact, which the callers already
    throttle. Every ``check`` (each tick of the liveness loop) also runs
    :meth:`SyncService.reconcile`, for partners brought back another way."""

    def __init__(self, ctx: PartnerContext, sync: SyncService) -> None:
        super().__init__(ctx)
        self.sync = sync

    async def record_contact(
        self, partner_id: int, ok: bool = True, attempted_at: datetime | None = None
    ) -> None:
        if not ok or not self.sync.schedule.after_offline:
            await super().record_contact(partner_id, ok, attempted_at)
            return
        async with self.ctx.uow(read_only=True) as uow:
            before = await uow.partners.get(partner_id)
        await super().record_contact(partner_id, ok, attempted_at)
        if before is None or before.status != ConnectionStatus.OFFLINE or not before.registered:
            return
        try:
            await self.sync.after_offline(before)
        except Exception:  # contact is recorded; a failing catch-up must not undo that
            log.exception("catch-up sync of %s could not start", before.label)

    async def check(self, silence: timedelta) -> dict[int, ConnectionStatus]:
        results = await super().check(silence)
        try:
            await self.sync.reconcile()
        except Exception:  # the pings' results stand; the next tick tries again
            log.exception("catch-up reconcile failed")
        return results
