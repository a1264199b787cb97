"""The partner use cases of one node, built together from one context."""

from __future__ import annotations

from dataclasses import dataclass

from evroam.services.client_info import ClientInfoService
from evroam.services.context import PartnerContext
from evroam.services.directory import PartnerDirectory
from evroam.services.handshake import Handshake
from evroam.services.lifecycle import PartnerLifecycle
from evroam.services.liveness import Liveness
from evroam.services.sync import CatchUpLiveness, SyncSchedule, SyncService


@dataclass(frozen=True, slots=True)
class PartnerServices:
    ctx: PartnerContext
    directory: PartnerDirectory
    handshake: Handshake
    lifecycle: PartnerLifecycle
    liveness: Liveness
    client_info: ClientInfoService
    sync: SyncService

    @classmethod
    def create(cls, ctx: PartnerContext, sync: SyncSchedule | None = None) -> PartnerServices:
        """``sync``: the catch-up schedule (``services/sync.py``); None: none."""
        syncs = SyncService(ctx, sync)
        liveness = CatchUpLiveness(ctx, syncs) if syncs.schedule.after_offline else Liveness(ctx)
        return cls(
            ctx,
            PartnerDirectory(ctx),
            Handshake(ctx),
            PartnerLifecycle(ctx),
            liveness,
            ClientInfoService(ctx),
            syncs,
        )
