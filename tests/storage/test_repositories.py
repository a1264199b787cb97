"""Repositories on both backends: partners with roles, token hashes, ClientInfo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from evroam.core.credentials_tokens import hash_token
from evroam.core.types import (
    BusinessDetails,
    ClientInfo,
    ConnectionStatus,
    CredentialsTokenKind,
    Endpoint,
    InterfaceRole,
    Partner,
    Party,
    Role,
)
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
async def uow(db_url: str) -> AsyncIterator[SqlUnitOfWorkFactory]:
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    yield SqlUnitOfWorkFactory(session_factory(engine))
    await engine.dispose()


def _partner(**kw: object) -> Partner:
    base = dict(
        id=0,
        status=ConnectionStatus.CONNECTED,
        versions_url="https://p.example.com/ocpi/versions",
        version="2.2.1",
        endpoints=[Endpoint("credentials", InterfaceRole.SENDER, "https://p/cred")],
        roles=[
            Party("nl", "abc", Role.CPO, BusinessDetails("ABC", "https://abc.example.com")),
            Party("NL", "ABC", Role.EMSP, BusinessDetails("ABC")),
        ],
        token_out="their-token",
        registered_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        status_changed_at=NOW,
    )
    base.update(kw)
    return Partner(**base)  # type: ignore[arg-type]


async def test_partner_round_trip_keeps_everything(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        added = await u.partners.add(_partner())
        await u.commit()
    async with uow() as u:
        loaded = await u.partners.get(added.id)
    assert loaded is not None
    assert loaded.roles == added.roles
    assert loaded.roles[0].key == ("NL", "ABC")
    assert loaded.endpoints == added.endpoints
    assert loaded.token_out == "their-token"
    assert loaded.registered_at == NOW
    assert loaded.registered


async def test_find_by_party_is_case_insensitive(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        added = await u.partners.add(_partner())
        await u.commit()
    async with uow() as u:
        found = await u.partners.find_by_party("nl", "Abc")
        missing = await u.partners.find_by_party("NL", "XYZ")
    assert found is not None and found.id == added.id
    assert missing is None


async def test_uncommitted_changes_are_rolled_back(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.partners.add(_partner())
    async with uow() as u:
        assert await u.partners.list() == []


async def test_token_hashes_find_and_revoke(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        p = await u.partners.add(_partner())
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.A, hash_token("a"))
        await u.credentials_tokens.add(p.id, CredentialsTokenKind.AUTH, hash_token("c"))
        await u.commit()
    async with uow() as u:
        assert await u.credentials_tokens.find([hash_token("zzz"), hash_token("c")]) == (
            p.id,
            CredentialsTokenKind.AUTH,
            hash_token("c"),
        )
        await u.credentials_tokens.revoke(p.id, CredentialsTokenKind.A)
        await u.commit()
    async with uow() as u:
        assert await u.credentials_tokens.find([hash_token("a")]) is None
        await u.credentials_tokens.revoke(p.id)
        await u.commit()
    async with uow() as u:
        assert await u.credentials_tokens.find([hash_token("c")]) is None


async def test_touch_updates_contact_and_status(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        p = await u.partners.add(_partner(status=ConnectionStatus.OFFLINE))
        await u.commit()
    later = datetime(2026, 1, 3, tzinfo=UTC)
    async with uow() as u:
        await u.partners.touch(p.id, later, ConnectionStatus.CONNECTED)
        await u.commit()
    async with uow() as u:
        loaded = await u.partners.get(p.id)
    assert loaded is not None
    assert loaded.last_connection == later
    assert loaded.status == ConnectionStatus.CONNECTED
    assert loaded.status_changed_at == later


async def test_client_info_upsert(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        hub = await u.partners.add(
            _partner(roles=[Party("NL", "HUB", Role.HUB, BusinessDetails("h"))])
        )
        info = ClientInfo("de", "xyz", Role.CPO, ConnectionStatus.CONNECTED, NOW)
        assert await u.client_infos.upsert(hub.id, info) is True
        assert (
            await u.client_infos.upsert(
                hub.id, ClientInfo("DE", "XYZ", Role.CPO, ConnectionStatus.OFFLINE, NOW)
            )
            is False
        )
        await u.commit()
    async with uow() as u:
        got = await u.client_infos.get(hub.id, "de", "XYZ")
    assert got is not None and got.status == ConnectionStatus.OFFLINE
