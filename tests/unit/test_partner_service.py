"""The partner use cases on the real store (SQLite and PostgreSQL), with a scripted
partner API whose answers the test can hold, so concurrent paths are raced for real.

The end-to-end tests cover the same flows over HTTP; these pin down the refusals, their
promise that nothing stored changes, and the rules re-checked where the change commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from evroam.core.credentials_tokens import hash_token
from evroam.core.errors import (
    AlreadyRegistered,
    MissingEndpoints,
    NoInvitation,
    NoMutualVersion,
    NotRegistered,
    PartnerUnreachable,
    PartyChangeRefused,
    PartyConflict,
    StillRegistered,
)
from evroam.core.ports import Credentials, VersionRef
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    CredentialsTokenKind,
    Endpoint,
    InterfaceRole,
    Partner,
    Party,
    Role,
)
from evroam.ocpi.common.auth import Caller
from evroam.services.context import PartnerContext
from evroam.services.handshake import Invitation
from evroam.services.partner_services import PartnerServices
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory

OURS = [Party("NL", "EVR", Role.CPO, BusinessDetails("us"))]
THEM = [Party("DE", "ABC", Role.EMSP, BusinessDetails("them"))]
CRED_EP = Endpoint("credentials", InterfaceRole.SENDER, "https://them/ocpi/2.2.1/credentials")


class ScriptedApi:
    """Answers like a well-behaved partner unless told otherwise."""

    def __init__(self) -> None:
        self.versions: list[VersionRef] | Exception = [
            VersionRef("2.2.1", "https://them/ocpi/2.2.1")
        ]
        self.endpoints: list[Endpoint] | Exception = [CRED_EP]
        self.answer_roles = THEM
        self.fail_put: Exception | None = None
        self.calls: list[tuple[str, str]] = []
        # When set, discovery and credentials calls wait for it: a partner slow to answer.
        self.gate: asyncio.Event | None = None
        self.hold_only: str | None = None  # hold only this call ("post", "put", ...)
        self.waiting = 0

    async def _hold(self) -> None:
        kind = self.calls[-1][0]
        if self.gate is not None and self.hold_only in (None, kind):
            self.waiting += 1
            await self.gate.wait()

    def for_partner(self, label: str) -> ScriptedApi:
        return self

    async def get_versions(self, url: str, token: str) -> list[VersionRef]:
        self.calls.append(("versions", token))
        await self._hold()
        if isinstance(self.versions, Exception):
            raise self.versions
        return self.versions

    async def get_version_details(self, url: str, token: str, version: str) -> list[Endpoint]:
        self.calls.append(("details", token))
        if isinstance(self.endpoints, Exception):
            raise self.endpoints
        return self.endpoints

    async def post_credentials(self, url, token, version, credentials) -> Credentials:
        self.calls.append(("post", token))
        await self._hold()
        return Credentials("token-c-from-them", "https://them/ocpi/versions", self.answer_roles)

    async def put_credentials(self, url, token, version, credentials) -> Credentials:
        self.calls.append(("put", token))
        await self._hold()
        if self.fail_put:
            raise self.fail_put
        return Credentials("rotated-by-them", "https://them/ocpi/versions", self.answer_roles)

    async def delete_credentials(self, url, token, version) -> None:
        self.calls.append(("delete", token))


Setup = tuple[PartnerServices, ScriptedApi, SqlUnitOfWorkFactory]


@pytest.fixture
async def setup(db_url: str) -> AsyncIterator[Setup]:
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    api = ScriptedApi()
    services = PartnerServices.create(
        PartnerContext(
            uow=uow,
            api=api,
            own_parties=tuple(OURS),
            versions_url="https://us/ocpi/versions",
            supported_versions=("2.2.1",),
        )
    )
    yield services, api, uow
    await engine.dispose()


async def _post(
    service: PartnerServices,
    partner_id: int,
    token_a: str,
    *,
    roles: list[Party] = THEM,
    token: str = "b",
    url: str = "https://them/ocpi/versions",
) -> Credentials:
    """The partner's credentials POST, as the route hands it to the service."""
    return await service.handshake.accept_registration(
        partner_id, hash_token(token_a), Credentials(token, url, roles), "2.2.1"
    )


