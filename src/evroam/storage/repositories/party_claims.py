"""Which partner holds each (country_code, party_id): decided by the primary key.

A check "is this party free?" followed by an insert is a race between two registrations
on PostgreSQL (both read "free"); so ``claim`` inserts and lets the constraint answer.
``ON CONFLICT DO NOTHING`` waits for a concurrent uncommitted claim of the same party and
then skips it if that one committed, so no error aborts the transaction; a claim that is
refused is rolled back to a savepoint as a whole, so the session stays usable and keeps
no row of the refused call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from evroam.core.errors import PartyConflict
from evroam.storage.repositories._insert import insert_for
from evroam.storage.tables import PartyClaimRow

# A party can be released (its holder deleted) between our skipped insert and the look-up
# of who holds it; then the insert is tried again, a few times at most.
_ATTEMPTS = 3


class SqlPartyClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(self, partner_id: int, parties: Iterable[tuple[str, str]]) -> None:
        # Sorted: two claimers of overlapping sets take the key locks in the same order,
        # so PostgreSQL never has to break a deadlock between them.
        pending = sorted({(cc.upper(), pid.upper()) for cc, pid in parties})
        if not pending:
            return
        now = datetime.now(UTC)
        async with self._s.begin_nested():
            for _ in range(_ATTEMPTS):
                stmt = (
                    insert_for(self._s, PartyClaimRow)
                    .values(
                        [
                            {
                                "country_code": cc,
                                "party_id": pid,
                                "partner_id": partner_id,
                                "claimed_at": now,
                            }
                            for cc, pid in pending
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["country_code", "party_id"])
                    .returning(PartyClaimRow.country_code, PartyClaimRow.party_id)
                )
                inserted = {(r[0], r[1]) for r in await self._s.execute(stmt)}
                released: list[tuple[str, str]] = []
                for cc, pid in pending:
                    if (cc, pid) in inserted:
                        continue
                    holder = await self.holder(cc, pid)
                    if holder is None:
                        released.append((cc, pid))
                    elif holder != partner_id:
                        # Leaving the block rolls back to the savepoint: nothing of
                        # this call stays, whatever it inserted before.
                        raise PartyConflict(
                            f"party {cc}-{pid} is already registered by another partner"
                        )
                if not released:
                    return
                pending = released
            cc, pid = pending[0]
            raise PartyConflict(f"party {cc}-{pid} is already registered by another partner")

    async def release(self, partner_id: int) -> None:
        await self._s.execute(delete(PartyClaimRow).where(PartyClaimRow.partner_id == partner_id))

    async def holder(self, country_code: str, party_id: str) -> int | None:
        return await self._s.scalar(
            select(PartyClaimRow.partner_id).where(
                PartyClaimRow.country_code == country_code.upper(),
                PartyClaimRow.party_id == party_id.upper(),
            )
        )
