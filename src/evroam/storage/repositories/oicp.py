"""The OICP hub's partners and EVSE statuses (core ``OicpPartner``, ``StoredEvseStatus``).

Writes that two processes could race on are settled by the database: a partner add is
one ``INSERT ... ON CONFLICT DO NOTHING`` on the canonical ID, a status write one upsert
on (operator, EvseID). The order of one operator's pushes is kept by the service, which
locks the operator's partner row first (``get_for_update``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.oicp import (
    EvseStatus,
    EvseStatusRecord,
    OicpPartner,
    OicpPartnerExists,
    OicpRole,
    StoredEvseStatus,
    identity_key,
)
from evroam.storage.repositories._insert import insert_for
from evroam.storage.tables import OicpEvseStatusRow, OicpPartnerRow

# Bound parameters per IN list: far below SQLite's and asyncpg's limits.
_CHUNK = 500


# The statements of a status push (one per request, at concurrency) are built once and
# run with parameters: building and cache-keying them per call was most of the push's
# CPU in py-spy (bench/oicp_status.py), more than SQLite's work.
_S = OicpEvseStatusRow
_PARTNER_FOR_UPDATE = (
    select(OicpPartnerRow)
    .where(OicpPartnerRow.canonical_id == bindparam("cid"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_PARTNERS_BY_KEY = (
    select(OicpPartnerRow)
    .where(OicpPartnerRow.cert_identity_key.in_(bindparam("keys", expanding=True)))
    .order_by(OicpPartnerRow.canonical_id)
)
_KNOWN = select(_S.canonical_evse_id).where(
    _S.operator == bindparam("op"), _S.canonical_evse_id.in_(bindparam("ids", expanding=True))
)


def _status_upsert(insert: Any) -> Any:
    """The status upsert for one dialect's ``insert``: ``changed_at`` moves only when
    the status does (a repeated status, the daily full load, must not make every EVSE
    look freshly changed)."""
    stmt = insert(_S.__table__)
    x = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["operator", "canonical_evse_id"],
        set_={
            "evse_id": x.evse_id,
            "status": x.status,
            "pushed_at": x.pushed_at,
            "changed_at": case((_S.status == x.status, _S.changed_at), else_=x.changed_at),
        },
    )


_UPSERT = {"sqlite": _status_upsert(sqlite.insert), "postgresql": _status_upsert(postgresql.insert)}


def _partner(row: OicpPartnerRow) -> OicpPartner:
    return OicpPartner(
        partner_id=row.partner_id,
        canonical_id=row.canonical_id,
        roles=frozenset(OicpRole(r) for r in row.roles),
        cert_identity=row.cert_identity,
        allowed_networks=tuple(row.allowed_networks),
        endpoint=row.endpoint,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _status(row: OicpEvseStatusRow) -> StoredEvseStatus:
    return StoredEvseStatus(
        operator=row.operator,
        evse_id=row.evse_id,
        canonical_evse_id=row.canonical_evse_id,
        status=EvseStatus(row.status),
        changed_at=row.changed_at,
        pushed_at=row.pushed_at,
    )


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(values))
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class SqlOicpPartnerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, partner: OicpPartner) -> OicpPartner:
        assert partner.created_at is not None and partner.updated_at is not None
        stmt = (
            insert_for(self._s, OicpPartnerRow)
            .values(
                canonical_id=partner.canonical_id,
                partner_id=partner.partner_id,
                roles=sorted(r.value for r in partner.roles),
                cert_identity=partner.cert_identity,
                cert_identity_key=identity_key(partner.cert_identity),
                allowed_networks=list(partner.allowed_networks),
                endpoint=partner.endpoint,
                name=partner.name,
                created_at=partner.created_at,
                updated_at=partner.updated_at,
            )
            .on_conflict_do_nothing(index_elements=["canonical_id"])
            .returning(OicpPartnerRow.canonical_id)
        )
        if (await self._s.execute(stmt)).first() is None:
            raise OicpPartnerExists(f"a partner with ID {partner.partner_id} already exists")
        return partner

    async def get(self, canonical_id: str) -> OicpPartner | None:
        row = await self._s.get(OicpPartnerRow, canonical_id)
        return _partner(row) if row is not None else None

    async def get_for_update(self, canonical_id: str) -> OicpPartner | None:
        row = await self._s.scalar(_PARTNER_FOR_UPDATE, {"cid": canonical_id})
        return _partner(row) if row is not None else None

    async def by_cert_identity(self, identities: Sequence[str]) -> list[OicpPartner]:
        keys = sorted({identity_key(i) for i in identities if i.strip()})
        if not keys:
            return []
        rows = await self._s.scalars(_PARTNERS_BY_KEY, {"keys": keys})
        return [_partner(r) for r in rows]

    async def list(self) -> list[OicpPartner]:
        rows = await self._s.scalars(select(OicpPartnerRow).order_by(OicpPartnerRow.canonical_id))
        return [_partner(r) for r in rows]

    async def save(self, partner: OicpPartner) -> None:
        row = await self._s.get(OicpPartnerRow, partner.canonical_id)
        if row is None:
            raise KeyError(partner.canonical_id)
        row.roles = sorted(r.value for r in partner.roles)
        row.cert_identity = partner.cert_identity
        row.cert_identity_key = identity_key(partner.cert_identity)
        row.allowed_networks = list(partner.allowed_networks)
        row.endpoint = partner.endpoint
        row.name = partner.name
        assert partner.updated_at is not None
        row.updated_at = partner.updated_at
        await self._s.flush()

    async def remove(self, canonical_id: str) -> bool:
        result = await self._s.execute(
            delete(OicpPartnerRow)
            .where(OicpPartnerRow.canonical_id == canonical_id)
            .returning(OicpPartnerRow.canonical_id)
        )
        return result.first() is not None


class SqlOicpEvseStatusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def known(self, operator: str, canonical_evse_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        conn = await self._s.connection()
        for chunk in _chunks(canonical_evse_ids):
            rows = await conn.execute(_KNOWN, {"op": operator, "ids": chunk})
            found.update(r[0] for r in rows)
        return found

    async def upsert(self, records: Sequence[EvseStatusRecord], at: datetime) -> None:
        if not records:
            return
        conn = await self._s.connection()
        upsert = _UPSERT[conn.dialect.name]
        for i in range(0, len(records), _CHUNK):
            params = [
                {
                    "operator": r.operator,
                    "canonical_evse_id": r.canonical_evse_id,
                    "evse_id": r.evse_id,
                    "status": r.status.value,
                    "changed_at": at,
                    "pushed_at": at,
                }
                for r in records[i : i + _CHUNK]
            ]
            await conn.execute(upsert, params)

    async def delete(self, operator: str, canonical_evse_ids: Iterable[str]) -> int:
        count = 0
        for chunk in _chunks(canonical_evse_ids):
            result = await self._s.execute(
                delete(OicpEvseStatusRow)
                .where(
                    OicpEvseStatusRow.operator == operator,
                    OicpEvseStatusRow.canonical_evse_id.in_(chunk),
                )
                .returning(OicpEvseStatusRow.canonical_evse_id)
            )
            count += len(result.all())
        return count

    async def delete_except(self, operator: str, canonical_evse_ids: Iterable[str]) -> int:
        keep = set(canonical_evse_ids)
        present = await self._s.scalars(
            select(OicpEvseStatusRow.canonical_evse_id).where(
                OicpEvseStatusRow.operator == operator
            )
        )
        return await self.delete(operator, (c for c in present if c not in keep))

    async def by_evse_ids(self, canonical_evse_ids: Sequence[str]) -> list[StoredEvseStatus]:
        out: list[StoredEvseStatus] = []
        for chunk in _chunks(canonical_evse_ids):
            rows = await self._s.scalars(
                select(OicpEvseStatusRow).where(OicpEvseStatusRow.canonical_evse_id.in_(chunk))
            )
            out.extend(_status(r) for r in rows)
        return out

    async def by_operators(
        self, operators: Sequence[str] | None, status: EvseStatus | None = None
    ) -> list[StoredEvseStatus]:
        stmt = select(OicpEvseStatusRow).order_by(
            OicpEvseStatusRow.operator, OicpEvseStatusRow.canonical_evse_id
        )
        if operators is not None:
            if not operators:
                return []
            stmt = stmt.where(OicpEvseStatusRow.operator.in_(sorted(set(operators))))
        if status is not None:
            stmt = stmt.where(OicpEvseStatusRow.status == status.value)
        return [_status(r) for r in await self._s.scalars(stmt)]
