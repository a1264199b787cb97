"""eRoamingEVSEData on the hub: operators push their EVSEs' static data, providers
pull it (digest §1.3 rows 10 and 12, §8.10).

Push, in this order (as EVSE statuses, ``status.py``):

1. every EvseID belongs to the pushing operator (its prefix, canonical), else 018 and
   nothing is stored; one EVSE twice in one body is a data error (022, like a status
   push: the body contradicts itself, the EVSE is the operator's own, so it is not an
   inconsistent EvseID);
2. in one transaction: lock the operator's partner row, so one operator's pushes are
   applied strictly one at a time in the order they reach the lock (digest §6);
3. apply the action against the operator's live records: ``insert`` refuses the whole
   request if any EVSE is live, naming them; ``update`` if any is not; ``delete`` marks
   the listed ones deleted; ``fullLoad`` marks every live record it does not name
   deleted and writes the rest (an empty list deletes all); commit once.

Deleted records stay as markers so a ``LastCall`` pull answers them with ``deltaType:
delete``; a record pushed again unchanged keeps its ``lastUpdate`` (a daily full load
does not make every EVSE "changed").

The POI check runs at the edge on every parsed record; its findings travel in the
entries and are stored with them. They inform; they never refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from evroam.core.oicp import (
    ActionType,
    EvseDataEntry,
    EvseDataQuery,
    InvalidRequest,
    NotActingForSelf,
    OicpPartner,
    OicpRole,
    StoredEvseData,
    StoredPoiReport,
)
from evroam.core.ports import OicpUnitOfWorkFactory
from evroam.services.oicp.checks import check_own_evses, listing

#: Records in one push from which the planner's statistics are refreshed after it, so
#: the pulls that follow a bulk load are planned for what is now stored.
STATISTICS_AFTER = 1_000


def check_push(operator: OicpPartner, entries: Sequence[EvseDataEntry]) -> None:
    """Step 1 of the module docstring: the checks that need no stored data."""
    check_own_evses(operator, entries)


async def push_evse_data(
    uow: OicpUnitOfWorkFactory,
    operator: OicpPartner,
    action: ActionType,
    operator_id: str,
    operator_name: str,
    entries: Sequence[EvseDataEntry],
    now: datetime,
) -> None:
    """Apply one eRoamingPushEvseData of ``operator`` (the caller acting as CPO;
    ``operator_id``/``operator_name`` as its body gives them); raises ``ForeignEvse``
    or ``InvalidRequest`` with nothing stored."""
    check_push(operator, entries)
    given = [e.canonical_evse_id for e in entries]
    async with uow() as u:
        locked = await u.oicp_partners.get_for_update(operator.canonical_id)
        if locked is None or not locked.holds(OicpRole.CPO):
            raise NotActingForSelf(f"{operator.partner_id} is not an operator of this hub")
        data = u.oicp_evse_data
        live = await data.live_ids(operator.canonical_id)
        if action is ActionType.INSERT:
            existing = [e.evse_id for e in entries if e.canonical_evse_id in live]
            if existing:
                raise InvalidRequest(f"insert of EVSEs the hub already has: {listing(existing)}")
            await data.put(operator_id, operator_name, entries, now)
        elif action is ActionType.UPDATE:
            missing = [e.evse_id for e in entries if e.canonical_evse_id not in live]
            if missing:
                raise InvalidRequest(f"update of EVSEs the hub does not have: {listing(missing)}")
            await data.put(operator_id, operator_name, entries, now)
        elif action is ActionType.DELETE:
            await data.mark_deleted(operator.canonical_id, given, now)
        else:
            await data.mark_deleted(operator.canonical_id, live.difference(given), now)
            await data.put(operator_id, operator_name, entries, now)
        await u.commit()
    if len(entries) >= STATISTICS_AFTER:
        async with uow() as u:
            await u.oicp_evse_data.refresh_statistics()
            await u.commit()


async def pull_evse_data(
    uow: OicpUnitOfWorkFactory, query: EvseDataQuery, offset: int, limit: int
) -> tuple[list[StoredEvseData], int]:
    """One page of the records matching ``query`` and how many match in all."""
    async with uow(read_only=True) as u:
        return await u.oicp_evse_data.page(query, offset, limit)


async def poi_reports(uow: OicpUnitOfWorkFactory, operator: str) -> list[StoredPoiReport]:
    """The POI findings kept for an operator's live records (canonical OperatorID)."""
    async with uow(read_only=True) as u:
        return await u.oicp_evse_data.poi_reports(operator)
