"""``evroam worker``: a delivery process of its own, beside the nodes, on their database.

For deployments where delivery should not share a process (and its event loop) with the
OCPI and operator APIs, or needs more than one process: run nodes with
``EVROAM_PUSH__WORKER=false`` and as many ``evroam worker`` processes as wanted. On
PostgreSQL they LISTEN for the ``NOTIFY`` of every commit that enqueued, whichever
process made it, so they deliver at once; on SQLite (or if listening fails) they find
work by polling (``push.poll_interval``), which costs up to that interval of latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from evroam.config import Settings
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.destination import DestinationPolicy, GuardedTransport
from evroam.ocpi.common.deviations import DeviationLog
from evroam.push.worker import PushWorker
from evroam.storage.db import create_engine, session_factory
from evroam.storage.repositories.outbox import CHANNEL
from evroam.storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger("evroam.push")


def partner_http(settings: Settings) -> httpx.AsyncClient:
    """The HTTP client for calls to partners: the destination policy on every
    connection, the partner timeout, no automatic redirects (``OcpiClient`` follows
    same-origin ones itself)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.partner_timeout, connect=10.0),
        follow_redirects=False,
        transport=GuardedTransport(
            DestinationPolicy.from_settings(settings.allow_private_destinations, settings.base_url),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        ),
    )


def push_client(
    settings: Settings, http: httpx.AsyncClient, deviations: DeviationLog
) -> OcpiClient:
    """The push worker's OCPI client: the node's client logic on an aiohttp wire
    (``ocpi/common/wire.py`` says why), the same destination policy and timeouts, up to
    ``push.concurrency`` connections per partner origin kept alive between deliveries.
    ``http`` stays the client's httpx for anything but its own requests."""
    from evroam.ocpi.common.aiowire import AioWire  # aiohttp is imported by workers only

    wire = AioWire(
        DestinationPolicy.from_settings(settings.allow_private_destinations, settings.base_url),
        connect_timeout=10.0,
        read_timeout=settings.partner_timeout,
        per_host=settings.push.concurrency,
    )
    return OcpiClient(http, deviations, wire=wire)


async def listen(
    engine: AsyncEngine, wake: Callable[[], None], stack: contextlib.AsyncExitStack
) -> bool:
    """PostgreSQL: wake the worker on each ``NOTIFY`` of a commit that enqueued (from
    any process), on a connection of its own held until ``stack`` closes. Elsewhere, or
    if listening fails, the worker polls. Whether it listens."""
    if engine.dialect.name != "postgresql":
        return False
    try:
        conn = await stack.enter_async_context(engine.connect())
        raw = (await conn.get_raw_connection()).driver_connection
        if raw is None:
            return False

        def notified(*_: object) -> None:
            wake()

        await raw.add_listener(CHANNEL, notified)
        stack.push_async_callback(raw.remove_listener, CHANNEL, notified)
    except Exception:  # polling still delivers
        log.warning("push: cannot LISTEN for new entries; polling only", exc_info=True)
        return False
    return True


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Deliver until ``stop`` is set (or the task is cancelled)."""
    engine = create_engine(settings.database_url)
    http = partner_http(settings)
    client: OcpiClient | None = None
    try:
        uow = SqlUnitOfWorkFactory(session_factory(engine))
        deviations = DeviationLog(uow)
        await deviations.load()
        client = push_client(settings, http, deviations)
        worker = PushWorker(uow, client, settings.push)
        task = asyncio.create_task(worker.run())
        async with contextlib.AsyncExitStack() as stack:
            how = "woken by NOTIFY" if await listen(engine, worker.wake, stack) else "polling"
            log.info("push worker %s delivering (%s)", worker.owner, how)
            try:
                if stop is None:
                    await task
                else:
                    await stop.wait()
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        if client is not None:
            await client.wire.aclose()
        await http.aclose()
        await engine.dispose()
