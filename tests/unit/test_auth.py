"""OCPI token authentication: header parsing, routing headers, and the token cache (TTL,
single-flight lookups, invalidation, the ``last_connection`` write throttle) on the real
SQLite store with driven clocks."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from evroam.config import Settings
from evroam.core.credentials_tokens import hash_token
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    CredentialsTokenKind,
    Partner,
    Party,
    Role,
)
from evroam.ocpi.common.auth import (
    CACHE_SECONDS,
    TOUCH_EVERY_SECONDS,
    AuthCache,
    Authenticator,
    Caller,
    check_routing_headers,
    parse_authorization,
)
from evroam.ocpi.common.context import OcpiContext
from evroam.ocpi.common.deps import note_contact
from evroam.ocpi.common.errors import InvalidParameters, Unauthorized
from evroam.services.liveness import Liveness
from evroam.services.partner_services import PartnerServices
from evroam.storage.repositories.credentials_tokens import SqlCredentialsTokenRepository
from evroam.storage.repositories.partners import SqlPartnerRepository
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

PARTNER = Partner(
    id=1,
    status=ConnectionStatus.CONNECTED,
    roles=[Party("DE", "ABC", Role.EMSP, BusinessDetails("x"))],
)
CALLER = Caller(partner=PARTNER, kind=CredentialsTokenKind.AUTH, token="t", token_hash="h")
OURS = {("NL", "EVR")}
TOKEN = "token-of-DE-ABC-0123456789"


def header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


# ---------------------------------------------------------------- header and routing rules


@pytest.mark.parametrize("value", [None, "", "Bearer abc", "Token", "Token  ", "x" * 600])
def test_bad_authorization_headers_are_401(value: str | None) -> None:
    with pytest.raises(Unauthorized):
        parse_authorization(value)


def test_token_scheme_is_case_insensitive() -> None:
    assert parse_authorization("token abc!")[0] == "abc!"


def test_routing_headers_absent_are_tolerated() -> None:
    check_routing_headers(CALLER, {}, OURS)


def test_routing_headers_matching_case_insensitively() -> None:
    check_routing_headers(
        CALLER,
        {
            "ocpi-from-country-code": "de",
            "ocpi-from-party-id": "abc",
            "ocpi-to-country-code": "NL",
            "ocpi-to-party-id": "evr",
        },
        OURS,
    )


def test_routing_from_other_party_is_2001() -> None:
    with pytest.raises(InvalidParameters):
        check_routing_headers(
            CALLER, {"ocpi-from-country-code": "DE", "ocpi-from-party-id": "XYZ"}, OURS
        )


def test_routing_to_someone_else_is_2001() -> None:
    with pytest.raises(InvalidParameters):
        check_routing_headers(
            CALLER, {"ocpi-to-country-code": "BE", "ocpi-to-party-id": "EVR"}, OURS
        )


# ---------------------------------------------------------------- AuthCache, driven clock


def test_last_connection_is_due_at_most_every_30_seconds_per_partner() -> None:
    clock = Clock()
    cache = AuthCache(clock=clock.monotonic)
    assert cache.due_for_touch(1)
    assert not cache.due_for_touch(1)
    assert cache.due_for_touch(2), "another partner has its own window"
    clock.advance(TOUCH_EVERY_SECONDS - 0.1)
    assert not cache.due_for_touch(1)
    clock.advance(0.1)
    assert cache.due_for_touch(1)
    assert not cache.due_for_touch(1)


def test_clear_makes_the_next_touch_due_at_once() -> None:
    cache = AuthCache(clock=Clock().monotonic)
    assert cache.due_for_touch(1)
    cache.clear()
    assert cache.due_for_touch(1)


def test_cached_token_expires_after_the_cache_lifetime() -> None:
    clock = Clock()
    cache = AuthCache(clock=clock.monotonic)
    cache.put("h", PARTNER, CredentialsTokenKind.AUTH, cache.generation)
    clock.advance(CACHE_SECONDS - 0.1)
    assert cache.get("h") == (PARTNER, CredentialsTokenKind.AUTH)
    clock.advance(0.2)
    assert cache.get("h") is None


def test_an_answer_from_before_clear_is_not_cached() -> None:
    cache = AuthCache(clock=Clock().monotonic)
    before = cache.generation
    cache.clear()
    cache.put("h", PARTNER, CredentialsTokenKind.AUTH, before)
    assert cache.get("h") is None


# ---------------------------------------------------------------- on the real store


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    async for factory in open_store(tmp_path / "auth.db"):
        yield factory


class FindGate:
    """Holds every token lookup in the store until ``open`` is called."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.event = asyncio.Event()
        self.waiting = 0
        original = SqlCredentialsTokenRepository.find

        async def gated(
            repo: SqlCredentialsTokenRepository, hashes: Sequence[str], now: datetime
        ) -> tuple[int, CredentialsTokenKind, str] | None:
            self.waiting += 1
            await self.event.wait()
            return await original(repo, hashes, now)

        monkeypatch.setattr(SqlCredentialsTokenRepository, "find", gated)

    async def wait_for(self, n: int) -> None:
        """Let the loop run until ``n`` lookups are held (a bounded number of turns)."""
        for _ in range(1000):
            if self.waiting >= n:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"{self.waiting} lookups held, expected {n}")

    def open(self) -> None:
        self.event.set()


