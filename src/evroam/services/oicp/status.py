"""eRoamingEVSEStatus on the hub: operators push statuses, providers pull them.

Push (digest §1.3, "ActionType semantics"), in this order:

1. every EvseID belongs to the pushing operator (its prefix, canonical), else 018 and
   nothing is stored; one EVSE twice in one body is a data error (022);
2. in one transaction: lock the operator's partner row (PostgreSQL ``FOR UPDATE``;
   SQLite's write lock is already held), so one operator's pushes are applied strictly
   one after another, in the order they reach the lock, in this process and in any
   other on the same database (digest §6 "Sequential pushes": a later small fullLoad
   must never be overtaken by an earlier large one);
3. apply the action: ``insert`` refuses the whole request if any EVSE is known,
   ``update`` if any is unknown, ``delete`` removes the listed ones, ``fullLoad``
   replaces the operator's whole set (an empty list empties it); commit once.

Pull: all operators (optionally one status), some operators, or up to 100 EvseIDs
(unknown ones answered ``EvseNotFound``). The SearchCenter filter keeps the EVSEs whose
pushed EVSE data (``evsedata.py``) places them inside the circle: an EVSE without EVSE
data has no known position and is left out, never taken for one nearby.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from evroam.core.oicp import (
    ActionType,
    EvseStatus,
    EvseStatusRecord,
    GeoCircle,
    InvalidRequest,
    NotActingForSelf,
    OicpPartner,
    OicpRole,
    OperatorStatuses,
    StoredEvseStatus,
)
from evroam.core.ports import OicpUnitOfWorkFactory
from evroam.services.oicp.checks import check_own_evses, listing

#: Most EvseIDs one pull by ID may name (OICP 2.3 eRoamingPullEvseStatusByID).
MAX_PULL_BY_ID = 100


def check_push(operator: OicpPartner, records: Sequence[EvseStatusRecord]) -> None:
    """The checks that need no stored data (step 1 of the module docstring)."""
    check_own_evses(operator, records)
    not_pushable = [r.evse_id for r in records if r.status is EvseStatus.EVSE_NOT_FOUND]
    if not_pushable:
        raise InvalidRequest(
            f"EvseNotFound is answered by the hub, not pushed: {listing(not_pushable)}"
        )


async def push_statuses(
    uow: OicpUnitOfWorkFactory,
    operator: OicpPartner,
    action: ActionType,
    records: Sequence[EvseStatusRecord],
    now: datetime,
) -> None:
    """Apply one eRoamingPushEvseStatus of ``operator`` (already checked to be the
    caller, acting as CPO); raises ``ForeignEvse``/``InvalidRequest`` with nothing stored."""
    check_push(operator, records)
    ids = [r.canonical_evse_id for r in records]
    async with uow() as u:
        locked = await u.oicp_partners.get_for_update(operator.canonical_id)
        if locked is None or not locked.holds(OicpRole.CPO):
            # Removed (or its role changed) while this request was on its way.
            raise NotActingForSelf(f"{operator.partner_id} is not an operator of this hub")
        statuses = u.oicp_statuses
        if action is ActionType.INSERT:
            known = await statuses.known(operator.canonical_id, ids)
            if known:
                existing = [r.evse_id for r in records if r.canonical_evse_id in known]
                raise InvalidRequest(f"insert of EVSEs the hub already has: {listing(existing)}")
            await statuses.upsert(records, now)
        elif action is ActionType.UPDATE:
            known = await statuses.known(operator.canonical_id, ids)
            missing = [r.evse_id for r in records if r.canonical_evse_id not in known]
            if missing:
                raise InvalidRequest(f"update of EVSEs the hub does not have: {listing(missing)}")
            await statuses.upsert(records, now)
        elif action is ActionType.DELETE:
            await statuses.delete(operator.canonical_id, ids)
        else:
            await statuses.delete_except(operator.canonical_id, ids)
            await statuses.upsert(records, now)
        await u.commit()


async def _grouped(
    uow: OicpUnitOfWorkFactory, rows: list[StoredEvseStatus]
) -> list[OperatorStatuses]:
    """Rows (ordered by operator) grouped per operator, each under the ID and name its
    partner record gives. Rows of an operator removed since they were read are left out
    (removing a partner removes its statuses)."""
    async with uow(read_only=True) as u:
        partners = {p.canonical_id: p for p in await u.oicp_partners.list()}
    groups: list[OperatorStatuses] = []
    current: str | None = None
    for row in rows:
        partner = partners.get(row.operator)
        if partner is None:
            continue
        if row.operator != current:
            groups.append(OperatorStatuses(partner.partner_id, partner.name, []))
            current = row.operator
        groups[-1].records.append(row)
    return groups


async def pull_statuses(
    uow: OicpUnitOfWorkFactory, status: EvseStatus | None, *, search_center: GeoCircle | None = None
) -> list[OperatorStatuses]:
    """Every operator's statuses, only those with ``status`` when given, only those
    of EVSEs inside ``search_center`` when given."""
    async with uow(read_only=True) as u:
        rows = await u.oicp_statuses.by_operators(None, status)
        if search_center is not None:
            inside = await u.oicp_evse_data.within(search_center)
            rows = [r for r in rows if (r.operator, r.canonical_evse_id) in inside]
    return await _grouped(uow, rows)


async def pull_statuses_of_operators(
    uow: OicpUnitOfWorkFactory, operators: Sequence[str]
) -> list[OperatorStatuses]:
    """The statuses of these operators (canonical IDs); unknown ones contribute none."""
    async with uow(read_only=True) as u:
        rows = await u.oicp_statuses.by_operators(list(operators))
    return await _grouped(uow, rows)


async def pull_statuses_by_id(
    uow: OicpUnitOfWorkFactory, evse_ids: Sequence[tuple[str, str]]
) -> list[tuple[str, EvseStatus]]:
    """For each (EvseID as asked, canonical EvseID), in the order asked: the stored
    status, or ``EvseNotFound``. The EvseID is answered as the hub holds it."""
    if len(evse_ids) > MAX_PULL_BY_ID:
        raise InvalidRequest(f"at most {MAX_PULL_BY_ID} EvseIDs per request")
    async with uow(read_only=True) as u:
        rows = await u.oicp_statuses.by_evse_ids([c for _, c in evse_ids])
    found = {r.canonical_evse_id: r for r in rows}
    out: list[tuple[str, EvseStatus]] = []
    for asked, canonical in evse_ids:
        row = found.get(canonical)
        out.append((row.evse_id, row.status) if row else (asked, EvseStatus.EVSE_NOT_FOUND))
    return out
