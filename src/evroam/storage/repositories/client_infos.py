"""ClientInfo objects pushed to us by hub partners."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.ports import UpsertOutcome
from evroam.core.types import ClientInfo, ConnectionStatus, Role
from evroam.storage.repositories._insert import insert_for
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

    def _key(self, hub_partner_id: int, cc: str, pid: str) -> tuple[ColumnElement[bool], ...]:
        return (
            ClientInfoRow.hub_partner_id == hub_partner_id,
            ClientInfoRow.country_code == cc.upper(),
            ClientInfoRow.party_id == pid.upper(),
        )

    async def upsert(self, hub_partner_id: int, info: ClientInfo) -> UpsertOutcome:
        """Keep the stored object when it is newer (OCPI: a receiver ignores an object
        older than what it has; equal ``last_updated`` is a repeat and is applied).

        The stored row is read with a row lock on PostgreSQL, so a concurrent PUT of the
        same object cannot slip in between the comparison and the update; a concurrent
        first PUT is settled by the unique key (``ON CONFLICT DO NOTHING``), after which
        this one compares against it like any update.
        """
        cc, pid = info.country_code.upper(), info.party_id.upper()
        key = self._key(hub_partner_id, cc, pid)
        stored = await self._s.scalar(
            select(ClientInfoRow.last_updated).where(*key).with_for_update()
        )
        if stored is None:
            created = await self._s.scalar(
                insert_for(self._s, ClientInfoRow)
                .values(
                    hub_partner_id=hub_partner_id,
                    country_code=cc,
                    party_id=pid,
                    role=info.role.value,
                    status=info.status.value,
                    last_updated=info.last_updated,
                )
                .on_conflict_do_nothing(
                    index_elements=["hub_partner_id", "country_code", "party_id"]
                )
                .returning(ClientInfoRow.id)
            )
            if created is not None:
                return "created"
            stored = await self._s.scalar(
                select(ClientInfoRow.last_updated).where(*key).with_for_update()
            )
            if stored is None:  # inserted and deleted (hub removed) in between
                raise LookupError(f"client info {cc}-{pid} vanished")
        if stored > info.last_updated:
            return "stale"
        await self._s.execute(
            update(ClientInfoRow)
            .where(*key)
            .values(role=info.role.value, status=info.status.value, last_updated=info.last_updated)
        )
        return "updated"

    async def get(self, hub_partner_id: int, country_code: str, party_id: str) -> ClientInfo | None:
        row = await self._s.scalar(
            select(ClientInfoRow).where(*self._key(hub_partner_id, country_code, party_id))
        )
        return _to_core(row) if row else None

    async def list(self, hub_partner_id: int) -> list[ClientInfo]:
        rows = await self._s.scalars(
            select(ClientInfoRow)
            .where(ClientInfoRow.hub_partner_id == hub_partner_id)
            .order_by(ClientInfoRow.country_code, ClientInfoRow.party_id)
        )
        return [_to_core(r) for r in rows]