async def test_concurrent_requests_with_one_token_cost_one_lookup(
    uow: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = await add_partner(uow, token=TOKEN)
    gate = FindGate(monkeypatch)
    auth = Authenticator(uow, AuthCache())
    tasks = [asyncio.create_task(auth.authenticate(header(TOKEN))) for _ in range(20)]
    await gate.wait_for(1)
    for _ in range(50):  # every other request reaches its wait
        await asyncio.sleep(0)
    gate.open()
    callers = await asyncio.gather(*tasks)
    assert auth.cache.lookups == 1
    assert gate.waiting == 1
    assert {c.partner.id for c in callers} == {partner.id}
    assert {c.token for c in callers} == {TOKEN}


async def test_concurrent_requests_with_an_unknown_token_share_one_refusal(
    uow: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = FindGate(monkeypatch)
    auth = Authenticator(uow, AuthCache())
    tasks = [asyncio.create_task(auth.authenticate(header("nobody-has-this"))) for _ in range(10)]
    await gate.wait_for(1)
    for _ in range(50):
        await asyncio.sleep(0)
    gate.open()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, Unauthorized) for r in results), results
    assert auth.cache.lookups == 1


async def test_a_cached_token_costs_no_lookup_until_it_expires(uow: SqlUnitOfWorkFactory) -> None:
    await add_partner(uow, token=TOKEN)
    clock = Clock()
    auth = Authenticator(uow, AuthCache(clock=clock.monotonic))
    await auth.authenticate(header(TOKEN))
    await auth.authenticate(header(TOKEN))
    assert auth.cache.lookups == 1
    clock.advance(CACHE_SECONDS + 1)
    await auth.authenticate(header(TOKEN))
    assert auth.cache.lookups == 2


