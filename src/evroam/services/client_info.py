"""ClientInfo objects a hub partner pushes to us (HubClientInfo Receiver, digest §4)."""

from __future__ import annotations

from evroam.core.errors import InvalidInput
from evroam.core.ports import UpsertOutcome
from evroam.core.types import ClientInfo, Partner, Role
from evroam.services.context import PartnerContext


class ClientInfoService:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx

    @staticmethod
    def require_hub(partner: Partner) -> None:
        """Only a partner holding the HUB role reports which parties it connects."""
        if not any(p.role == Role.HUB for p in partner.roles):
            raise InvalidInput("only a partner with the HUB role may push ClientInfo")

    async def store(self, hub: Partner, info: ClientInfo) -> UpsertOutcome:
        """Keep the newer ``last_updated``: a PUT older than what is stored is ignored
        (pushes may arrive out of order, and a resync must not undo a newer status)."""
        self.require_hub(hub)
        async with self.ctx.uow() as uow:
            outcome = await uow.client_infos.upsert(hub.id, info)
            await uow.commit()
        return outcome

    async def get(self, hub: Partner, country_code: str, party_id: str) -> ClientInfo | None:
        self.require_hub(hub)
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.client_infos.get(hub.id, country_code, party_id)

    async def list(self, hub_partner_id: int) -> list[ClientInfo]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.client_infos.list(hub_partner_id)