async def _token_kind(uow: SqlUnitOfWorkFactory, token: str) -> CredentialsTokenKind | None:
    async with uow(read_only=True) as u:
        found = await u.credentials_tokens.find([hash_token(token)], datetime.now(UTC))
    return found[1] if found else None


async def test_registration_as_receiver_kills_token_a_and_issues_c(setup) -> None:
    service, api, uow = setup
    inv = await service.handshake.invite()
    ours = await _post(service, inv.partner.id, inv.token, token="token-b")
    assert await _token_kind(uow, inv.token) is None
    assert await _token_kind(uow, ours.token) == CredentialsTokenKind.AUTH
    # The partner's endpoints were fetched with token B, never with token A.
    assert {c[1] for c in api.calls} == {"token-b"}
    partner = await service.directory.get(inv.partner.id)
    assert partner.status == ConnectionStatus.CONNECTED and partner.token_out == "token-b"


@pytest.mark.parametrize(
    ("break_it", "error"),
    [
        (lambda api: setattr(api, "versions", PartnerUnreachable("down")), PartnerUnreachable),
        (lambda api: setattr(api, "versions", [VersionRef("2.1.1", "https://x")]), NoMutualVersion),
        (lambda api: setattr(api, "endpoints", []), MissingEndpoints),
    ],
)
async def test_failed_registration_stores_nothing(setup, break_it, error) -> None:
    service, api, uow = setup
    inv = await service.handshake.invite()
    break_it(api)
    with pytest.raises(error):
        await _post(service, inv.partner.id, inv.token, token="token-b")
    partner = await service.directory.get(inv.partner.id)
    assert partner.status == ConnectionStatus.PLANNED and partner.roles == []
    assert await _token_kind(uow, inv.token) == CredentialsTokenKind.A


async def test_two_concurrent_registrations_with_one_token_a_register_once(setup) -> None:
    """Both POSTs pass the early checks and wait in discovery; only the transaction that
    consumes token A first commits, the other finds it spent (the spent-token-A path)."""
    service, api, uow = setup
    inv = await service.handshake.invite()
    api.gate = asyncio.Event()
    first = asyncio.create_task(_post(service, inv.partner.id, inv.token, token="b1"))
    second = asyncio.create_task(_post(service, inv.partner.id, inv.token, token="b2"))
    while api.waiting < 2:
        await asyncio.sleep(0)
    api.gate.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    winners = [r for r in results if isinstance(r, Credentials)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], AlreadyRegistered) and "already used" in str(losers[0])
    partner = await service.directory.get(inv.partner.id)
    assert partner.status == ConnectionStatus.CONNECTED
    assert await _token_kind(uow, winners[0].token) == CredentialsTokenKind.AUTH
    assert await _token_kind(uow, inv.token) is None


async def test_two_partners_claiming_one_party_at_once_register_once(setup) -> None:
    """Two invitations, both registering DE-ABC at the same moment: the party claim in
    the committing transaction lets exactly one through; the other is refused clearly and
    keeps nothing (its token A still works, it holds no party)."""
    service, api, uow = setup
    one, two = await service.handshake.invite(), await service.handshake.invite()
    api.gate = asyncio.Event()
    tasks = [
        asyncio.create_task(_post(service, inv.partner.id, inv.token, token=f"b{i}"))
        for i, inv in enumerate((one, two))
    ]
    while api.waiting < 2:
        await asyncio.sleep(0)
    api.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Credentials", "PartyConflict"]
    loser = (one, two)[[isinstance(r, PartyConflict) for r in results].index(True)]
    partner = await service.directory.get(loser.partner.id)
    assert partner.status == ConnectionStatus.PLANNED and partner.roles == []
    assert await _token_kind(uow, loser.token) == CredentialsTokenKind.A
    async with uow(read_only=True) as u:
        holder = await u.party_claims.holder("DE", "ABC")
    assert holder is not None and holder != loser.partner.id


