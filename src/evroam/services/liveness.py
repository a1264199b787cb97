"""Connection status of every partner (HubClientInfo's ConnectionStatus, digest §4):
each call from a partner is contact; a partner silent for too long is pinged with a GET
of its versions endpoint (a hub's "still alive" check, digest §2)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from evroam.core.errors import PartnerUnreachable
from evroam.core.types import ConnectionStatus
from evroam.services.context import PartnerContext

log = logging.getLogger("evroam.partners")


class Liveness:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx

    async def record_contact(
        self, partner_id: int, ok: bool = True, attempted_at: datetime | None = None
    ) -> None:
        """Record a successful or failed contact.

        A failure only counts if nothing succeeded since ``attempted_at``: a partner that
        called us while our ping to it was failing is not marked OFFLINE by that ping.
        """
        status = ConnectionStatus.CONNECTED if ok else ConnectionStatus.OFFLINE
        now = self.ctx.now()
        async with self.ctx.uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None or not partner.registered:
                return
            if ok:
                await uow.partners.touch(partner_id, now, status)
            elif (
                attempted_at is not None
                and partner.last_connection is not None
                and partner.last_connection >= attempted_at
            ):
                return
            elif partner.status != status:
                partner.status = status
                partner.status_changed_at = partner.updated_at = now
                await uow.partners.save(partner)
            await uow.commit()

    async def check(self, silence: timedelta) -> dict[int, ConnectionStatus]:
        """GET versions of each registered partner silent for longer than ``silence``;
        the status each checked partner got."""
        ctx = self.ctx
        now = ctx.now()
        results: dict[int, ConnectionStatus] = {}
        async with ctx.uow(read_only=True) as uow:
            partners = await uow.partners.list()
        for partner in partners:
            if not partner.registered or not partner.token_out or not partner.versions_url:
                continue
            if partner.last_connection and now - partner.last_connection < silence:
                continue
            attempted_at = ctx.now()
            try:
                await ctx.api.for_partner(partner.label).get_versions(
                    partner.versions_url, partner.token_out
                )
                ok = True
            except PartnerUnreachable as exc:
                ok = False
                if partner.status != ConnectionStatus.OFFLINE:
                    log.warning("partner %s is offline: %s", partner.label, exc)
            if ok and partner.status == ConnectionStatus.OFFLINE:
                log.info("partner %s is back online", partner.label)
            await self.record_contact(partner.id, ok, attempted_at)
            results[partner.id] = ConnectionStatus.CONNECTED if ok else ConnectionStatus.OFFLINE
        return results
