"""What every partner use case shares: the ports, this node's identity, the clock, and
the steps that more than one use case takes (discovery, applying a completed exchange).

The use cases themselves live beside this module, one concern each: ``handshake``
(invite, register both ways, the partner's PUT and DELETE), ``lifecycle`` (what an
operator does to an existing partner), ``liveness`` (connection status) and
``directory`` (lookups). They take a :class:`PartnerContext`, never a storage or HTTP
class, so they run unchanged on any implementation of the ports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from evroam.core.errors import MissingEndpoints, NotRegistered
from evroam.core.ports import Credentials, OutboxPort, PartnerApi, UnitOfWorkFactory
from evroam.core.rules import pick_version, pin_version
from evroam.core.types import ConnectionStatus, Endpoint, ModuleId, Partner, Party
from evroam.services.reads import ObjectReader
from evroam.services.writes import ObjectWriter


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Discovery:
    version: str
    versions_url: str
    endpoints: list[Endpoint]

    @property
    def credentials_url(self) -> str:
        for e in self.endpoints:
            if e.identifier == ModuleId.CREDENTIALS:
                return e.url
        raise MissingEndpoints("the partner lists no credentials endpoint")


@dataclass(frozen=True, slots=True)
class PartnerContext:
    uow: UnitOfWorkFactory
    api: PartnerApi
    own_parties: tuple[Party, ...]
    versions_url: str
    # Newest first (``core.rules.sort_versions``): the first mutual one is chosen.
    supported_versions: tuple[str, ...]
    # Called after any change to the tokens we issued, so caches drop them at once.
    tokens_changed: Callable[[], None] = lambda: None
    clock: Callable[[], datetime] = field(default=utcnow)
    token_a_ttl: timedelta = timedelta(days=30)
    max_registration_attempts: int = 5
    #: The push outbox (``push/outbox.py``): the writer enqueues what partners are owed
    #: in its transaction and wakes it after the commit. None: nothing is pushed.
    outbox: OutboxPort | None = None
    #: Group commit of functional objects (``writes.py``): one per context, so changes of
    #: every module and every request share its batches.
    writer: ObjectWriter = field(init=False)
    #: Batched point reads of functional objects (``reads.py``).
    reader: ObjectReader = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "writer", ObjectWriter(self.uow, outbox=self.outbox))
        object.__setattr__(self, "reader", ObjectReader(self.uow))

    def now(self) -> datetime:
        return self.clock()

    def own_credentials(self, token: str) -> Credentials:
        return Credentials(token=token, url=self.versions_url, roles=list(self.own_parties))

    async def discover(
        self, api: PartnerApi, versions_url: str, token: str, version: str | None = None
    ) -> Discovery:
        """GET versions and version details; ``version`` pins it (when we are the receiver)."""
        offered = await api.get_versions(versions_url, token)
        if version is None:
            chosen = pick_version(self.supported_versions, offered, versions_url)
        else:
            chosen = pin_version(offered, version, versions_url)
        endpoints = await api.get_version_details(chosen.url, token, chosen.version)
        discovery = Discovery(chosen.version, versions_url, endpoints)
        discovery.credentials_url  # noqa: B018 - raises MissingEndpoints when absent
        return discovery


def credentials_url(partner: Partner) -> str:
    """The partner's credentials endpoint, or NotRegistered when we cannot call it."""
    ep = partner.endpoint(ModuleId.CREDENTIALS)
    if ep is None or not partner.token_out or not partner.version:
        raise NotRegistered(f"partner {partner.label} is not registered")
    return ep.url


def connect(partner: Partner, theirs: Credentials, discovery: Discovery, now: datetime) -> None:
    """The partner's side of a completed exchange: its token, parties and endpoints."""
    partner.token_out = theirs.token
    partner.roles = list(theirs.roles)
    partner.versions_url = theirs.url
    partner.version = discovery.version
    partner.endpoints = discovery.endpoints
    partner.registered_at = partner.registered_at or now
    partner.last_connection = now
    partner.pending_since = None
    partner.notice = None
    if partner.status != ConnectionStatus.CONNECTED:
        partner.status = ConnectionStatus.CONNECTED
        partner.status_changed_at = now
    partner.updated_at = now


def suspend(partner: Partner, now: datetime) -> None:
    """Unregistered, by either side: no token to send, nothing more to exchange."""
    partner.token_out = None
    partner.status = ConnectionStatus.SUSPENDED
    partner.status_changed_at = now
    partner.updated_at = now
