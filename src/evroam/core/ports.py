"""Ports: what services need from storage and from the network, as protocols.

Storage implements the repositories (``storage/repositories``), the OCPI clients
implement :class:`PartnerApi`. Services depend on these shapes only, so they can be
exercised with the real SQLite store and without importing a web or HTTP framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self

from evroam.core.types import ClientInfo, ConnectionStatus, Endpoint, Partner, Party, TokenKind


@dataclass(frozen=True, slots=True)
class Credentials:
    """The credentials object of a handshake, version-neutral."""

    token: str
    url: str
    roles: list[Party]


@dataclass(frozen=True, slots=True)
class VersionRef:
    version: str
    url: str


class PartnerRepository(Protocol):
    async def get(self, partner_id: int) -> Partner | None: ...
    async def get_for_update(self, partner_id: int) -> Partner | None: ...
    async def find_by_party(self, country_code: str, party_id: str) -> Partner | None: ...
    async def list(self) -> list[Partner]: ...
    async def add(self, partner: Partner) -> Partner: ...
    async def save(self, partner: Partner) -> None: ...
    async def delete(self, partner_id: int) -> None: ...
    async def touch(self, partner_id: int, at: datetime, status: ConnectionStatus) -> None: ...


class TokenRepository(Protocol):
    async def add(self, partner_id: int, kind: TokenKind, token_hash: str) -> None: ...
    async def find(self, token_hashes: Sequence[str]) -> tuple[int, TokenKind, str] | None:
        """(partner_id, kind, matched hash) for the first stored hash among the candidates."""
        ...

    async def revoke(self, partner_id: int, kind: TokenKind | None = None) -> int:
        """Delete the partner's tokens (of one kind); how many there were."""
        ...

    async def revoke_hash(self, token_hash: str) -> None: ...


class ClientInfoRepository(Protocol):
    async def upsert(self, hub_partner_id: int, info: ClientInfo) -> bool:
        """Store; True when the object was new."""
        ...

    async def get(
        self, hub_partner_id: int, country_code: str, party_id: str
    ) -> ClientInfo | None: ...


class UnitOfWork(Protocol):
    """One transaction: everything changed through it commits together or not at all."""

    @property
    def partners(self) -> PartnerRepository: ...
    @property
    def tokens(self) -> TokenRepository: ...
    @property
    def client_infos(self) -> ClientInfoRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class PartnerApi(Protocol):
    """Outbound calls of the configuration modules (versions, credentials).

    Implementations raise ``PartnerUnreachable`` for anything that is not a usable answer
    (network error, HTTP error, non-OCPI body, OCPI error status).
    """

    def for_partner(self, label: str) -> PartnerApi:
        """The same API, naming the partner in logs (``NL-ABC``) instead of its host."""
        ...

    async def get_versions(self, url: str, token: str) -> list[VersionRef]: ...
    async def get_version_details(self, url: str, token: str, version: str) -> list[Endpoint]: ...
    async def post_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials: ...
    async def put_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials: ...
    async def delete_credentials(self, url: str, token: str, version: str) -> None: ...
