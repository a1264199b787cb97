"""A real, migrated SQLite store for unit tests of authentication and liveness, with helpers
to put a partner and the tokens we issued it straight into it (no handshake needed), a
driven clock, and a scripted partner API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evroam.core.credentials_tokens import hash_token
from evroam.core.errors import PartnerUnreachable
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
from evroam.services.context import PartnerContext
from evroam.storage.db import create_engine, session_factory, upgrade_async
from evroam.storage.uow import SqlUnitOfWorkFactory

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
OURS = (Party("NL", "EVR", Role.CPO, BusinessDetails("us")),)


async def open_store(path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """Yield a unit-of-work factory on a fresh, migrated SQLite database at ``path``."""
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        yield SqlUnitOfWorkFactory(session_factory(engine))
    finally:
        await engine.dispose()


class Clock:
    """A wall clock (for ``PartnerContext``) and a monotonic one (for ``AuthCache``) that
    move only when the test says so."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.seconds = 1000.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.seconds += seconds


async def add_partner(
    uow: SqlUnitOfWorkFactory,
    *,
    token: str | None = None,
    kind: CredentialsTokenKind = CredentialsTokenKind.AUTH,
    party: tuple[str, str] = ("DE", "ABC"),
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    registered: bool = True,
    last_connection: datetime | None = T0 - timedelta(days=1),
    token_out: str | None = "their-token",
) -> Partner:
    """Store a partner (registered and CONNECTED unless told otherwise) and, with ``token``,
    the hash of a token we issued it."""
    cc, pid = party
    earlier = T0 - timedelta(days=2)
    partner = Partner(
        id=0,
        status=status,
        versions_url=f"https://{pid.lower()}.example.com/ocpi/versions",
        version="2.2.1",
        endpoints=[
            Endpoint(
                "credentials",
                InterfaceRole.SENDER,
                f"https://{pid.lower()}.example.com/ocpi/2.2.1/credentials",
            )
        ],
        roles=[Party(cc, pid, Role.EMSP, BusinessDetails(f"{cc}-{pid}"))],
        token_out=token_out,
        registered_at=earlier if registered else None,
        last_connection=last_connection,
        status_changed_at=earlier,
        created_at=earlier,
        updated_at=earlier,
    )
    async with uow() as u:
        partner = await u.partners.add(partner)
        await u.party_claims.claim(partner.id, [(cc, pid)])
        if token is not None:
            await u.credentials_tokens.add(partner.id, kind, hash_token(token))
        await u.commit()
    return partner


async def stored(uow: SqlUnitOfWorkFactory, partner_id: int) -> Partner:
    async with uow(read_only=True) as u:
        partner = await u.partners.get(partner_id)
    assert partner is not None
    return partner


@dataclass
class ScriptedApi:
    """A ``PartnerApi`` whose versions endpoint answers, or fails, as the test says; it
    records every versions GET as (url, token)."""

    reachable: bool = True
    pings: list[tuple[str, str]] = field(default_factory=list)
    # Runs inside the versions GET, before it answers: lets a test act "meanwhile".
    during_ping: Callable[[], Awaitable[None]] | None = None

    def for_partner(self, label: str) -> ScriptedApi:
        return self

    async def get_versions(self, url: str, token: str) -> list[VersionRef]:
        self.pings.append((url, token))
        if self.during_ping is not None:
            await self.during_ping()
        if not self.reachable:
            raise PartnerUnreachable(f"{url}: connection refused")
        return [VersionRef("2.2.1", url.replace("/versions", "/2.2.1"))]

    async def get_version_details(self, url: str, token: str, version: str) -> list[Endpoint]:
        raise AssertionError("not expected in these tests")

    async def post_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials:
        raise AssertionError("not expected in these tests")

    async def put_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials:
        raise AssertionError("not expected in these tests")

    async def delete_credentials(self, url: str, token: str, version: str) -> None:
        raise AssertionError("not expected in these tests")


def context(
    uow: SqlUnitOfWorkFactory,
    clock: Clock,
    api: ScriptedApi | None = None,
    tokens_changed: Callable[[], None] = lambda: None,
) -> PartnerContext:
    return PartnerContext(
        uow=uow,
        api=api or ScriptedApi(),
        own_parties=OURS,
        versions_url="https://node.example.com/ocpi/versions",
        supported_versions=("2.2.1",),
        tokens_changed=tokens_changed,
        clock=clock.wall,
    )
