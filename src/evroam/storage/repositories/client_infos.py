"""ClientInfo objects pushed to us by hub partners."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.types import ClientInfo, ConnectionStatus, Role
from evroam.storage.tables import ClientInfoRow


def _to_core(row: ClientInfoRow) -> ClientInfo:
    return ClientInfo(
        country_code=row.country_code,
        party_id=row.party_id,
        role=Role(row.role),
        status=ConnectionStatus(row.status),
        last_updated=row.last_updated,
    )


class SqlClientInfoRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _row(self, hub_partner_id: int, cc: str, pid: str) -> ClientInfoRow | None:
        return await self._s.scalar(
            select(ClientInfoRow).where(
                ClientInfoRow.hub_partner_id == hub_partner_id,
                ClientInfoRow.country_code == cc.upper(),
                ClientInfoRow.party_id == pid.upper(),
            )
        )

    async def upsert(self, hub_partner_id: int, info: ClientInfo) -> bool:
        row = await self._row(hub_partner_id, info.country_code, info.party_id)
        created = row is None
        if row is None:
            row = ClientInfoRow(
                hub_partner_id=hub_partner_id,
                country_code=info.country_code.upper(),
                party_id=info.party_id.upper(),
            )
            self._s.add(row)
        row.role = info.role.value
        row.status = info.status.value
        row.last_updated = info.last_updated
        await self._s.flush()
        return created

    async def get(self, hub_partner_id: int, country_code: str, party_id: str) -> ClientInfo | None:
        row = await self._row(hub_partner_id, country_code, party_id)
        return _to_core(row) if row else None
