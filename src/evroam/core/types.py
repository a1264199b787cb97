"""Domain types shared by every protocol version.

These are the platform's own view of a roaming connection; the wire models of each
OCPI version convert to and from them, so services never see a version's quirks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for version numbers such as "2.2.1"; anything unparsable sorts first."""
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (0,)


class Role(StrEnum):
    """OCPI 2.2.1 Role (types: Role). 2.3.0 drops HUB; that is a wire concern."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class ConnectionStatus(StrEnum):
    """OCPI HubClientInfo ConnectionStatus, used for every partner, hub or not."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ModuleId(StrEnum):
    """OCPI module identifiers (versions: ModuleID). Services and version packages name a
    module through this enum, never through a string literal."""

    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class CredentialsTokenKind(StrEnum):
    """Which credentials token a stored hash is.

    ``A`` is the offline invitation token: valid only for versions, version details and
    the credentials POST. ``AUTH`` is the token we issued in a handshake (token C when the
    partner registered with us, token B when we registered with them): valid everywhere.
    """

    A = "A"
    AUTH = "AUTH"


@dataclass(frozen=True, slots=True)
class BusinessDetails:
    name: str
    website: str | None = None
    logo: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """One (country_code, party_id, role) a platform hosts; CredentialsRole on the wire.

    country_code and party_id are CiStrings: kept upper-case so that comparisons and
    database keys are case-insensitive without every caller remembering to fold.
    """

    country_code: str
    party_id: str
    role: Role
    business_details: BusinessDetails

    def __post_init__(self) -> None:
        object.__setattr__(self, "country_code", self.country_code.upper())
        object.__setattr__(self, "party_id", self.party_id.upper())

    @property
    def key(self) -> tuple[str, str]:
        return (self.country_code, self.party_id)

    @property
    def label(self) -> str:
        return f"{self.country_code}-{self.party_id}"


@dataclass(frozen=True, slots=True)
class Endpoint:
    identifier: str
    role: InterfaceRole | None
    url: str


@dataclass(slots=True)
class Partner:
    """A roaming partner and everything needed to talk to it.

    ``token_out`` is the partner's token, which we must send; it is kept but never logged
    (``repr`` hides it). The tokens we issued live only as hashes in the token store.
    """

    id: int
    status: ConnectionStatus
    versions_url: str | None = None
    version: str | None = None
    endpoints: list[Endpoint] = field(default_factory=list)
    roles: list[Party] = field(default_factory=list)
    token_out: str | None = field(default=None, repr=False)
    initiated_by_us: bool = False
    registered_at: datetime | None = None
    last_connection: datetime | None = None
    status_changed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    note: str | None = None
    # Set while a registration we started is in flight (token B committed, POST not yet
    # answered); a node that dies in between finds it at start-up and revokes token B.
    pending_since: datetime | None = None
    # What the node itself has to tell the operator about this partner (shown as text).
    notice: str | None = None

    @property
    def registered(self) -> bool:
        return self.registered_at is not None and self.status != ConnectionStatus.SUSPENDED

    @property
    def label(self) -> str:
        return self.roles[0].label if self.roles else f"partner#{self.id}"

    @property
    def party_keys(self) -> set[tuple[str, str]]:
        return {p.key for p in self.roles}

    def endpoint(self, identifier: str, role: InterfaceRole | None = None) -> Endpoint | None:
        """The partner's endpoint for a module; role None matches any (2.1.1 has none)."""
        for ep in self.endpoints:
            if ep.identifier == identifier and (role is None or ep.role in (role, None)):
                return ep
        return None


@dataclass(frozen=True, slots=True)
class Quirk:
    """Something a partner platform needs that OCPI does not say (a learnt deviation),
    remembered per host so that it survives a restart. ``kind`` is e.g. ``raw-token``
    (value ``"1"``) or ``rewrite`` (value: the URL that answers, keyed by ``key``)."""

    host: str
    kind: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """A party reachable through a hub, as the hub reported it (HubClientInfo)."""

    country_code: str
    party_id: str
    role: Role
    status: ConnectionStatus
    last_updated: datetime
