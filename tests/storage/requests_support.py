"""What the Commands and ChargingProfiles service tests share: the node's parties, a
driven clock, a backend that records what it is handed, the node's context on the test
database, and the outbox entries of one module."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from evroam.core.backend import ChargerCommand, ProfileRequest
from evroam.core.push import OutboxEntry
from evroam.core.types import BusinessDetails, ModuleId, Party, Role
from evroam.push.outbox import Outbox
from evroam.services.context import PartnerContext
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW

CPO = Party("NL", "CPO", Role.CPO, BusinessDetails("cpo"))
EMSP = Party("DE", "MSP", Role.EMSP, BusinessDetails("emsp"))
EMSP_URL = "https://emsp.example.com"
#: Where the node under test takes results (its response_base) of a module.
NODE_SENDER = "https://node.example.com/ocpi/2.2.1/sender"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeBackend:
    """Records what it is handed; raises ``refuse`` when set."""

    name = "fake"

    def __init__(self) -> None:
        self.commands: list[ChargerCommand] = []
        self.requests: list[ProfileRequest] = []
        self.refuse: BaseException | None = None

    async def start(self, reports: Any) -> None: ...
    async def close(self) -> None: ...

    async def handle_command(self, command: ChargerCommand) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.commands.append(command)

    async def handle_profile(self, request: ProfileRequest) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.requests.append(request)


def node_context(uow: SqlUnitOfWorkFactory, clock: Clock) -> PartnerContext:
    """A node with a CPO and an eMSP party on the test database, on ``clock``."""
    return PartnerContext(
        uow=uow,
        api=None,  # type: ignore[arg-type]
        own_parties=(CPO, EMSP),
        versions_url="https://node.example.com/ocpi/versions",
        supported_versions=("2.2.1",),
        clock=clock,
        outbox=Outbox(clock=clock),
    )


async def outbox_entries(uow: SqlUnitOfWorkFactory, module: ModuleId) -> list[OutboxEntry]:
    async with uow(read_only=True) as u:
        return await u.outbox.entries(module=module, limit=1000)
