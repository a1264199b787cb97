"""The SQL unit of work: one AsyncSession, one transaction, all repositories.

A writing unit of work takes SQLite's write lock when it starts (``BEGIN IMMEDIATE``,
see ``db.py``), so what it reads stays true until it commits; on PostgreSQL, rows that
must not change underneath are locked explicitly (``get_for_update``) and uniqueness is
left to constraints (``party_claim``). A read-only one never waits for writers.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from evroam.core.ports import OicpUnitOfWorkFactory, UnitOfWorkFactory
from evroam.storage.db import SQLITE_BUSY_TIMEOUT, TX_MODE, is_busy, runs_inline
from evroam.storage.repositories.client_infos import SqlClientInfoRepository
from evroam.storage.repositories.commands import (
    SqlReceivedRequestRepository,
    SqlSentRequestRepository,
)
from evroam.storage.repositories.credentials_tokens import SqlCredentialsTokenRepository
from evroam.storage.repositories.objects import SqlObjectRepository
from evroam.storage.repositories.oicp import SqlOicpEvseStatusRepository, SqlOicpPartnerRepository
from evroam.storage.repositories.oicp_data import (
    SqlOicpEvseDataRepository,
    SqlOicpPricingRepository,
)
from evroam.storage.repositories.oicp_sessions import (
    SqlOicpAuthDataRepository,
    SqlOicpCdrRepository,
    SqlOicpNotificationRepository,
    SqlOicpSessionRepository,
)
from evroam.storage.repositories.outbox import SqlOutboxRepository
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
    outbox: SqlOutboxRepository
    received_requests: SqlReceivedRequestRepository
    sent_requests: SqlSentRequestRepository
    oicp_partners: SqlOicpPartnerRepository
    oicp_statuses: SqlOicpEvseStatusRepository
    oicp_evse_data: SqlOicpEvseDataRepository
    oicp_pricing: SqlOicpPricingRepository
    oicp_sessions: SqlOicpSessionRepository
    oicp_cdrs: SqlOicpCdrRepository
    oicp_auth_data: SqlOicpAuthDataRepository
    oicp_notifications: SqlOicpNotificationRepository

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        bind: AsyncEngine,
        read_only: bool,
        write_lock: asyncio.Lock | None = None,
        busy_wait: float = 0.0,
    ) -> None:
        self._factory = factory
        self._bind = bind
        self.read_only = read_only
        self._write_lock = None if read_only else write_lock
        self._busy_wait = busy_wait

    async def __aenter__(self) -> Self:
        if self._write_lock is not None:
            # SQLite has one writer at a time. Writers of this process queue here, in
            # order and without polling, instead of in SQLite's busy handler, which
            # sleeps and retries (up to 100 ms a try) and cut throughput under
            # concurrent writes to a few hundred a second.
            await self._write_lock.acquire()
        try:
            return await self._enter()
        except BaseException:
            if self._write_lock is not None:
                self._write_lock.release()
            raise

    async def _enter(self) -> Self:
        # Bound to an engine carrying the mode, not just this first connection: a session
        # used again after commit() begins its next transaction the same way.
        self.session = self._factory(bind=self._bind)
        self.partners = SqlPartnerRepository(self.session)
        self.credentials_tokens = SqlCredentialsTokenRepository(self.session)
        self.party_claims = SqlPartyClaimRepository(self.session)
        self.client_infos = SqlClientInfoRepository(self.session)
        self.quirks = SqlQuirkRepository(self.session)
        self.objects = SqlObjectRepository(self.session)
        self.outbox = SqlOutboxRepository(self.session)
        self.received_requests = SqlReceivedRequestRepository(self.session)
        self.sent_requests = SqlSentRequestRepository(self.session)
        self.oicp_partners = SqlOicpPartnerRepository(self.session)
        self.oicp_statuses = SqlOicpEvseStatusRepository(self.session)
        self.oicp_evse_data = SqlOicpEvseDataRepository(self.session)
        self.oicp_pricing = SqlOicpPricingRepository(self.session)
        self.oicp_sessions = SqlOicpSessionRepository(self.session)
        self.oicp_cdrs = SqlOicpCdrRepository(self.session)
        self.oicp_auth_data = SqlOicpAuthDataRepository(self.session)
        self.oicp_notifications = SqlOicpNotificationRepository(self.session)
        if not self.read_only:
            # Begin now: on SQLite this is where the write lock is taken (and waited
            # for), before anything is read.
            await self._begin_writing()
        return self

    async def _begin_writing(self) -> None:
        """Take SQLite's write lock. On the loop's thread (``busy_wait`` > 0) SQLite's
        busy handler gives up after a few milliseconds; while another process holds the
        lock, wait here in asyncio sleeps (the node keeps serving) up to ``busy_wait``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._busy_wait
        delay = 0.005
        while True:
            try:
                await self.session.connection()
                return
            except OperationalError as exc:
                await self.session.close()
                if not is_busy(exc) or loop.time() + delay > deadline:
                    raise
            except BaseException:
                await self.session.close()
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                if self._write_lock is not None:
                    self._write_lock.release()

    async def commit(self) -> None:
        await self.session.commit()


class SqlUnitOfWorkFactory:
    """Makes units of work from a session factory bound to an ``AsyncEngine``."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], *, serialize_writers: bool = True
    ) -> None:
        """``serialize_writers``: on SQLite, queue this process's writing units of work on
        an asyncio lock before ``BEGIN IMMEDIATE`` (tests of the database's own locking
        switch it off)."""
        engine = factory.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the session factory must be bound to an AsyncEngine")
        self._factory = factory
        self.session_factory = factory
        # Two views of the same engine and pool, differing only in how they begin.
        self._write_bind = engine.execution_options(**{TX_MODE: "write"})
        read_options: dict[str, Any] = {TX_MODE: "read"}
        if engine.dialect.name == "postgresql":
            read_options["postgresql_readonly"] = True
        self._read_bind = engine.execution_options(**read_options)
        sqlite = engine.dialect.name == "sqlite"
        if sqlite and not serialize_writers and runs_inline(engine):
            # Two writers of this thread waiting for each other in SQLite's busy handler
            # would hold the event loop until the busy timeout (sqlite_inline.py).
            raise ValueError("an inline SQLite engine needs serialize_writers=True")
        self._write_lock = asyncio.Lock() if sqlite and serialize_writers else None
        # Inline SQLite waits for another process's lock in asyncio, not in SQLite.
        self._busy_wait = SQLITE_BUSY_TIMEOUT if sqlite and runs_inline(engine) else 0.0

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        bind = self._read_bind if read_only else self._write_bind
        return SqlUnitOfWork(self._factory, bind, read_only, self._write_lock, self._busy_wait)


if TYPE_CHECKING:

    def _implements_the_port(factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        """mypy checks here, not only where the app wires it, that the factory, its unit
        of work and every repository match ``core.ports``."""
        return factory

    def _implements_the_oicp_port(factory: SqlUnitOfWorkFactory) -> OicpUnitOfWorkFactory:
        """The same check for the OICP hub's unit of work (``core.ports``)."""
        return factory
