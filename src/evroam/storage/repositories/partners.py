"""Partners and their roles, as core ``Partner`` objects."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    Partner,
    Party,
    Role,
)
from evroam.storage.tables import PartnerRoleRow, PartnerRow


def _business_to_json(bd: BusinessDetails) -> dict[str, Any]:
    out: dict[str, Any] = {"name": bd.name}
    if bd.website is not None:
        out["website"] = bd.website
    if bd.logo is not None:
        out["logo"] = bd.logo
    return out


def _business_from_json(data: dict[str, Any]) -> BusinessDetails:
    return BusinessDetails(name=data["name"], website=data.get("website"), logo=data.get("logo"))


def _to_partner(row: PartnerRow, roles: Sequence[PartnerRoleRow]) -> Partner:
    return Partner(
        id=row.id,
        status=ConnectionStatus(row.status),
        versions_url=row.versions_url,
        version=row.version,
        endpoints=[
            Endpoint(
                identifier=e["identifier"],
                role=InterfaceRole(e["role"]) if e.get("role") else None,
                url=e["url"],
            )
            for e in row.endpoints or []
        ],
        roles=[
            Party(
                country_code=r.country_code,
                party_id=r.party_id,
                role=Role(r.role),
                business_details=_business_from_json(r.business_details),
            )
            for r in sorted(roles, key=lambda r: r.position)
        ],
        token_out=row.token_out,
        initiated_by_us=row.initiated_by_us,
        registered_at=row.registered_at,
        last_connection=row.last_connection_at,
        status_changed_at=row.status_changed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        note=row.note,
        pending_since=row.pending_since,
        notice=row.notice,
    )


def _apply(row: PartnerRow, partner: Partner) -> None:
    row.status = partner.status.value
    row.versions_url = partner.versions_url
    row.version = partner.version
    row.endpoints = [
        {"identifier": e.identifier, "role": e.role.value if e.role else None, "url": e.url}
        for e in partner.endpoints
    ]
    row.token_out = partner.token_out
    row.initiated_by_us = partner.initiated_by_us
    row.registered_at = partner.registered_at
    row.last_connection_at = partner.last_connection
    row.status_changed_at = partner.status_changed_at
    row.note = partner.note
    row.pending_since = partner.pending_since
    row.notice = partner.notice
    row.updated_at = partner.updated_at or partner.created_at or row.updated_at


class SqlPartnerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _roles(self, partner_ids: Sequence[int]) -> dict[int, list[PartnerRoleRow]]:
        out: dict[int, list[PartnerRoleRow]] = {pid: [] for pid in partner_ids}
        if not partner_ids:
            return out
        rows = await self._s.scalars(
            select(PartnerRoleRow).where(PartnerRoleRow.partner_id.in_(partner_ids))
        )
        for r in rows:
            out[r.partner_id].append(r)
        return out

    async def get(self, partner_id: int) -> Partner | None:
        row = await self._s.get(PartnerRow, partner_id)
        if row is None:
            return None
        return _to_partner(row, (await self._roles([row.id]))[row.id])

    async def get_for_update(self, partner_id: int) -> Partner | None:
        """Load with a row lock on PostgreSQL, so concurrent handshakes serialise."""
        row = await self._s.scalar(
            select(PartnerRow).where(PartnerRow.id == partner_id).with_for_update()
        )
        if row is None:
            return None
        return _to_partner(row, (await self._roles([row.id]))[row.id])

    async def find_by_party(self, country_code: str, party_id: str) -> Partner | None:
        """The newest partner holding that party, preferring one that is not suspended.

        One indexed query whatever the history: suspended partners keep their roles, and
        a party that registered many times must not make each handshake slower.
        """
        suspended_last = case((PartnerRow.status == ConnectionStatus.SUSPENDED.value, 1), else_=0)
        partner_id = await self._s.scalar(
            select(PartnerRow.id)
            .join(PartnerRoleRow, PartnerRoleRow.partner_id == PartnerRow.id)
            .where(
                PartnerRoleRow.country_code == country_code.upper(),
                PartnerRoleRow.party_id == party_id.upper(),
            )
            .order_by(suspended_last, PartnerRow.id.desc())
            .limit(1)
        )
        return None if partner_id is None else await self.get(partner_id)

    async def list(self) -> list[Partner]:
        rows = (await self._s.scalars(select(PartnerRow).order_by(PartnerRow.id))).all()
        roles = await self._roles([r.id for r in rows])
        return [_to_partner(r, roles[r.id]) for r in rows]

    # builtins.list: inside this class, ``list`` is the method above.
    async def list_pending(self) -> builtins.list[Partner]:
        """Partners with a registration of ours in flight (``pending_since`` set): after a
        crash, start-up finds them here and revokes the token B they were given."""
        rows = (
            await self._s.scalars(
                select(PartnerRow)
                .where(PartnerRow.pending_since.is_not(None))
                .order_by(PartnerRow.id)
            )
        ).all()
        roles = await self._roles([r.id for r in rows])
        return [_to_partner(r, roles[r.id]) for r in rows]

    async def add(self, partner: Partner) -> Partner:
        row = PartnerRow(created_at=partner.created_at, updated_at=partner.created_at)
        _apply(row, partner)
        self._s.add(row)
        await self._s.flush()
        partner.id = row.id
        await self._replace_roles(partner)
        return partner

    async def save(self, partner: Partner) -> None:
        row = await self._s.get(PartnerRow, partner.id)
        if row is None:
            raise LookupError(f"partner {partner.id} vanished")
        _apply(row, partner)
        await self._replace_roles(partner)
        await self._s.flush()

    async def delete(self, partner_id: int) -> None:
        """Delete the partner; its roles explicitly, its tokens, party claims and client
        infos by ``ON DELETE CASCADE``."""
        await self._s.execute(delete(PartnerRoleRow).where(PartnerRoleRow.partner_id == partner_id))
        await self._s.execute(delete(PartnerRow).where(PartnerRow.id == partner_id))

    async def _replace_roles(self, partner: Partner) -> None:
        existing = (await self._roles([partner.id]))[partner.id]
        wanted = [
            (i, p.role.value, p.country_code, p.party_id, _business_to_json(p.business_details))
            for i, p in enumerate(partner.roles)
        ]
        have = [
            (r.position, r.role, r.country_code, r.party_id, r.business_details)
            for r in sorted(existing, key=lambda r: r.position)
        ]
        if have == wanted:
            return
        await self._s.execute(delete(PartnerRoleRow).where(PartnerRoleRow.partner_id == partner.id))
        for pos, role, cc, pid, bd in wanted:
            self._s.add(
                PartnerRoleRow(
                    partner_id=partner.id,
                    position=pos,
                    role=role,
                    country_code=cc,
                    party_id=pid,
                    business_details=bd,
                )
            )

    async def touch(self, partner_id: int, at: datetime, status: ConnectionStatus) -> None:
        """Record contact without loading the partner: the hot path of every request."""
        await self._s.execute(
            update(PartnerRow).where(PartnerRow.id == partner_id).values(last_connection_at=at)
        )
        await self._s.execute(
            update(PartnerRow)
            .where(PartnerRow.id == partner_id, PartnerRow.status != status.value)
            .values(status=status.value, status_changed_at=at, updated_at=at)
        )
