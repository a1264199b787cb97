"""eRoamingDynamicPricing on the hub: operators push pricing products and which of them
apply at which EVSE; providers pull what is offered to them (digest §1.3 rows 16-19).

An *offer* is what one PushPricingProductData carries: one operator's products for one
ProviderID, or for ``*`` (every EMP), with the default price. Its ActionType applies to
that offer's products, keyed by ``ProductID``: a full load for one EMP must not wipe the
products offered to another, and one push can only name one ProviderID. The default
price comes from every push but a delete (which keeps the offer's).

EVSE pricing is keyed by (EvseID, ProviderID); a full load replaces the operator's whole
EVSE pricing (one push names any number of ProviderIDs). EvseIDs of another operator:
018, nothing stored; a key twice in one body: 022.

Order and locking as for EVSE data (``evsedata.py``): checks without stored data first,
then the operator's partner row locked, the action checked against what is stored, one
commit. Insert of something present or update of something absent refuses the whole
request, naming what.

Pulls answer only offers to the calling EMP or to ``*``. Pricing records carry no
``deltaType`` on the wire, so a ``LastCall`` pull answers each offer changed since
*whole* (a deleted product shows by its absence; an emptied offer comes with no
products), and the EVSE pricing changed since.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from evroam.core.oicp import (
    ALL_PROVIDERS,
    ActionType,
    EvsePricingEntry,
    ForeignEvse,
    InvalidRequest,
    NotActingForSelf,
    OicpPartner,
    OicpRole,
    PricingOffer,
)
from evroam.core.ports import OicpUnitOfWork, OicpUnitOfWorkFactory
from evroam.services.oicp.checks import duplicates, listing

RECORDS = "PricingProductDataRecords"


async def _lock(u: OicpUnitOfWork, operator: OicpPartner) -> None:
    locked = await u.oicp_partners.get_for_update(operator.canonical_id)
    if locked is None or not locked.holds(OicpRole.CPO):
        raise NotActingForSelf(f"{operator.partner_id} is not an operator of this hub")


async def push_pricing_products(
    uow: OicpUnitOfWorkFactory,
    operator: OicpPartner,
    action: ActionType,
    provider: str,
    offer: Mapping[str, Any],
    now: datetime,
) -> None:
    """Apply one eRoamingPushPricingProductData. ``offer`` is its PricingProductData
    in wire form; ``provider`` the canonical ProviderID it names (or ``*``)."""
    products: list[dict[str, Any]] = list(offer[RECORDS])
    ids = [str(p["ProductID"]) for p in products]
    twice = duplicates(ids)
    if twice:
        raise InvalidRequest(f"ProductID given more than once: {listing(twice)}")
    async with uow() as u:
        await _lock(u, operator)
        stored = await u.oicp_pricing.offer(operator.canonical_id, provider)
        header = {k: v for k, v in offer.items() if k != RECORDS}
        current: dict[str, dict[str, Any]] = {}
        if stored is not None:
            kept = json.loads(stored.data)
            current = {str(p["ProductID"]): p for p in kept[RECORDS]}
            if action is ActionType.DELETE:
                header = {k: v for k, v in kept.items() if k != RECORDS}
        if action is ActionType.INSERT:
            present = [i for i in ids if i in current]
            if present:
                raise InvalidRequest(f"insert of products the hub already has: {listing(present)}")
            current.update(zip(ids, products, strict=True))
        elif action is ActionType.UPDATE:
            absent = [i for i in ids if i not in current]
            if absent:
                raise InvalidRequest(f"update of products the hub does not have: {listing(absent)}")
            current.update(zip(ids, products, strict=True))
        elif action is ActionType.DELETE:
            for i in ids:
                current.pop(i, None)
        else:
            current = dict(zip(ids, products, strict=True))
        data = {**header, RECORDS: list(current.values())}
        await u.oicp_pricing.put_offer(
            PricingOffer(
                operator=operator.canonical_id,
                provider=provider,
                operator_id=str(header["OperatorID"]),
                provider_id=str(header["ProviderID"]),
                data=json.dumps(data, separators=(",", ":")),
                product_count=len(current),
            ),
            now,
        )
        await u.commit()


async def push_evse_pricing(
    uow: OicpUnitOfWorkFactory,
    operator: OicpPartner,
    action: ActionType,
    entries: Sequence[EvsePricingEntry],
    now: datetime,
) -> None:
    """Apply one eRoamingPushEVSEPricing (entries of ``operator``, canonical IDs set)."""
    foreign = [e.evse_id for e in entries if e.operator != operator.canonical_id]
    if foreign:
        raise ForeignEvse(f"EvseID not of operator {operator.partner_id}: {listing(foreign)}")
    twice = duplicates([f"{e.canonical_evse_id}\x00{e.provider}" for e in entries])
    if twice:
        shown = [k.replace("\x00", " for ") for k in twice]
        raise InvalidRequest(f"EVSE pricing given more than once: {listing(shown)}")
    async with uow() as u:
        await _lock(u, operator)
        pricing = u.oicp_pricing
        stored = await pricing.evse_pricing_keys(operator.canonical_id)

        def named(want: bool) -> list[str]:
            return [
                f"{e.evse_id} for {e.provider_id}" for e in entries if (e.key in stored) is want
            ]

        if action is ActionType.INSERT:
            if present := named(True):
                raise InvalidRequest(
                    f"insert of EVSE pricing the hub already has: {listing(present)}"
                )
            await pricing.put_evse_pricing(entries, now)
        elif action is ActionType.UPDATE:
            if absent := named(False):
                raise InvalidRequest(
                    f"update of EVSE pricing the hub does not have: {listing(absent)}"
                )
            await pricing.put_evse_pricing(entries, now)
        elif action is ActionType.DELETE:
            await pricing.delete_evse_pricing(operator.canonical_id, [e.key for e in entries])
        else:
            keep = {e.key for e in entries}
            await pricing.delete_evse_pricing(operator.canonical_id, stored - keep)
            await pricing.put_evse_pricing(entries, now)
        await u.commit()


def _visible_to(provider: OicpPartner) -> list[str]:
    return [provider.canonical_id, ALL_PROVIDERS]


async def pull_pricing_products(
    uow: OicpUnitOfWorkFactory,
    provider: OicpPartner,
    operators: Sequence[str],
    since: datetime | None,
) -> list[dict[str, Any]]:
    """The offers of these operators (canonical) to ``provider`` or to all, in wire
    form, ordered by operator."""
    async with uow(read_only=True) as u:
        offers = await u.oicp_pricing.offers(operators, _visible_to(provider), since)
    return [json.loads(o.data) for o in offers]


async def pull_evse_pricing(
    uow: OicpUnitOfWorkFactory,
    provider: OicpPartner,
    operators: Sequence[str],
    since: datetime | None,
) -> list[tuple[OicpPartner, list[EvsePricingEntry]]]:
    """The EVSE pricing of these operators for ``provider`` or all, grouped per
    operator (its partner record, for the ID and name to answer under)."""
    async with uow(read_only=True) as u:
        entries = await u.oicp_pricing.evse_pricing(operators, _visible_to(provider), since)
        partners = {p.canonical_id: p for p in await u.oicp_partners.list()}
    groups: list[tuple[OicpPartner, list[EvsePricingEntry]]] = []
    for entry in entries:
        partner = partners.get(entry.operator)
        if partner is None:
            continue
        if not groups or groups[-1][0].canonical_id != entry.operator:
            groups.append((partner, []))
        groups[-1][1].append(entry)
    return groups
