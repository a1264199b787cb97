"""Ports: what services need from storage and from the network, as protocols.

Storage implements the repositories (``storage/repositories``), the OCPI clients
implement :class:`PartnerApi`. Services depend on these shapes only, so they can be
exercised with the real SQLite store and without importing a web or HTTP framework.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, Self

from evroam.core.backend import CommandType, ProfileRequestType
from evroam.core.callbacks import (
    ReceivedRequest,
    ReceivedState,
    Reply,
    RequestKind,
    SentRequest,
    SentState,
)
from evroam.core.objects import Document, ObjectKey, ObjectPage, ObjectQuery, StoredObject
from evroam.core.oicp import (
    EvseDataEntry,
    EvseDataQuery,
    EvsePricingEntry,
    EvseStatus,
    EvseStatusRecord,
    GeoCircle,
    OicpPartner,
    PricingOffer,
    StoredEvseData,
    StoredEvseStatus,
    StoredPoiReport,
)
from evroam.core.oicp_sessions import (
    AuthenticationRecord,
    CdrFilter,
    CdrQuery,
    KeptNotification,
    OicpSession,
    PartnerAnswer,
    SessionFilter,
    StoredCdr,
)
from evroam.core.push import (
    DeliveryResult,
    OutboxEntry,
    OutboxState,
    PendingEntry,
    PushChange,
    PushMethod,
    QueueStat,
)
from evroam.core.types import (
    ClientInfo,
    ConnectionStatus,
    CredentialsTokenKind,
    Endpoint,
    ModuleId,
    Partner,
    Party,
    Quirk,
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """The credentials object of a handshake, version-neutral. The token is a secret:
    kept out of the repr, so no log line or traceback shows it."""

    token: str = field(repr=False)
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
    async def list_pending(self) -> builtins.list[Partner]:
        """Partners whose registration we started and never finished (``pending_since``)."""
        ...


class CredentialsTokenRepository(Protocol):
    async def add(
        self,
        partner_id: int,
        kind: CredentialsTokenKind,
        token_hash: str,
        expires_at: datetime | None = None,
    ) -> None: ...
    async def find(
        self, token_hashes: Sequence[str], now: datetime
    ) -> tuple[int, CredentialsTokenKind, str] | None:
        """(partner_id, kind, matched hash) for the first stored hash among the candidates
        that has not expired at ``now``."""
        ...

    async def revoke(self, partner_id: int, kind: CredentialsTokenKind | None = None) -> int:
        """Delete the partner's tokens (of one kind); how many there were."""
        ...

    async def revoke_hash(self, token_hash: str) -> None: ...
    async def count_failure(self, token_hash: str) -> int:
        """Add one failed use (a refused registration) to the token; the new count."""
        ...

    async def has_kind(self, partner_id: int, kind: CredentialsTokenKind) -> bool: ...


class PartyClaimRepository(Protocol):
    """Which partner holds each (country_code, party_id): a database constraint, so two
    concurrent registrations of one party cannot both commit."""

    async def claim(self, partner_id: int, parties: Iterable[tuple[str, str]]) -> None:
        """Claim every pair for the partner (keeping its own); raise ``PartyConflict``
        naming the pair when another partner holds one, in this transaction or a
        concurrent one."""
        ...

    async def release(self, partner_id: int) -> None: ...
    async def holder(self, country_code: str, party_id: str) -> int | None: ...


class QuirkRepository(Protocol):
    async def all(self) -> list[Quirk]: ...
    async def remember(self, quirk: Quirk) -> None:
        """Insert or replace the quirk with the same (host, kind, key)."""
        ...


UpsertOutcome = Literal["created", "updated", "stale"]


class ClientInfoRepository(Protocol):
    async def upsert(self, hub_partner_id: int, info: ClientInfo) -> UpsertOutcome:
        """Store unless the stored object has a newer ``last_updated`` ("stale")."""
        ...

    async def get(
        self, hub_partner_id: int, country_code: str, party_id: str
    ) -> ClientInfo | None: ...
    async def list(self, hub_partner_id: int) -> list[ClientInfo]: ...


