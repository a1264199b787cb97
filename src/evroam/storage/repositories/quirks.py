"""Learnt interoperability quirks of partner hosts (core ``Quirk``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.types import Quirk
from evroam.storage.repositories._insert import insert_for
from evroam.storage.tables import QuirkRow


class SqlQuirkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def all(self) -> list[Quirk]:
        rows = await self._s.execute(
            select(QuirkRow.host, QuirkRow.kind, QuirkRow.key, QuirkRow.value).order_by(
                QuirkRow.host, QuirkRow.kind, QuirkRow.key
            )
        )
        return [Quirk(host=r[0], kind=r[1], key=r[2], value=r[3]) for r in rows]

    async def remember(self, quirk: Quirk) -> None:
        """Upsert in one statement: two requests learning the same quirk at once (the
        usual case: the same partner answering the same way) must not collide."""
        now = datetime.now(UTC)
        stmt = insert_for(self._s, QuirkRow).values(
            host=quirk.host, kind=quirk.kind, key=quirk.key, value=quirk.value, learned_at=now
        )
        await self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=["host", "kind", "key"],
                set_={"value": stmt.excluded.value, "learned_at": stmt.excluded.learned_at},
            )
        )
