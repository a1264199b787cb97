"""``evroam worker``: a delivery process of its own, beside the nodes, on their database.

For deployments where delivery should not share a process (and its event loop) with the
OCPI and operator APIs, or needs more than one process: run nodes with
``EVROAM_PUSH__WORKER=false`` and as many ``evroam worker`` processes as wanted. They
find work by polling (``push.poll_interval``): a wake-up from another process's commit
does not reach them, which costs at most that interval of latency.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from evroam.config import Settings
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.destination import DestinationPolicy, GuardedTransport
from evroam.ocpi.common.deviations import DeviationLog
from evroam.push.worker import PushWorker
from evroam.storage.db import create_engine, session_factory
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


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Deliver until ``stop`` is set (or the task is cancelled)."""
    engine = create_engine(settings.database_url)
    http = partner_http(settings)
    try:
        uow = SqlUnitOfWorkFactory(session_factory(engine))
        deviations = DeviationLog(uow)
        await deviations.load()
        worker = PushWorker(uow, OcpiClient(http, deviations), settings.push)
        log.info("push worker %s delivering", worker.owner)
        task = asyncio.create_task(worker.run())
        try:
            if stop is None:
                await task
            else:
                await stop.wait()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await http.aclose()
        await engine.dispose()
