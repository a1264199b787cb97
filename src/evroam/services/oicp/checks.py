"""Checks every OICP push makes before it reads stored data, shared by the status, EVSE
data, pricing and authentication data services: nothing of another operator (018) and
nothing twice in one body (022), with the offending IDs listed the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from evroam.core.oicp import ForeignEvse, InvalidRequest, OicpPartner

#: How many offending IDs an error lists (the rest are counted).
LISTED = 5


def listing(ids: Sequence[str]) -> str:
    """``a, b, c, d, e and 3 more``: enough for the partner to find them, bounded."""
    shown = ", ".join(ids[:LISTED])
    more = len(ids) - LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def duplicates(keys: Sequence[str]) -> list[str]:
    """Each key that already came earlier in ``keys``, in order."""
    seen: set[str] = set()
    twice: list[str] = []
    for key in keys:
        if key in seen:
            twice.append(key)
        seen.add(key)
    return twice


class EvseItem(Protocol):
    @property
    def evse_id(self) -> str: ...
    @property
    def canonical_evse_id(self) -> str: ...
    @property
    def operator(self) -> str: ...


def check_own_evses(operator: OicpPartner, items: Sequence[EvseItem]) -> None:
    """Every EVSE of ``operator`` (else ``ForeignEvse``, 018) and none twice (else
    ``InvalidRequest``, 022), compared in canonical form, listed as sent."""
    foreign = [i.evse_id for i in items if i.operator != operator.canonical_id]
    if foreign:
        raise ForeignEvse(f"EvseID not of operator {operator.partner_id}: {listing(foreign)}")
    shown = {i.canonical_evse_id: i.evse_id for i in items}
    twice = duplicates([i.canonical_evse_id for i in items])
    if twice:
        raise InvalidRequest(f"EvseID given more than once: {listing([shown[t] for t in twice])}")
