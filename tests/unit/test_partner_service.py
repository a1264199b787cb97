"""PartnerService rules on the real SQLite store, with a scripted partner API.

The end-to-end tests cover the same flows over HTTP; these pin down the refusals and
their promise that nothing stored changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from evroam.core.credentials_tokens import hash_token
from evroam.core.errors import (
    AlreadyRegistered,
    MissingEndpoints,
    NoMutualVersion,
    PartnerUnreachable,
    PartyChangeRefused,
    PartyConflict,
)
from evroam.core.ports import Credentials, VersionRef
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    CredentialsTokenKind,
    Endpoint,
    InterfaceRole,
    Party,
    Role,
)
from evroam.services.partners import PartnerService
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

    def for_partner(self, label: str) -> ScriptedApi:
        return self

    async def get_versions(self, url: str, token: str) -> list[VersionRef]:
        self.calls.append(("versions", token))
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
        return Credentials("token-c-from-them", "https://them/ocpi/versions", self.answer_roles)

    async def put_credentials(self, url, token, version, credentials) -> Credentials:
        self.calls.append(("put", token))
        if self.fail_put:
            raise self.fail_put
        return Credentials("rotated-by-them", "https://them/ocpi/versions", self.answer_roles)

    async def delete_credentials(self, url, token, version) -> None:
        self.calls.append(("delete", token))


@pytest.fixture
async def setup(
    tmp_path: Path,
) -> AsyncIterator[tuple[PartnerService, ScriptedApi, SqlUnitOfWorkFactory]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    api = ScriptedApi()
    service = PartnerService(
        uow,
        api,
        own_parties=OURS,
        versions_url="https://us/ocpi/versions",
        supported_versions=["2.2.1"],
    )
    yield service, api, uow
    await engine.dispose()


async def _post(
    service: PartnerService,
    partner_id: int,
    *,
    roles: list[Party] = THEM,
    token: str = "b",
    url: str = "https://them/ocpi/versions",
    kind: CredentialsTokenKind = CredentialsTokenKind.A,
) -> Credentials:
    """The partner's credentials POST, as the route hands it to the service."""
    return await service.accept_registration(
        partner_id, kind, Credentials(token, url, roles), "2.2.1"
    )


async def _token_kind(uow: SqlUnitOfWorkFactory, token: str) -> CredentialsTokenKind | None:
    async with uow() as u:
        found = await u.credentials_tokens.find([hash_token(token)])
    return found[1] if found else None


async def test_registration_as_receiver_kills_token_a_and_issues_c(setup) -> None:
    service, api, uow = setup
    inv = await service.invite()
    ours = await _post(service, inv.partner.id, token="token-b")
    assert await _token_kind(uow, inv.token) is None
    assert await _token_kind(uow, ours.token) == CredentialsTokenKind.AUTH
    # The partner's endpoints were fetched with token B, never with token A.
    assert {c[1] for c in api.calls} == {"token-b"}
    partner = await service.get(inv.partner.id)
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
    inv = await service.invite()
    break_it(api)
    with pytest.raises(error):
        await _post(service, inv.partner.id, token="token-b")
    partner = await service.get(inv.partner.id)
    assert partner.status == ConnectionStatus.PLANNED and partner.roles == []
    assert await _token_kind(uow, inv.token) == CredentialsTokenKind.A


async def test_second_registration_is_refused(setup) -> None:
    service, _api, _uow = setup
    inv = await service.invite()
    await _post(service, inv.partner.id)
    with pytest.raises(AlreadyRegistered):
        await _post(service, inv.partner.id, kind=CredentialsTokenKind.AUTH)


async def test_party_change_on_update_is_refused_and_changes_nothing(setup) -> None:
    service, _api, uow = setup
    inv = await service.invite()
    ours = await _post(service, inv.partner.id)
    other = [Party("DE", "XYZ", Role.EMSP, BusinessDetails("them"))]
    with pytest.raises(PartyChangeRefused, match="DE-ABC"):
        await service.accept_update(
            inv.partner.id, Credentials("b2", "https://them/ocpi/versions", other), "2.2.1"
        )
    partner = await service.get(inv.partner.id)
    assert partner.roles == THEM and partner.token_out == "b"
    assert await _token_kind(uow, ours.token) == CredentialsTokenKind.AUTH