class ObjectRepository(Protocol):
    """Objects of the functional modules (``core/objects.py``), own and received."""

    async def get(self, module: ModuleId, key: ObjectKey) -> StoredObject | None: ...
    async def get_for_update(self, module: ModuleId, key: ObjectKey) -> StoredObject | None:
        """Read with a row lock on PostgreSQL (SQLite's writing transactions hold the
        database lock already), for read-modify-write such as a PATCH."""
        ...

    async def put(self, obj: StoredObject) -> Literal["created", "updated"]:
        """Insert or replace the object with the same module and key."""
        ...

    async def get_many(
        self, module: ModuleId, keys: Sequence[ObjectKey]
    ) -> dict[tuple[str, str, str, str], StoredObject]:
        """The stored objects among ``keys``, by ``key_identity``, in one query."""
        ...

    async def get_many_for_update(
        self, module: ModuleId, keys: Sequence[ObjectKey]
    ) -> dict[tuple[str, str, str, str], StoredObject]:
        """``get_for_update`` of many keys at once, by ``key_identity``: for batches
        (group commit, bulk import)."""
        ...

    async def put_many(self, objs: Sequence[StoredObject]) -> None:
        """Write many objects at once: those with a ``row_id`` (read in this
        transaction) replace their row, the others are inserted."""
        ...

    async def delete_rows(self, row_ids: Sequence[int]) -> None:
        """Remove objects read in this transaction, by their ``row_id``."""
        ...

    async def delete(self, module: ModuleId, key: ObjectKey) -> bool: ...
    async def page(self, query: ObjectQuery) -> ObjectPage:
        """One page in creation order, and how many objects match the query in all."""
        ...