async def test_a_revoked_token_is_refused_on_the_next_request_after_a_token_change(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_partner(uow, token=TOKEN)
    cache = AuthCache(clock=Clock().monotonic)
    auth = Authenticator(uow, cache)
    services = PartnerServices.create(context(uow, Clock(), tokens_changed=cache.clear))
    await auth.authenticate(header(TOKEN))  # now cached
    await services.handshake.accept_unregister(partner.id)  # revokes, calls tokens_changed
    with pytest.raises(Unauthorized):
        await auth.authenticate(header(TOKEN))


async def test_without_clear_the_cache_would_still_accept_a_revoked_token(
    uow: SqlUnitOfWorkFactory,
) -> None:
    """The control for the test above: the refusal comes from ``clear``, not from expiry."""
    partner = await add_partner(uow, token=TOKEN)
    auth = Authenticator(uow, AuthCache(clock=Clock().monotonic))
    services = PartnerServices.create(context(uow, Clock()))  # tokens_changed does nothing
    await auth.authenticate(header(TOKEN))
    await services.handshake.accept_unregister(partner.id)
    assert (await auth.authenticate(header(TOKEN))).partner.id == partner.id


async def test_a_lookup_that_started_before_clear_does_not_cache_its_answer(
    uow: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = await add_partner(uow, token=TOKEN)
    cache = AuthCache(clock=Clock().monotonic)
    auth = Authenticator(uow, cache)
    held = asyncio.Event()
    release = asyncio.Event()
    original_get = SqlPartnerRepository.get

    async def slow_get(repo: SqlPartnerRepository, partner_id: int) -> Partner | None:
        # The token was found valid; the answer is not cached yet.
        held.set()
        await release.wait()
        return await original_get(repo, partner_id)

    monkeypatch.setattr(SqlPartnerRepository, "get", slow_get)
    task = asyncio.create_task(auth.authenticate(header(TOKEN)))
    await held.wait()
    async with uow() as u:  # meanwhile the token is revoked, and the cache cleared
        await u.credentials_tokens.revoke(partner.id)
        await u.commit()
    cache.clear()
    release.set()
    await task  # the request in flight was let in (it started before the revocation)
    monkeypatch.setattr(SqlPartnerRepository, "get", original_get)
    assert cache.get(hash_token(TOKEN)) is None
    with pytest.raises(Unauthorized):
        await auth.authenticate(header(TOKEN))


# ---------------------------------------------------------------- last_connection throttle


def ocpi_context(uow: SqlUnitOfWorkFactory, clock: Clock) -> OcpiContext:
    cache = AuthCache(clock=clock.monotonic)
    services = PartnerServices.create(context(uow, clock, tokens_changed=cache.clear))
    return OcpiContext(Settings(), services, Authenticator(uow, cache))


async def request(ctx: OcpiContext, token: str) -> None:
    """What every authenticated OCPI request does first (``deps.get_caller``)."""
    await note_contact(ctx, await ctx.auth.authenticate(header(token)))


async def test_two_requests_within_30_seconds_write_last_connection_once(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_partner(uow, token=TOKEN)
    clock = Clock()
    ctx = ocpi_context(uow, clock)
    await request(ctx, TOKEN)
    assert (await stored(uow, partner.id)).last_connection == T0
    clock.advance(10)
    await request(ctx, TOKEN)
    assert (await stored(uow, partner.id)).last_connection == T0, "written again within 30 s"
    clock.advance(TOUCH_EVERY_SECONDS - 10)
    await request(ctx, TOKEN)
    assert (await stored(uow, partner.id)).last_connection == T0 + timedelta(seconds=30)


async def test_a_call_from_an_offline_partner_is_written_at_once_inside_the_window(
    uow: SqlUnitOfWorkFactory,
) -> None:
    partner = await add_partner(uow, token=TOKEN)
    clock = Clock()
    ctx = ocpi_context(uow, clock)
    await request(ctx, TOKEN)  # CONNECTED, last_connection T0: the 30 s window starts
    clock.advance(1)
    api = ScriptedApi(reachable=False)
    await Liveness(context(uow, clock, api)).check(timedelta(0))
    assert (await stored(uow, partner.id)).status == ConnectionStatus.OFFLINE
    clock.advance(CACHE_SECONDS + 1)  # the cached CONNECTED partner expired; window still open
    await request(ctx, TOKEN)
    back = await stored(uow, partner.id)
    assert back.status == ConnectionStatus.CONNECTED
    assert back.last_connection == back.status_changed_at == T0 + timedelta(seconds=12)


async def test_token_a_does_not_count_as_contact(uow: SqlUnitOfWorkFactory) -> None:
    partner = await add_partner(
        uow, token=TOKEN, kind=CredentialsTokenKind.A, registered=False, last_connection=None
    )
    ctx = ocpi_context(uow, Clock())
    await request(ctx, TOKEN)
    assert (await stored(uow, partner.id)).last_connection is None
