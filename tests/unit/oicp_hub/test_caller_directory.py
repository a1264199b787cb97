"""The hub's memory of which partner a client certificate is (``CallerDirectory``):
found partners are kept for the time-to-live and forgotten on ``clear``; a certificate of
no partner is never remembered, so a partner added a moment later is found at once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from evroam.core.oicp import OicpPartner, OicpRole
from evroam.oicp.v2_3.deps import CallerDirectory

CPO = OicpPartner(
    partner_id="DE*ABC",
    canonical_id="DEABC",
    roles=frozenset({OicpRole.CPO}),
    cert_identity="DEABC",
)


class Store:
    """The partners table as the lookup sees it, counting the transactions opened."""

    def __init__(self) -> None:
        self.partners: list[OicpPartner] = []
        self.reads = 0

    async def by_cert_identity(self, identities: Sequence[str]) -> list[OicpPartner]:
        return [p for p in self.partners if p.cert_identity in identities]

    def uow(self, read_only: bool = False) -> Any:
        @contextlib.asynccontextmanager
        async def unit() -> AsyncIterator[Any]:
            self.reads += 1
            yield self

        return unit()

    @property
    def oicp_partners(self) -> Store:
        return self


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_found_partner_is_read_once_per_time_to_live() -> None:
    store, clock = Store(), Clock()
    store.partners.append(CPO)
    directory = CallerDirectory(store.uow, ttl=5.0, clock=clock)
    for _ in range(3):
        assert await directory.partners(["DEABC"]) == (CPO,)
    assert store.reads == 1
    clock.now += 5.0
    store.partners.clear()  # removed by another process: seen once the time is up
    assert await directory.partners(["DEABC"]) == ()
    assert store.reads == 2


async def test_an_unknown_certificate_is_looked_up_every_time() -> None:
    store, clock = Store(), Clock()
    directory = CallerDirectory(store.uow, ttl=5.0, clock=clock)
    assert await directory.partners(["DEABC"]) == ()
    store.partners.append(CPO)
    assert await directory.partners(["DEABC"]) == (CPO,)
    assert store.reads == 2


async def test_clear_forgets_and_ttl_zero_remembers_nothing() -> None:
    store, clock = Store(), Clock()
    store.partners.append(CPO)
    directory = CallerDirectory(store.uow, ttl=5.0, clock=clock)
    await directory.partners(["DEABC"])
    directory.clear()
    await directory.partners(["DEABC"])
    assert store.reads == 2
    off = CallerDirectory(store.uow, ttl=0, clock=clock)
    await off.partners(["DEABC"])
    await off.partners(["DEABC"])
    assert store.reads == 4
