"""The SQL unit of work: one AsyncSession, one transaction, all repositories.

A writing unit of work takes SQLite's write lock when it starts (``BEGIN IMMEDIATE``,
see ``db.py``), so what it reads stays true until it commits; on PostgreSQL, rows that
must not change underneath are locked explicitly (``get_for_update``) and uniqueness is
left to constraints (``party_claim``). A read-only one never waits for writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from evroam.core.ports import UnitOfWorkFactory
from evroam.storage.db import TX_MODE
from evroam.storage.repositories.client_infos import SqlClientInfoRepository
from evroam.storage.repositories.credentials_tokens import SqlCredentialsTokenRepository
from evroam.storage.repositories.objects import SqlObjectRepository
from evroam.storage.repositories.partners import SqlPartnerRepository
from evroam.storage.repositories.party_claims import SqlPartyClaimRepository
from evroam.storage.repositories.quirks import SqlQuirkRepository


class SqlUnitOfWork:
    """Rolls back on exit unless ``commit`` was called: a refusal changes nothing."""

    session: AsyncSession
    partners: SqlPartnerRepository
    credentials_tokens: SqlCredentialsTokenRepository
    party_claims: SqlPartyClaimRepository
    client_infos: SqlClientInfoRepository
    quirks: SqlQuirkRepository
    objects: SqlObjectRepository

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], bind: AsyncEngine, read_only: bool
    ) -> None:
        self._factory = factory
        self._bind = bind
        self.read_only = read_only

    async def __aenter__(self) -> Self:
        # Bound to an engine carrying the mode, not just this first connection: a session
        # used again after commit() begins its next transaction the same way.
        self.session = self._factory(bind=self._bind)
        self.partners = SqlPartnerRepository(self.session)
        self.credentials_tokens = SqlCredentialsTokenRepository(self.session)
        self.party_claims = SqlPartyClaimRepository(self.session)
        self.client_infos = SqlClientInfoRepository(self.session)
        self.quirks = SqlQuirkRepository(self.session)
        self.objects = SqlObjectRepository(self.session)
        if not self.read_only:
            try:
                # Begin now: on SQLite this is where the write lock is taken (and waited
                # for), before anything is read.
                await self.session.connection()
            except BaseException:
                await self.session.close()
                raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()


class SqlUnitOfWorkFactory:
    """Makes units of work from a session factory bound to an ``AsyncEngine``."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        engine = factory.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the session factory must be bound to an AsyncEngine")
        self._factory = factory
        # Two views of the same engine and pool, differing only in how they begin.
        self._write_bind = engine.execution_options(**{TX_MODE: "write"})
        read_options: dict[str, Any] = {TX_MODE: "read"}
        if engine.dialect.name == "postgresql":
            read_options["postgresql_readonly"] = True
        self._read_bind = engine.execution_options(**read_options)

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        bind = self._read_bind if read_only else self._write_bind
        return SqlUnitOfWork(self._factory, bind, read_only)


if TYPE_CHECKING:

    def _implements_the_port(factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        """mypy checks here, not only where the app wires it, that the factory, its unit
        of work and every repository match ``core.ports``."""
        return factory
