"""The SQL unit of work: one AsyncSession, one transaction, all repositories."""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evroam.storage.repositories.client_infos import SqlClientInfoRepository
from evroam.storage.repositories.credentials_tokens import SqlCredentialsTokenRepository
from evroam.storage.repositories.partners import SqlPartnerRepository


class SqlUnitOfWork:
    """Rolls back on exit unless ``commit`` was called: a refusal changes nothing."""

    session: AsyncSession
    partners: SqlPartnerRepository
    credentials_tokens: SqlCredentialsTokenRepository
    client_infos: SqlClientInfoRepository

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def __aenter__(self) -> Self:
        self.session = self._factory()
        self.partners = SqlPartnerRepository(self.session)
        self.credentials_tokens = SqlCredentialsTokenRepository(self.session)
        self.client_infos = SqlClientInfoRepository(self.session)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._factory)