async def test_partner_update_in_flight_does_not_undo_a_reset(setup) -> None:
    """The partner's PUT waits in its callbacks while the operator resets: the reset wins,
    the update changes nothing and issues no token."""
    service, api, uow = setup
    inv = await service.handshake.invite()
    ours = await _post(service, inv.partner.id, inv.token)
    api.gate = asyncio.Event()
    update = asyncio.create_task(
        service.handshake.accept_update(
            inv.partner.id,
            hash_token(ours.token),
            Credentials("b2", "https://them/ocpi/versions", THEM),
            "2.2.1",
        )
    )
    while api.waiting < 1:
        await asyncio.sleep(0)
    again = await service.lifecycle.reset(inv.partner.id)
    api.gate.set()
    with pytest.raises(NotRegistered):
        await update
    partner = await service.directory.get(inv.partner.id)
    assert partner.status == ConnectionStatus.PLANNED and partner.token_out is None
    async with uow(read_only=True) as u:
        rows = (await u.session.execute(text("select kind from credentials_token"))).all()
    assert [r[0] for r in rows] == ["A"]
    assert await _token_kind(uow, again.token) == CredentialsTokenKind.A


async def test_register_rechecks_the_party_in_the_committing_transaction(setup) -> None:
    """We register with a partner claiming DE-ABC; while its answer is in flight another
    partner registers DE-ABC with us. Our registration is refused when it commits, and the
    partner is told (DELETE) so it does not keep a half-made registration."""
    service, api, _uow = setup
    gate = asyncio.Event()
    api.gate, api.hold_only = gate, "post"
    ours = asyncio.create_task(service.handshake.register("https://them/ocpi/versions", "tok-a"))
    while api.waiting < 1:
        await asyncio.sleep(0)
    # Our POST is at the partner now; meanwhile another partner registers DE-ABC with us.
    api.gate = None
    other = await service.handshake.invite()
    await _post(service, other.partner.id, other.token, url="https://other/ocpi/versions")
    gate.set()
    with pytest.raises(PartyConflict):
        await ours
    assert ("delete", "token-c-from-them") in api.calls
    assert [p.id for p in await service.directory.list()] == [other.partner.id]


async def test_token_a_expires(setup) -> None:
    service, _api, uow = setup
    old = replace(service.handshake.ctx, clock=lambda: datetime.now(UTC) - timedelta(days=31))
    inv = await PartnerServices.create(old).handshake.invite()
    assert await _token_kind(uow, inv.token) is None
    fresh = await service.handshake.invite()
    assert await _token_kind(uow, fresh.token) == CredentialsTokenKind.A


async def test_token_a_is_revoked_after_repeated_failed_registrations(setup) -> None:
    service, api, uow = setup
    inv = await service.handshake.invite()
    api.versions = PartnerUnreachable("down")
    for _ in range(service.handshake.ctx.max_registration_attempts - 1):
        with pytest.raises(PartnerUnreachable):
            await _post(service, inv.partner.id, inv.token)
    assert await _token_kind(uow, inv.token) == CredentialsTokenKind.A
    with pytest.raises(PartnerUnreachable):
        await _post(service, inv.partner.id, inv.token)
    assert await _token_kind(uow, inv.token) is None


async def test_uninvite_and_delete(setup) -> None:
    service, _api, uow = setup
    inv = await service.handshake.invite()
    assert await service.lifecycle.uninvite(inv.partner.id) is None
    assert await _token_kind(uow, inv.token) is None
    assert await service.directory.list() == []
    registered = await service.handshake.invite()
    await _post(service, registered.partner.id, registered.token)
    with pytest.raises(StillRegistered):
        await service.lifecycle.delete(registered.partner.id)
    with pytest.raises(NoInvitation):
        await service.lifecycle.uninvite(registered.partner.id)


def test_secrets_are_hidden_from_reprs() -> None:
    partner = Partner(id=1, status=ConnectionStatus.CONNECTED, token_out="their-secret")
    inv = Invitation(partner=partner, token="token-a-secret", versions_url="https://x")
    creds = Credentials("credentials-secret", "https://x", THEM)
    caller = Caller(partner, CredentialsTokenKind.AUTH, "caller-secret", "hash-secret")
    for text_ in (repr(partner), repr(inv), repr(creds), repr(caller)):
        assert "secret" not in text_


async def test_party_change_on_update_is_refused_and_changes_nothing(setup) -> None:
    service, _api, uow = setup
    inv = await service.handshake.invite()
    ours = await _post(service, inv.partner.id, inv.token)
    other = [Party("DE", "XYZ", Role.EMSP, BusinessDetails("them"))]
    with pytest.raises(PartyChangeRefused, match="DE-ABC"):
        await service.handshake.accept_update(
            inv.partner.id,
            hash_token(ours.token),
            Credentials("b2", "https://them/ocpi/versions", other),
            "2.2.1",
        )
    partner = await service.directory.get(inv.partner.id)
    assert partner.roles == THEM and partner.token_out == "b"
    assert await _token_kind(uow, ours.token) == CredentialsTokenKind.AUTH