class OutboxRepository(Protocol):
    """The push outbox's entries (``storage/repositories/outbox.py`` says how claims keep
    per-object order and exclusivity)."""

    async def pending_for(
        self, partner_ids: Sequence[int], object_keys: Sequence[str]
    ) -> list[PendingEntry]: ...
    async def drop_pending(self, entry_ids: Sequence[int]) -> None: ...
    async def notify(self) -> None: ...
    async def add_many(self, entries: Sequence[OutboxEntry], now: datetime) -> None: ...
    async def rewrite_many(
        self, changes: Sequence[tuple[int, PushMethod, str | None]], now: datetime
    ) -> None: ...
    async def claim(
        self, partner_id: int, now: datetime, limit: int, owner: str, lease: timedelta
    ) -> list[OutboxEntry]: ...
    async def settle(
        self, results: Sequence[DeliveryResult], owner: str, now: datetime
    ) -> None: ...
    async def lease_owners(self, now: datetime) -> list[str]: ...
    async def reclaim(self, owners: Sequence[str], now: datetime) -> int: ...
    async def hold(self, partner_id: int, reason: str, now: datetime) -> int: ...
    async def release(self, partner_ids: Sequence[int], now: datetime) -> int: ...
    async def due(self, partner_id: int, now: datetime) -> bool: ...
    async def pending_partners(self, partner_ids: Sequence[int]) -> builtins.list[int]: ...
    async def held_partners(self) -> builtins.list[int]: ...
    async def purge_delivered(self, before: datetime, limit: int) -> int: ...
    async def get(self, entry_id: int) -> OutboxEntry | None: ...
    async def entries(
        self,
        *,
        partner_id: int | None = None,
        states: Sequence[OutboxState] = (),
        module: ModuleId | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[OutboxEntry]: ...
    async def stats(self, now: datetime) -> builtins.list[QueueStat]: ...
    async def retry(self, entry_id: int, now: datetime) -> bool: ...
    async def retry_dead(self, partner_id: int, module: ModuleId | None, now: datetime) -> int: ...
    async def drop(self, entry_id: int) -> bool: ...


class ReceivedRequestRepository(Protocol):
    """Requests partners sent the node as CPO (``core/callbacks.py``); every change of
    state is conditional, so of two processes only one moves a request
    (``storage/repositories/commands.py``)."""

    async def add(self, request: ReceivedRequest) -> None: ...
    async def get(self, request_id: str) -> ReceivedRequest | None: ...
    async def finish(
        self,
        request_id: str,
        expected: ReceivedState,
        state: ReceivedState,
        result: str,
        message: str | None,
        result_body: Document | None,
        at: datetime,
    ) -> bool:
        """Move the request from ``expected`` to ``state`` with its result; whether this
        call did (False: it was no longer in ``expected``)."""
        ...

    async def keep_late(self, request_id: str, result: str, at: datetime) -> bool:
        """Keep the first result that came after TIMEOUT; whether it was kept."""
        ...

    async def overdue(self, now: datetime, limit: int) -> builtins.list[ReceivedRequest]:
        """WAITING requests whose ``timeout_at`` is at or before ``now``, oldest first."""
        ...

    async def search(
        self,
        *,
        kind: RequestKind | None = None,
        states: Sequence[ReceivedState] = (),
        session_id: str | None = None,
        limit: int = 100,
    ) -> builtins.list[ReceivedRequest]:
        """Newest first."""
        ...


class SentRequestRepository(Protocol):
    """Requests the node sent its partners as eMSP (``core/callbacks.py``)."""

    async def add(self, request: SentRequest) -> None: ...
    async def get(self, request_id: str) -> SentRequest | None: ...
    async def record_response(
        self,
        request_id: str,
        response: str,
        timeout: int | None,
        message: str | None,
        expires_at: datetime,
        at: datetime,
    ) -> bool:
        """The partner's answer at once; the state becomes it only while SENT."""
        ...

    async def record_failure(self, request_id: str, error: str, at: datetime) -> bool: ...
    async def record_result(
        self,
        request_id: str,
        result: str,
        result_body: Document | None,
        at: datetime,
        *,
        replace: bool = False,
    ) -> bool:
        """The partner's later result: stored once unless ``replace``; whether it was."""
        ...

    async def overdue(self, now: datetime, limit: int) -> builtins.list[SentRequest]:
        """Requests still awaiting a result past ``expires_at``, soonest first (a read)."""
        ...

    async def expire(self, now: datetime) -> int:
        """Requests still awaiting a result past ``expires_at`` become EXPIRED; how many."""
        ...

    async def search(
        self,
        *,
        kind: RequestKind | None = None,
        states: Sequence[SentState] = (),
        session_id: str | None = None,
        limit: int = 100,
    ) -> builtins.list[SentRequest]:
        """Newest first."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything changed through it commits together or not at all."""

    @property
    def partners(self) -> PartnerRepository: ...
    @property
    def credentials_tokens(self) -> CredentialsTokenRepository: ...
    @property
    def party_claims(self) -> PartyClaimRepository: ...
    @property
    def client_infos(self) -> ClientInfoRepository: ...
    @property
    def quirks(self) -> QuirkRepository: ...
    @property
    def objects(self) -> ObjectRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def received_requests(self) -> ReceivedRequestRepository: ...
    @property
    def sent_requests(self) -> SentRequestRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


class OutboxPort(Protocol):
    """The push outbox as the writer sees it (``push/outbox.py``; DESIGN.md "Push and
    outbox"). ``enqueue`` runs inside the writer's transaction, so a change and what it
    owes every partner commit together; ``wake`` is called after that commit, so the
    in-process worker delivers at once instead of at its next poll."""

    async def enqueue(self, uow: UnitOfWork, changes: Sequence[PushChange]) -> None: ...
    def wake(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work. A writing one takes the database's write lock when it
        begins (SQLite: ``BEGIN IMMEDIATE``), so a read-check-write inside it is isolated;
        ``read_only`` ones do not, and must not write."""
        ...


@dataclass(frozen=True, slots=True)
class PulledObject:
    """One valid object of a partner's Sender list in canonical form: what the Receiver
    route would hand its service, had the partner pushed it (``services/sync.py``)."""

    key: ObjectKey
    document: Document
    last_updated: datetime
    #: CDRs: the party (``CC-PID``) whose token the CDR charged, the one that may read it.
    audience: str | None = None


@dataclass(slots=True)
class PulledPage:
    """One page of a partner's Sender list: its valid objects, and for every item that is
    not a valid object of the module, why (``item 3: address: Field required``).
    ``total`` is the partner's ``X-Total-Count`` (digest §1.7), when it sent one."""

    objects: list[PulledObject] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    total: int | None = None


class PartnerApi(Protocol):
    """Outbound calls of the configuration modules (versions, credentials), and the
    pull of a functional module's Sender list (``pull``, for ``services/sync.py``).

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
    def pull(
        self,
        partner: Partner,
        module: ModuleId,
        ours: tuple[str, str],
        date_from: datetime | None = None,
    ) -> AsyncIterator[PulledPage]:
        """Every page of the partner's Sender list of ``module`` (its version's SENDER
        endpoint), following ``Link`` to the end, only objects with ``last_updated`` at or
        after ``date_from`` when given. ``ours``: the party the routing headers name as
        the caller. An invalid item is reported in its page, never raised; a partner
        that offers no such Sender raises ``MissingEndpoints``."""
        ...


class ChargingProfilesApi(Protocol):
    """The outbound calls of the eMSP side (the version's client):
    GET/PUT/DELETE ``{url}/{session_id}`` on the CPO's Receiver, its answer as a
    :class:`Reply` (DomainError when there was no usable answer)."""

    async def send(
        self,
        partner: Partner,
        request_type: ProfileRequestType,
        session_id: str,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply: ...


class CommandsApi(Protocol):
    """Outbound Commands calls (the eMSP side), implemented by the version's client.

    ``send`` POSTs ``body`` to the partner's commands Receiver for ``command``, with
    routing headers from ``sender`` to ``receiver``, and returns its CommandResponse.
    An answer with an OCPI error status that still carries a CommandResponse (2003 with
    REJECTED, for an unknown location) is returned, with that ``status_code``; anything
    else that is not a usable answer raises ``PartnerUnreachable``, naming what went
    wrong for the operator.
    """

    async def send(
        self,
        partner: Partner,
        command: CommandType,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply: ...


# ---------------------------------------------------------------------- OICP hub


class OicpPartnerRepository(Protocol):
    """The hub's OICP partners, keyed by their canonical ID (``core/oicp.py``)."""

    async def add(self, partner: OicpPartner) -> OicpPartner:
        """Store a new partner; ``OicpPartnerExists`` when its canonical ID is taken
        (decided by the database's unique key, so two concurrent adds cannot both win)."""
        ...

    async def get(self, canonical_id: str) -> OicpPartner | None: ...
    async def get_for_update(self, canonical_id: str) -> OicpPartner | None:
        """The partner, its row locked until the transaction ends (PostgreSQL ``FOR
        UPDATE``; SQLite's write lock already excludes other writers): the hub applies one
        partner's pushes one at a time in this lock."""
        ...

    async def by_cert_identity(self, identities: Sequence[str]) -> builtins.list[OicpPartner]:
        """Partners whose certificate identity matches one of ``identities`` (as read
        from a certificate), compared by ``core.oicp.identity_key``."""
        ...

    async def list(self) -> builtins.list[OicpPartner]: ...
    async def save(self, partner: OicpPartner) -> None: ...
    async def remove(self, canonical_id: str) -> bool: ...


class OicpEvseStatusRepository(Protocol):
    """EVSE statuses per operator (canonical OperatorID, canonical EvseID)."""

    async def known(self, operator: str, canonical_evse_ids: Iterable[str]) -> set[str]:
        """Which of these EVSEs the operator has a status for."""
        ...

    async def upsert(self, records: Sequence[EvseStatusRecord], at: datetime) -> None:
        """Insert or update each record; ``changed_at`` moves only when the status does."""
        ...

    async def delete(self, operator: str, canonical_evse_ids: Iterable[str]) -> int: ...
    async def delete_except(self, operator: str, canonical_evse_ids: Iterable[str]) -> int:
        """Delete the operator's statuses other than these (a full load's removals)."""
        ...

    async def by_evse_ids(
        self, canonical_evse_ids: Sequence[str]
    ) -> builtins.list[StoredEvseStatus]: ...
    async def by_operators(
        self, operators: Sequence[str] | None, status: EvseStatus | None = None
    ) -> builtins.list[StoredEvseStatus]:
        """Statuses of these operators (every operator when None), optionally only those
        with ``status``, ordered by operator and EvseID."""
        ...


class OicpUnitOfWork(Protocol):
    """The hub's transaction: its partners and their data."""

    @property
    def oicp_partners(self) -> OicpPartnerRepository: ...
    @property
    def oicp_statuses(self) -> OicpEvseStatusRepository: ...
    @property
    def oicp_evse_data(self) -> OicpEvseDataRepository: ...
    @property
    def oicp_pricing(self) -> OicpPricingRepository: ...
    @property
    def oicp_sessions(self) -> OicpSessionRepository: ...
    @property
    def oicp_cdrs(self) -> OicpCdrRepository: ...
    @property
    def oicp_auth_data(self) -> OicpAuthDataRepository: ...
    @property
    def oicp_notifications(self) -> OicpNotificationRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


class OicpUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> OicpUnitOfWork:
        """As ``UnitOfWorkFactory``: a writing one is isolated from other writers."""
        ...


# ---------------------------------------------------------------------- OICP sessions


class OicpSessionRepository(Protocol):
    """The hub's sessions, by SessionID (``core/oicp_sessions.py``)."""

    async def add(self, session: OicpSession) -> None: ...
    async def get(self, session_id: str) -> OicpSession | None: ...
    async def get_for_update(self, session_id: str) -> OicpSession | None:
        """The session, its row locked until the transaction ends (as partners')."""
        ...

    async def save(self, session: OicpSession) -> None: ...
    async def remove(self, session_id: str) -> bool: ...
    async def search(self, session_filter: SessionFilter, limit: int) -> builtins.list[OicpSession]:
        """At most ``limit`` matching sessions, newest first (the operator's view)."""
        ...


class OicpCdrRepository(Protocol):
    """Charge detail records, one per SessionID."""

    async def add(self, cdr: StoredCdr) -> bool:
        """Store ``cdr``; False (nothing stored) when its session has one already,
        decided by the database's key, so two concurrent CDRs cannot both be stored."""
        ...

    async def get(self, session_id: str) -> StoredCdr | None: ...
    async def mark_forwarded(self, session_id: str) -> None: ...
    async def query(
        self, query: CdrQuery, offset: int, limit: int
    ) -> tuple[builtins.list[StoredCdr], int]:
        """One page of the matching CDRs, in order of receipt, and how many match."""
        ...

    async def search(self, cdr_filter: CdrFilter, limit: int) -> builtins.list[StoredCdr]:
        """At most ``limit`` matching CDRs of any provider, newest first (the
        operator's view)."""
        ...


class OicpAuthDataRepository(Protocol):
    """EMPs' authentication data, keyed by (canonical ProviderID, medium key)."""

    async def known(self, provider: str, keys: Iterable[str]) -> set[str]: ...
    async def put(self, records: Sequence[AuthenticationRecord]) -> None:
        """Insert or replace each record."""
        ...

    async def delete(self, provider: str, keys: Iterable[str]) -> int: ...
    async def delete_all(self, provider: str) -> int: ...
    async def find(self, key: str) -> builtins.list[AuthenticationRecord]:
        """Every provider's record for this medium key, ordered by provider."""
        ...


class OicpNotificationRepository(Protocol):
    """Charging notifications kept for EMPs the hub cannot forward them to."""

    async def add(self, notification: KeptNotification) -> None: ...
    async def for_session(self, session_id: str) -> builtins.list[KeptNotification]: ...


class OicpEvseDataLookup(Protocol):
    """What remote start and reservation need from the EVSE data operators push
    (digest §1.3: 603/604, skipped for an operator that pushed none). Implemented by the
    EVSE data repository."""

    async def has_evse_data(self, operator: str) -> bool:
        """Whether the operator (canonical) holds any pushed EVSE data record."""
        ...

    async def hubject_compatible(self, operator: str, canonical_evse_id: str) -> bool | None:
        """The EVSE's ``IsHubjectCompatible``; None when the operator has no record of it."""
        ...


class OicpForward(Protocol):
    """Sends a message of ``session`` to ``partner`` and returns its answer (built and
    parsed by the edge, which knows the operation); raises ``PartnerCallFailed``."""

    async def __call__(self, partner: OicpPartner, session: OicpSession) -> PartnerAnswer: ...


# ---------------------------------------------------------------------- OICP EVSE data


class OicpEvseDataRepository(Protocol):
    """EVSE data records per operator (canonical OperatorID, canonical EvseID), live or
    deleted (kept as deletion markers for LastCall delta pulls)."""

    async def live_ids(self, operator: str) -> set[str]:
        """The canonical EvseIDs of the operator's live records."""
        ...

    async def put(
        self, operator_id: str, operator_name: str, entries: Sequence[EvseDataEntry], at: datetime
    ) -> None:
        """Insert or replace each entry (bringing a deleted one back); a record whose
        text and operator name are unchanged keeps its ``updated_at``, so a repeated
        full load shows no change in a delta pull."""
        ...

    async def mark_deleted(
        self, operator: str, canonical_evse_ids: Iterable[str], at: datetime
    ) -> int:
        """Set the deletion marker of these live records; how many there were."""
        ...

    async def page(
        self, query: EvseDataQuery, offset: int, limit: int
    ) -> tuple[builtins.list[StoredEvseData], int]:
        """One page of the matching records in a stable order (operator, EvseID), and
        how many match in all."""
        ...

    async def within(self, circle: GeoCircle) -> set[tuple[str, str]]:
        """(operator, canonical EvseID) of the live records inside ``circle``."""
        ...

    async def refresh_statistics(self) -> None:
        """Bring the database's planner statistics of the records up to date: after a
        large push, before the next pull plans its pages (PostgreSQL; SQLite needs none)."""
        ...

    async def poi_reports(self, operator: str) -> builtins.list[StoredPoiReport]:
        """The POI findings kept for the operator's live records, by EvseID."""
        ...

    async def has_evse_data(self, operator: str) -> bool:
        """Whether the operator holds any live record (``OicpEvseDataLookup``)."""
        ...

    async def hubject_compatible(self, operator: str, canonical_evse_id: str) -> bool | None:
        """The live record's ``IsHubjectCompatible``; None without one."""
        ...


class OicpPricingRepository(Protocol):
    """Pricing offers (operator x ProviderID or ``*``) and EVSE pricing."""

    async def offer(self, operator: str, provider: str) -> PricingOffer | None: ...
    async def put_offer(self, offer: PricingOffer, at: datetime) -> None:
        """Insert or replace the offer (its ``updated_at`` becomes ``at``)."""
        ...

    async def offers(
        self, operators: Sequence[str], providers: Sequence[str], since: datetime | None
    ) -> builtins.list[PricingOffer]:
        """The offers of these operators to these providers, changed after ``since``
        when given (then also offers left without products), ordered by operator."""
        ...

    async def evse_pricing_keys(self, operator: str) -> set[tuple[str, str]]:
        """(canonical EvseID, provider) of the operator's EVSE pricing."""
        ...

    async def put_evse_pricing(self, entries: Sequence[EvsePricingEntry], at: datetime) -> None:
        """Insert or replace each entry."""
        ...

    async def delete_evse_pricing(self, operator: str, keys: Iterable[tuple[str, str]]) -> int: ...
    async def evse_pricing(
        self, operators: Sequence[str], providers: Sequence[str], since: datetime | None
    ) -> builtins.list[EvsePricingEntry]:
        """EVSE pricing of these operators for these providers (changed after ``since``
        when given), ordered by operator, EvseID and provider."""
        ...
