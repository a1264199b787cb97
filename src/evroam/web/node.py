"""Everything a running node holds, built by ``create_app`` and kept on ``app.state.node``."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from evroam.config import Settings
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.common.deviations import DeviationLog
from evroam.services.partners import PartnerService
from evroam.storage.uow import SqlUnitOfWorkFactory
from evroam.web.auth import AuthCache


@dataclass
class Node:
    settings: Settings
    engine: AsyncEngine
    uow: SqlUnitOfWorkFactory
    http: httpx.AsyncClient
    ocpi: OcpiClient
    partners: PartnerService
    auth_cache: AuthCache
    deviations: DeviationLog = field(default_factory=DeviationLog)
