"""Hashes of the credentials tokens this node issued."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.types import CredentialsTokenKind
from evroam.storage.tables import CredentialsTokenRow


class SqlCredentialsTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        partner_id: int,
        kind: CredentialsTokenKind,
        token_hash: str,
        expires_at: datetime | None = None,
    ) -> None:
        self._s.add(
            CredentialsTokenRow(
                partner_id=partner_id,
                kind=kind.value,
                token_hash=token_hash,
                created_at=datetime.now(UTC),
                expires_at=expires_at,
                failed_attempts=0,
            )
        )
        await self._s.flush()

    async def find(
        self, token_hashes: Sequence[str], now: datetime
    ) -> tuple[int, CredentialsTokenKind, str] | None:
        """An expired token is as unknown as a revoked one; its row stays until revoked,
        so the operator can still see which invitation lapsed."""
        if not token_hashes:
            return None
        row = (
            await self._s.execute(
                select(
                    CredentialsTokenRow.partner_id,
                    CredentialsTokenRow.kind,
                    CredentialsTokenRow.token_hash,
                ).where(
                    CredentialsTokenRow.token_hash.in_(list(token_hashes)),
                    or_(
                        CredentialsTokenRow.expires_at.is_(None),
                        CredentialsTokenRow.expires_at > now,
                    ),
                )
            )
        ).first()
        if row is None:
            return None
        return row[0], CredentialsTokenKind(row[1]), row[2]

    async def revoke(self, partner_id: int, kind: CredentialsTokenKind | None = None) -> int:
        stmt = delete(CredentialsTokenRow).where(CredentialsTokenRow.partner_id == partner_id)
        if kind is not None:
            stmt = stmt.where(CredentialsTokenRow.kind == kind.value)
        result = await self._s.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def revoke_hash(self, token_hash: str) -> None:
        await self._s.execute(
            delete(CredentialsTokenRow).where(CredentialsTokenRow.token_hash == token_hash)
        )

    async def count_failure(self, token_hash: str) -> int:
        """Increment in the database (``SET n = n + 1 ... RETURNING n``): concurrent
        refused attempts each count, which a read-then-write in Python would not
        guarantee on PostgreSQL. 0 when no such token is stored."""
        count = await self._s.scalar(
            update(CredentialsTokenRow)
            .where(CredentialsTokenRow.token_hash == token_hash)
            .values(failed_attempts=CredentialsTokenRow.failed_attempts + 1)
            .returning(CredentialsTokenRow.failed_attempts)
        )
        return int(count or 0)

    async def has_kind(self, partner_id: int, kind: CredentialsTokenKind) -> bool:
        return bool(
            await self._s.scalar(
                select(
                    exists().where(
                        CredentialsTokenRow.partner_id == partner_id,
                        CredentialsTokenRow.kind == kind.value,
                    )
                )
            )
        )
