"""Connection status follows reality (``services/liveness.py``), with a driven clock, a
scripted partner API and the real SQLite store: ``check`` is called directly, so nothing
waits for a background loop. The loop itself is shown once, in
``tests/integration/test_liveness.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from evroam.core.types import ConnectionStatus
from evroam.services.liveness import Liveness
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.unit.partner_store import (
    T0,
    Clock,
    ScriptedApi,
    add_partner,
    context,
    open_store,
    stored,
)

SILENCE = timedelta(seconds=300)


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    async for factory in open_store(tmp_path / "liveness.db"):
        yield factory


async def test_a_silent_partner_that_stops_answering_goes_offline_and_comes_back(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_partner(uow, last_connection=T0)
    clock, api = Clock(), ScriptedApi(reachable=False)
    liveness = Liveness(context(uow, clock, api))

    clock.advance(301)
    assert await liveness.check(SILENCE) == {partner.id: ConnectionStatus.OFFLINE}
    offline = await stored(uow, partner.id)
    assert offline.status == ConnectionStatus.OFFLINE
    assert offline.status_changed_at == T0 + timedelta(seconds=301)
    assert offline.last_connection == T0, "a failed ping is not contact"
    assert offline.registered, "offline is not gone: the registration stays"

    clock.advance(60)
    api.reachable = True
    assert await liveness.check(SILENCE) == {partner.id: ConnectionStatus.CONNECTED}
    back = await stored(uow, partner.id)
    assert back.status == ConnectionStatus.CONNECTED
    assert back.last_connection == back.status_changed_at == T0 + timedelta(seconds=361)


async def test_the_ping_is_a_versions_get_with_the_partners_token(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_partner(uow, last_connection=T0, token_out="their-token-xyz")
    clock, api = Clock(), ScriptedApi()
    clock.advance(301)
    await Liveness(context(uow, clock, api)).check(SILENCE)
    assert api.pings == [(partner.versions_url, "their-token-xyz")]


async def test_a_partner_heard_from_within_the_silence_is_not_pinged(
    uow: SqlUnitOfWorkFactory,
) -> None:
    await add_partner(uow, last_connection=T0)
    clock, api = Clock(), ScriptedApi(reachable=False)
    liveness = Liveness(context(uow, clock, api))
    clock.advance(299)
    assert await liveness.check(SILENCE) == {}
    assert api.pings == []
    clock.advance(2)
    assert len(await liveness.check(SILENCE)) == 1
    assert len(api.pings) == 1


async def test_invited_and_suspended_partners_are_not_pinged(uow: SqlUnitOfWorkFactory) -> None:
    invited = await add_partner(
        uow,
        party=("NL", "INV"),
        status=ConnectionStatus.PLANNED,
        registered=False,
        last_connection=None,
        token_out=None,
    )
    suspended = await add_partner(
        uow, party=("NL", "SUS"), status=ConnectionStatus.SUSPENDED, token_out=None
    )
    clock, api = Clock(), ScriptedApi(reachable=False)
    clock.advance(10_000)
    assert await Liveness(context(uow, clock, api)).check(SILENCE) == {}
    assert api.pings == []
    assert (await stored(uow, invited.id)).status == ConnectionStatus.PLANNED
    assert (await stored(uow, suspended.id)).status == ConnectionStatus.SUSPENDED


async def test_a_call_from_the_partner_during_a_failing_ping_keeps_it_connected(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """The ping started, the partner called us, then the ping failed: the failure is older
    than the contact and must not mark the partner OFFLINE."""
    partner = await add_partner(uow, last_connection=T0)
    clock = Clock()
    api = ScriptedApi(reachable=False)
    liveness = Liveness(context(uow, clock, api))

    async def partner_calls_us_meanwhile() -> None:
        clock.advance(1)
        await liveness.record_contact(partner.id, True)

    api.during_ping = partner_calls_us_meanwhile
    clock.advance(301)
    await liveness.check(SILENCE)
    now = await stored(uow, partner.id)
    assert now.status == ConnectionStatus.CONNECTED
    assert now.last_connection == T0 + timedelta(seconds=302)


async def test_a_call_from_an_offline_partner_brings_it_back_at_once(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_partner(uow, status=ConnectionStatus.OFFLINE, last_connection=T0)
    clock = Clock()
    clock.advance(5)
    await Liveness(context(uow, clock)).record_contact(partner.id, True)
    now = await stored(uow, partner.id)
    assert now.status == ConnectionStatus.CONNECTED
    assert now.last_connection == now.status_changed_at == T0 + timedelta(seconds=5)


async def test_contact_does_not_revive_an_unregistered_partner(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_partner(uow, status=ConnectionStatus.SUSPENDED, token_out=None)
    clock = Clock()
    await Liveness(context(uow, clock)).record_contact(partner.id, True)
    assert (await stored(uow, partner.id)).status == ConnectionStatus.SUSPENDED