async def test_party_held_by_another_partner_is_refused(setup) -> None:
    service, _api, _uow = setup
    first = await service.handshake.invite()
    await _post(service, first.partner.id, first.token)
    second = await service.handshake.invite()
    with pytest.raises(PartyConflict):
        await _post(
            service, second.partner.id, second.token, token="b2", url="https://them2/ocpi/versions"
        )
    with pytest.raises(PartyConflict):
        await _post(
            service,
            second.partner.id,
            second.token,
            roles=OURS,
            token="b2",
            url="https://them2/ocpi/versions",
        )


async def test_register_as_initiator_never_stores_token_a(setup) -> None:
    service, api, uow = setup
    partner = await service.handshake.register("https://them/ocpi/versions", "token-a")
    assert partner.token_out == "token-c-from-them"
    assert partner.initiated_by_us and partner.status == ConnectionStatus.CONNECTED
    assert await _token_kind(uow, "token-a") is None
    assert [c for c in api.calls if c[0] == "post"] == [("post", "token-a")]


async def test_register_with_down_partner_leaves_nothing(setup) -> None:
    service, api, _uow = setup
    api.versions = PartnerUnreachable("connection refused")
    with pytest.raises(PartnerUnreachable):
        await service.handshake.register("https://them/ocpi/versions", "token-a")
    assert await service.directory.list() == []


async def test_failed_rotation_keeps_old_tokens(setup) -> None:
    service, api, uow = setup
    inv = await service.handshake.invite()
    ours = await _post(service, inv.partner.id, inv.token)
    api.fail_put = PartnerUnreachable("timeout")
    with pytest.raises(PartnerUnreachable):
        await service.lifecycle.rotate(inv.partner.id)
    assert (await service.directory.get(inv.partner.id)).token_out == "b"
    assert await _token_kind(uow, ours.token) == CredentialsTokenKind.AUTH
    async with uow() as u:
        rows = (await u.session.execute(text("select token_hash from credentials_token"))).all()
    assert [r[0] for r in rows] == [hash_token(ours.token)]


async def test_rotation_replaces_both_tokens(setup) -> None:
    service, api, uow = setup
    inv = await service.handshake.invite()
    ours = await _post(service, inv.partner.id, inv.token)
    partner = await service.lifecycle.rotate(inv.partner.id)
    assert partner.token_out == "rotated-by-them"
    assert await _token_kind(uow, ours.token) is None
    assert ("put", "b") in api.calls


async def test_reset_revokes_everything_and_issues_token_a(setup) -> None:
    service, _api, uow = setup
    inv = await service.handshake.invite()
    ours = await _post(service, inv.partner.id, inv.token)
    again = await service.lifecycle.reset(inv.partner.id)
    assert await _token_kind(uow, ours.token) is None
    assert await _token_kind(uow, again.token) == CredentialsTokenKind.A
    partner = await service.directory.get(inv.partner.id)
    assert partner.status == ConnectionStatus.PLANNED and partner.token_out is None
    # Coming back as someone else is refused.
    other = [Party("DE", "XYZ", Role.EMSP, BusinessDetails("them"))]
    with pytest.raises(PartyChangeRefused):
        await _post(service, inv.partner.id, inv.token, roles=other)


async def test_resolve_by_id_or_party(setup) -> None:
    service, _api, _uow = setup
    inv = await service.handshake.invite()
    await _post(service, inv.partner.id, inv.token)
    assert (await service.directory.resolve(str(inv.partner.id))).id == inv.partner.id
    assert (await service.directory.resolve("de-abc")).id == inv.partner.id


async def test_register_refused_after_the_partner_answered_is_undone_at_the_partner(
    setup,
) -> None:
    service, api, _uow = setup
    api.answer_roles = OURS  # the partner claims to be us
    with pytest.raises(PartyConflict):
        await service.handshake.register("https://them/ocpi/versions", "token-a")
    assert await service.directory.list() == []
    assert ("delete", "token-c-from-them") in api.calls