async def test_party_held_by_another_partner_is_refused(setup) -> None:
    service, _api, _uow = setup
    first = await service.invite()
    await _post(service, first.partner.id)
    second = await service.invite()
    with pytest.raises(PartyConflict):
        await _post(service, second.partner.id, token="b2", url="https://them2/ocpi/versions")
    with pytest.raises(PartyConflict):
        await _post(
            service, second.partner.id, roles=OURS, token="b2", url="https://them2/ocpi/versions"
        )


async def test_register_as_initiator_never_stores_token_a(setup) -> None:
    service, api, uow = setup
    partner = await service.register("https://them/ocpi/versions", "token-a")
    assert partner.token_out == "token-c-from-them"
    assert partner.initiated_by_us and partner.status == ConnectionStatus.CONNECTED
    assert await _token_kind(uow, "token-a") is None
    assert [c for c in api.calls if c[0] == "post"] == [("post", "token-a")]


async def test_register_with_down_partner_leaves_nothing(setup) -> None:
    service, api, _uow = setup
    api.versions = PartnerUnreachable("connection refused")
    with pytest.raises(PartnerUnreachable):
        await service.register("https://them/ocpi/versions", "token-a")
    assert await service.list() == []


async def test_failed_rotation_keeps_old_tokens(setup) -> None:
    service, api, uow = setup
    inv = await service.invite()
    ours = await _post(service, inv.partner.id)
    api.fail_put = PartnerUnreachable("timeout")
    with pytest.raises(PartnerUnreachable):
        await service.rotate(inv.partner.id)
    assert (await service.get(inv.partner.id)).token_out == "b"
    assert await _token_kind(uow, ours.token) == CredentialsTokenKind.AUTH
    async with uow() as u:
        rows = (await u.session.execute(text("select token_hash from credentials_token"))).all()
    assert [r[0] for r in rows] == [hash_token(ours.token)]


async def test_rotation_replaces_both_tokens(setup) -> None:
    service, api, uow = setup
    inv = await service.invite()
    ours = await _post(service, inv.partner.id)
    partner = await service.rotate(inv.partner.id)
    assert partner.token_out == "rotated-by-them"
    assert await _token_kind(uow, ours.token) is None
    assert ("put", "b") in api.calls


async def test_reset_revokes_everything_and_issues_token_a(setup) -> None:
    service, _api, uow = setup
    inv = await service.invite()
    ours = await _post(service, inv.partner.id)
    again = await service.reset(inv.partner.id)
    assert await _token_kind(uow, ours.token) is None
    assert await _token_kind(uow, again.token) == CredentialsTokenKind.A
    partner = await service.get(inv.partner.id)
    assert partner.status == ConnectionStatus.PLANNED and partner.token_out is None
    # Coming back as someone else is refused.
    other = [Party("DE", "XYZ", Role.EMSP, BusinessDetails("them"))]
    with pytest.raises(PartyChangeRefused):
        await _post(service, inv.partner.id, roles=other)


async def test_resolve_by_id_or_party(setup) -> None:
    service, _api, _uow = setup
    inv = await service.invite()
    await _post(service, inv.partner.id)
    assert (await service.resolve(str(inv.partner.id))).id == inv.partner.id
    assert (await service.resolve("de-abc")).id == inv.partner.id


async def test_register_refused_after_the_partner_answered_is_undone_at_the_partner(
    setup,
) -> None:
    service, api, _uow = setup
    api.answer_roles = OURS  # the partner claims to be us
    with pytest.raises(PartyConflict):
        await service.register("https://them/ocpi/versions", "token-a")
    assert await service.list() == []
    assert ("delete", "token-c-from-them") in api.calls
