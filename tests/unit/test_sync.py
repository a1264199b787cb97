"""The catch-up sync (``services/sync.py``) on the real SQLite store, with a scripted
``PartnerApi.pull`` and a driven clock: what a summary counts, what is stored and what
refused, and when the schedule starts a catch-up (a partner back from OFFLINE, once,
since its last contact minus the margin). The HTTP side (pages, Link, the CLI and the
operator API) is ``tests/integration/test_sync.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from evroam.core.errors import InvalidInput, NotRegistered, PartnerUnreachable
from evroam.core.objects import ObjectKey
from evroam.core.ports import PulledObject, PulledPage
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    ModuleId,
    Partner,
    Party,
    Role,
)
from evroam.services.context import PartnerContext
from evroam.services.locations import LocationPath
from evroam.services.partner_services import PartnerServices
from evroam.services.sync import (
    MAX_REASONS,
    CatchUpLiveness,
    ModuleNotOffered,
    ModuleSummary,
    SyncRunning,
    SyncSchedule,
    SyncService,
)
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.unit.partner_store import T0, Clock, ScriptedApi, open_store, stored

US = Party("DE", "MSP", Role.EMSP, BusinessDetails("us"))
THEM = ("NL", "CPO")
MARGIN = timedelta(minutes=5)


@dataclass
class PullingApi(ScriptedApi):
    """A partner API whose Sender lists serve ``pages`` per module (an exception in the
    list is raised when its turn comes); every pull is recorded."""

    pages: dict[ModuleId, list[PulledPage | Exception]] = field(default_factory=dict)
    pulls: list[tuple[ModuleId, tuple[str, str], datetime | None]] = field(default_factory=list)

    async def pull(
        self,
        partner: Partner,
        module: ModuleId,
        ours: tuple[str, str],
        date_from: datetime | None = None,
    ) -> AsyncIterator[PulledPage]:
        self.pulls.append((module, ours, date_from))
        for page in self.pages.get(module, []):
            if isinstance(page, Exception):
                raise page
            yield page


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    async for factory in open_store(tmp_path / "sync.db"):
        yield factory


def make_context(uow: SqlUnitOfWorkFactory, clock: Clock, api: PullingApi) -> PartnerContext:
    return PartnerContext(
        uow=uow,
        api=api,
        own_parties=(US,),
        versions_url="https://node.example.com/ocpi/versions",
        supported_versions=("2.2.1",),
        clock=clock.wall,
    )


async def add_cpo(
    uow: SqlUnitOfWorkFactory,
    *,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    last_connection: datetime = T0 - timedelta(hours=2),
    status_changed_at: datetime = T0 - timedelta(hours=1),
    token_out: str | None = "their-token",
) -> Partner:
    """A registered CPO partner (NL-CPO) offering Locations and Tariffs Senders."""
    base = "https://cpo.example.com/ocpi/2.2.1"
    partner = Partner(
        id=0,
        status=status,
        versions_url="https://cpo.example.com/ocpi/versions",
        version="2.2.1",
        endpoints=[
            Endpoint("credentials", InterfaceRole.SENDER, f"{base}/credentials"),
            Endpoint("locations", InterfaceRole.SENDER, f"{base}/sender/locations"),
            Endpoint("tariffs", InterfaceRole.SENDER, f"{base}/sender/tariffs"),
            Endpoint("tokens", InterfaceRole.RECEIVER, f"{base}/receiver/tokens"),
        ],
        roles=[Party(*THEM, Role.CPO, BusinessDetails("cpo"))],
        token_out=token_out,
        registered_at=T0 - timedelta(days=2),
        last_connection=last_connection,
        status_changed_at=status_changed_at,
        created_at=T0 - timedelta(days=2),
        updated_at=T0 - timedelta(days=2),
    )
    async with uow() as u:
        partner = await u.partners.add(partner)
        await u.party_claims.claim(partner.id, [THEM])
        await u.commit()
    return partner


def pulled(lid: str, at: datetime, party: tuple[str, str] = THEM) -> PulledObject:
    doc = {
        "country_code": party[0],
        "party_id": party[1],
        "id": lid,
        "publish": True,
        "last_updated": at.isoformat(),
    }
    return PulledObject(ObjectKey(*party, lid), doc, at)


# ---------------------------------------------------------------------------- the summary


def test_module_summary_counts_each_outcome_and_keeps_only_the_first_reasons() -> None:
    summary = ModuleSummary(ModuleId.LOCATIONS)
    for outcome in ("created", "created", "updated", "unchanged"):
        summary.count(outcome)  # type: ignore[arg-type]
    for i in range(MAX_REASONS + 3):
        summary.refuse(f"reason {i}")
    assert (summary.created, summary.updated, summary.unchanged) == (2, 1, 1)
    assert summary.stored == 3
    assert summary.refused == MAX_REASONS + 3
    assert summary.reasons == [f"reason {i}" for i in range(MAX_REASONS)]


async def test_sync_stores_each_page_as_pushed_and_counts_what_it_refused(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_cpo(uow)
    clock, api = Clock(), PullingApi()
    ctx = make_context(uow, clock, api)
    sync = SyncService(ctx)
    newer = T0 + timedelta(hours=1)
    # L3 is stored already, newer than what the partner lists: unchanged.
    l3_path = LocationPath(ObjectKey(*THEM, "L3"))
    await sync.locations.receive_put(partner, l3_path, pulled("L3", newer).document)
    api.pages = {
        ModuleId.TARIFFS: [PulledPage([tariff("T1")], total=1)],
        ModuleId.LOCATIONS: [
            PulledPage(
                [pulled("L1", T0), pulled("L2", T0, ("XX", "OTH"))],
                ["item 2 (id 'L9'): address: Field required"],
                total=4,
            ),
            PulledPage([pulled("L3", T0)], total=4),
        ],
    }
    seen: list[int] = []

    summary = await sync.sync(partner.id, progress=lambda s: seen.append(s.modules[-1].pages))

    tariffs, locations = summary.modules
    assert [m.module for m in summary.modules] == [ModuleId.TARIFFS, ModuleId.LOCATIONS]
    assert (tariffs.received, tariffs.created, tariffs.done) == (1, 1, True)
    assert (locations.pages, locations.total, locations.received) == (2, 4, 4)
    assert (locations.created, locations.updated, locations.unchanged) == (1, 0, 1)
    assert locations.refused == 2
    assert locations.reasons[0] == "item 2 (id 'L9'): address: Field required"
    assert locations.reasons[1] == (
        "XX-OTH/L2: owner XX-OTH is not one of the partner's parties (NL-CPO)"
    )
    assert summary.ok and summary.started_at == summary.finished_at == T0
    assert seen == [0, 0, 1, 2, 2], "after each page and at the end of each module"
    assert [(m, ours) for m, ours, _ in api.pulls] == [
        (ModuleId.TARIFFS, ("DE", "MSP")),
        (ModuleId.LOCATIONS, ("DE", "MSP")),
    ]
    async with uow(read_only=True) as u:
        l1 = await u.objects.get(ModuleId.LOCATIONS, ObjectKey(*THEM, "L1"))
        l2 = await u.objects.get(ModuleId.LOCATIONS, ObjectKey("XX", "OTH", "L2"))
        l3 = await u.objects.get(ModuleId.LOCATIONS, ObjectKey(*THEM, "L3"))
    assert l1 is not None and l1.partner_id == partner.id, "stored as the partner's"
    assert l2 is None, "another party's object is never stored"
    assert l3 is not None and l3.last_updated == newer


def tariff(tid: str) -> PulledObject:
    doc = {"country_code": THEM[0], "party_id": THEM[1], "id": tid, "last_updated": T0.isoformat()}
    return PulledObject(ObjectKey(*THEM, tid), doc, T0)


async def test_a_module_that_fails_records_why_and_the_next_one_still_runs(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_cpo(uow)
    api = PullingApi()
    api.pages = {
        ModuleId.TARIFFS: [PartnerUnreachable("GET tariffs: timed out")],
        ModuleId.LOCATIONS: [PulledPage([pulled("L1", T0)])],
    }
    summary = await SyncService(make_context(uow, Clock(), api)).sync(partner.id)
    tariffs, locations = summary.modules
    assert tariffs.error == "GET tariffs: timed out" and tariffs.done
    assert locations.error is None and locations.created == 1
    assert not summary.ok


async def test_since_is_passed_on_and_only_the_modules_asked_for_are_pulled(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_cpo(uow)
    api = PullingApi()
    since = T0 - timedelta(days=1)
    await SyncService(make_context(uow, Clock(), api)).sync(partner.id, [ModuleId.LOCATIONS], since)
    assert api.pulls == [(ModuleId.LOCATIONS, ("DE", "MSP"), since)]


async def test_what_cannot_be_synced_is_refused_before_any_call(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_cpo(uow)
    unregistered = await add_cpo_elsewhere(uow)
    api = PullingApi()
    sync = SyncService(make_context(uow, Clock(), api))
    with pytest.raises(ModuleNotOffered, match="offers no tokens Sender"):
        await sync.sync(partner.id, [ModuleId.TOKENS])
    with pytest.raises(InvalidInput, match="commands has no Sender list"):
        await sync.sync(partner.id, [ModuleId.COMMANDS])
    with pytest.raises(NotRegistered):
        await sync.sync(unregistered.id)
    with pytest.raises(NotRegistered):
        await sync.sync(9999)
    assert api.pulls == []


async def add_cpo_elsewhere(uow: SqlUnitOfWorkFactory) -> Partner:
    """A partner we hold no token for (an invitation never used)."""
    async with uow() as u:
        partner = await u.partners.add(
            Partner(id=0, status=ConnectionStatus.PLANNED, created_at=T0, updated_at=T0)
        )
        await u.commit()
    return partner


# ---------------------------------------------------------------------------- the schedule


async def test_a_partner_back_from_offline_is_caught_up_once_since_its_last_contact(
    uow: SqlUnitOfWorkFactory,
) -> None:
    last_heard = T0 - timedelta(hours=2)
    partner = await add_cpo(
        uow,
        status=ConnectionStatus.OFFLINE,
        last_connection=last_heard,
        status_changed_at=T0 - timedelta(hours=1),
    )
    clock, api = Clock(), PullingApi()
    ctx = make_context(uow, clock, api)
    sync = SyncService(ctx, SyncSchedule(after_offline=True, margin=MARGIN))
    liveness = CatchUpLiveness(ctx, sync)
    try:
        await liveness.record_contact(partner.id, ok=False)
        assert sync.jobs_of(partner.id) == [], "a failure is no comeback"

        clock.advance(60)
        await liveness.record_contact(partner.id, ok=True)
        [job] = sync.jobs_of(partner.id)
        assert job.task is not None
        await job.task
        assert job.trigger == "after-offline" and job.state == "done"
        assert job.summary.since == last_heard - MARGIN
        assert {since for _, _, since in api.pulls} == {last_heard - MARGIN}
        assert (await stored(uow, partner.id)).status == ConnectionStatus.CONNECTED

        clock.advance(60)
        await liveness.record_contact(partner.id, ok=True)
        await sync.reconcile()
        assert len(sync.jobs_of(partner.id)) == 1, "once per comeback"
    finally:
        await sync.close()


async def test_a_partner_brought_back_without_liveness_is_caught_up_at_the_next_tick(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """The push worker marks a partner CONNECTED by itself: ``reconcile`` (each tick of
    the liveness loop) notices it was OFFLINE before."""
    partner = await add_cpo(
        uow, status=ConnectionStatus.OFFLINE, last_connection=T0 - timedelta(hours=3)
    )
    clock, api = Clock(), PullingApi()
    sync = SyncService(make_context(uow, clock, api), SyncSchedule(margin=MARGIN))
    try:
        assert await sync.reconcile() == [], "still OFFLINE: remembered, nothing to do"
        clock.advance(600)
        async with uow() as u:
            await u.partners.touch(partner.id, clock.wall(), ConnectionStatus.CONNECTED)
            await u.commit()
        [job] = await sync.reconcile()
        assert job.task is not None
        await job.task
        assert job.summary.since == T0 - timedelta(hours=3) - MARGIN
        assert await sync.reconcile() == []
    finally:
        await sync.close()


async def test_with_the_schedule_off_a_comeback_starts_nothing(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_cpo(uow, status=ConnectionStatus.OFFLINE)
    api = PullingApi()
    services = PartnerServices.create(
        make_context(uow, Clock(), api), SyncSchedule(after_offline=False)
    )
    assert not isinstance(services.liveness, CatchUpLiveness)
    await services.liveness.record_contact(partner.id, ok=True)
    assert await services.sync.reconcile() == []
    assert services.sync.jobs_of(partner.id) == [] and api.pulls == []


async def test_one_sync_per_partner_runs_at_a_time(uow: SqlUnitOfWorkFactory) -> None:
    partner = await add_cpo(uow)
    api = PullingApi()
    sync = SyncService(make_context(uow, Clock(), api))
    try:
        job = await sync.start(partner.id)
        with pytest.raises(SyncRunning) as running:
            await sync.start(partner.id)
        assert running.value.job is job
        assert job.task is not None
        await job.task
        assert job.state == "done"
        await sync.start(partner.id)  # the first one ended: a new one may run
    finally:
        await sync.close()
