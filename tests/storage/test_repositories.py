"""Repositories on both backends: partners with roles, token hashes, party claims,
ClientInfo, quirks."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from evroam.core.credentials_tokens import hash_token
from evroam.core.errors import PartyConflict
from evroam.core.types import (
    ClientInfo,
    ConnectionStatus,
    CredentialsTokenKind,
    Quirk,
    Role,
)
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW, make_partner, party

# --- partners ---------------------------------------------------------------------------


async def test_partner_round_trip_keeps_everything(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        added = await u.partners.add(make_partner(pending_since=NOW, notice="check token B"))
        await u.commit()
    async with uow(read_only=True) as u:
        loaded = await u.partners.get(added.id)
    assert loaded is not None
    assert loaded.roles == added.roles
    assert loaded.roles[0].key == ("NL", "ABC")
    assert loaded.endpoints == added.endpoints
    assert loaded.token_out == "their-token"
    assert loaded.registered_at == NOW
    assert loaded.pending_since == NOW
    assert loaded.notice == "check token B"
    assert loaded.registered


async def test_save_sets_and_clears_pending_since_and_notice(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        p = await u.partners.add(make_partner())
        p.pending_since, p.notice = NOW, "registration in flight"
        await u.partners.save(p)
        await u.commit()
    async with uow() as u:
        loaded = await u.partners.get(p.id)
        assert loaded is not None
        assert (loaded.pending_since, loaded.notice) == (NOW, "registration in flight")
        loaded.pending_since = loaded.notice = None
        await u.partners.save(loaded)
        await u.commit()
    async with uow(read_only=True) as u:
        cleared = await u.partners.get(p.id)
    assert cleared is not None and (cleared.pending_since, cleared.notice) == (None, None)


async def test_list_pending_returns_only_partners_with_a_registration_in_flight(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as u:
        await u.partners.add(make_partner())
        pending = await u.partners.add(make_partner(roles=[party("DE", "PND")], pending_since=NOW))
        await u.commit()
    async with uow(read_only=True) as u:
        listed = await u.partners.list_pending()
    assert [p.id for p in listed] == [pending.id]
    assert listed[0].roles == [party("DE", "PND")]


async def test_find_by_party_is_case_insensitive(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        added = await u.partners.add(make_partner())
        await u.commit()
    async with uow(read_only=True) as u:
        found = await u.partners.find_by_party("nl", "Abc")
        missing = await u.partners.find_by_party("NL", "XYZ")
    assert found is not None and found.id == added.id
    assert missing is None


async def test_uncommitted_changes_are_rolled_back(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.partners.add(make_partner())
    async with uow(read_only=True) as u:
        assert await u.partners.list() == []


async def test_touch_updates_contact_and_status(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        p = await u.partners.add(make_partner(status=ConnectionStatus.OFFLINE))
        await u.commit()
    later = NOW + timedelta(days=1)
    async with uow() as u:
        await u.partners.touch(p.id, later, ConnectionStatus.CONNECTED)
        await u.commit()
    async with uow(read_only=True) as u:
        loaded = await u.partners.get(p.id)
    assert loaded is not None
    assert loaded.last_connection == later
    assert loaded.status == ConnectionStatus.CONNECTED
    assert loaded.status_changed_at == later


# --- credentials tokens -----------------------------------------------------------------


async def test_token_hashes_find_and_revoke(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        p = await u.partners.add(make_partner())
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.A, hash_token("a"))
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.AUTH, hash_token("c"))
        await u.commit()
    async with uow() as u:
        assert await u.credentials_tokens.find([hash_token("zzz"), hash_token("c")], NOW) == (
            p.id,
            CredentialsTokenKind.AUTH,
            hash_token("c"),
        )
        await u.credentials_tokens.revoke(p.id, CredentialsTokenKind.A)
        await u.commit()
    async with uow() as u:
        assert await u.credentials_tokens.find([hash_token("a")], NOW) is None
        await u.credentials_tokens.revoke(p.id)
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.credentials_tokens.find([hash_token("c")], NOW) is None


async def test_token_is_found_until_it_expires(uow: SqlUnitOfWorkFactory) -> None:
    expires = NOW + timedelta(hours=1)
    async with uow() as u:
        p = await u.partners.add(make_partner())
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.A, hash_token("a"), expires)
        await u.commit()
    async with uow(read_only=True) as u:
        tokens = u.credentials_tokens
        before = expires - timedelta(microseconds=1)
        assert await tokens.find([hash_token("a")], before) is not None
        assert await tokens.find([hash_token("a")], expires) is None
        assert await tokens.find([hash_token("a")], expires + timedelta(days=1)) is None
        # Compared as instants, not as the text SQLite stores: an offset changes nothing.
        plus_two = before.astimezone(timezone(timedelta(hours=2)))
        assert await tokens.find([hash_token("a")], plus_two) is not None


async def test_count_failure_counts_per_token_and_survives_commits(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as u:
        p = await u.partners.add(make_partner())
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.A, hash_token("a"))
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.AUTH, hash_token("c"))
        await u.commit()
    for expected in (1, 2, 3):
        async with uow() as u:
            assert await u.credentials_tokens.count_failure(hash_token("a")) == expected
            await u.commit()
    async with uow() as u:
        assert await u.credentials_tokens.count_failure(hash_token("c")) == 1
        assert await u.credentials_tokens.count_failure(hash_token("unknown")) == 0


async def test_has_kind(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        p = await u.partners.add(make_partner())
        other = await u.partners.add(make_partner(roles=[party("DE", "OTH")]))
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.A, hash_token("a"))
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.credentials_tokens.has_kind(p.id, CredentialsTokenKind.A)
        assert not await u.credentials_tokens.has_kind(p.id, CredentialsTokenKind.AUTH)
        assert not await u.credentials_tokens.has_kind(other.id, CredentialsTokenKind.A)


# --- party claims -----------------------------------------------------------------------


async def test_claim_upper_cases_keeps_own_and_refuses_another_holder(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as u:
        a = await u.partners.add(make_partner())
        b = await u.partners.add(make_partner(roles=[party("DE", "BBB")]))
        await u.party_claims.claim(a.id, [("nl", "abc")])
        await u.commit()
    async with uow() as u:
        # Claiming again what it holds, plus a new one: fine.
        await u.party_claims.claim(a.id, [("NL", "ABC"), ("nl", "Abd"), ("NL", "ABD")])
        await u.commit()
    async with uow() as u:
        with pytest.raises(PartyConflict, match="party NL-ABC is already registered"):
            await u.party_claims.claim(b.id, [("DE", "BBB"), ("nl", "abc")])
        # The session is still usable, and the refused call left nothing behind.
        await u.party_claims.claim(b.id, [("DE", "BBC")])
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.party_claims.holder("nl", "abc") == a.id
        assert await u.party_claims.holder("NL", "ABD") == a.id
        assert await u.party_claims.holder("DE", "BBB") is None
        assert await u.party_claims.holder("DE", "BBC") == b.id


async def test_release_and_deleting_the_partner_free_its_parties(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as u:
        a = await u.partners.add(make_partner())
        b = await u.partners.add(make_partner(roles=[party("DE", "BBB")]))
        await u.party_claims.claim(a.id, [("NL", "ABC")])
        await u.party_claims.claim(b.id, [("DE", "BBB")])
        await u.commit()
    async with uow() as u:
        await u.party_claims.release(a.id)
        await u.partners.delete(b.id)
        await u.commit()
    async with uow() as u:
        assert await u.party_claims.holder("NL", "ABC") is None
        assert await u.party_claims.holder("DE", "BBB") is None
        await u.party_claims.claim(a.id, [("DE", "BBB")])
        await u.commit()


# --- hub client info --------------------------------------------------------------------


async def test_client_info_upsert_created_updated_stale(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        hub = await u.partners.add(make_partner(roles=[party("NL", "HUB", Role.HUB)]))
        info = ClientInfo("de", "xyz", Role.CPO, ConnectionStatus.CONNECTED, NOW)
        assert await u.client_infos.upsert(hub.id, info) == "created"
        equal = ClientInfo("DE", "XYZ", Role.CPO, ConnectionStatus.OFFLINE, NOW)
        assert await u.client_infos.upsert(hub.id, equal) == "updated"
        await u.commit()
    older = ClientInfo(
        "DE", "XYZ", Role.CPO, ConnectionStatus.PLANNED, NOW - timedelta(microseconds=1)
    )
    async with uow() as u:
        assert await u.client_infos.upsert(hub.id, older) == "stale"
        await u.commit()
    async with uow(read_only=True) as u:
        got = await u.client_infos.get(hub.id, "de", "XYZ")
    assert got is not None and got.status == ConnectionStatus.OFFLINE
    newer = ClientInfo("DE", "XYZ", Role.CPO, ConnectionStatus.SUSPENDED, NOW + timedelta(1))
    async with uow() as u:
        assert await u.client_infos.upsert(hub.id, newer) == "updated"
        assert await u.client_infos.get(hub.id, "DE", "XYZ") == newer
        await u.commit()


async def test_client_info_list_is_per_hub_and_ordered(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        hub = await u.partners.add(make_partner(roles=[party("NL", "HUB", Role.HUB)]))
        other = await u.partners.add(make_partner(roles=[party("NL", "HUC", Role.HUB)]))
        for cc, pid in [("NL", "BBB"), ("DE", "ZZZ"), ("NL", "AAA")]:
            info = ClientInfo(cc, pid, Role.CPO, ConnectionStatus.CONNECTED, NOW)
            await u.client_infos.upsert(hub.id, info)
        await u.client_infos.upsert(
            other.id, ClientInfo("BE", "OTH", Role.EMSP, ConnectionStatus.CONNECTED, NOW)
        )
        await u.commit()
    async with uow(read_only=True) as u:
        listed = await u.client_infos.list(hub.id)
    assert [(i.country_code, i.party_id) for i in listed] == [
        ("DE", "ZZZ"),
        ("NL", "AAA"),
        ("NL", "BBB"),
    ]


# --- interop quirks ---------------------------------------------------------------------


async def test_quirks_remember_replaces_by_host_kind_key(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.quirks.remember(Quirk("b.example.com", "raw-token", "", "1"))
        await u.quirks.remember(Quirk("a.example.com", "rewrite", "/x", "https://a/1"))
        await u.commit()
    async with uow() as u:
        await u.quirks.remember(Quirk("a.example.com", "rewrite", "/x", "https://a/2"))
        await u.quirks.remember(Quirk("a.example.com", "rewrite", "/y", "https://a/3"))
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.quirks.all() == [
            Quirk("a.example.com", "rewrite", "/x", "https://a/2"),
            Quirk("a.example.com", "rewrite", "/y", "https://a/3"),
            Quirk("b.example.com", "raw-token", "", "1"),
        ]
