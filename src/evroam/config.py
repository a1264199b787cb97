"""Node configuration: environment variables ``EVROAM_*``, overridden by CLI flags.

Every field has a safe default so that ``evroam serve`` runs with no configuration at
all: SQLite in the working directory, loopback, one demo CPO party. Nothing here is read
at import; ``Settings()`` is built by the CLI (or a test) and handed to ``create_app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from evroam.core.types import BusinessDetails, Party, Role

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
PartyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{3}$")]


class SyncSettings(BaseModel):
    """Catch-up after an outage (``services/sync.py``); ``EVROAM_SYNC__<FIELD>``."""

    after_offline: bool = Field(
        default=True,
        description="When a partner comes back from OFFLINE, pull its Sender lists once "
        "(its modules, since it was last heard of minus the margin).",
    )
    margin: float = Field(
        default=300.0,
        ge=0,
        description="Seconds before the partner was last heard of where that pull starts "
        "(clock skew, changes made just before the outage).",
    )


class PartyConfig(BaseModel):
    """One of this node's own parties, announced to partners in its credentials roles."""

    country_code: CountryCode
    party_id: PartyId
    role: Role
    name: str = Field(default="evroam node", max_length=100)
    website: str | None = Field(default=None, max_length=255)

    def to_party(self) -> Party:
        return Party(
            country_code=self.country_code,
            party_id=self.party_id,
            role=self.role,
            business_details=BusinessDetails(name=self.name, website=self.website),
        )


class PushSettings(BaseModel):
    """The push outbox's delivery (``push/worker.py``); ``EVROAM_PUSH__<FIELD>``."""

    worker: bool = Field(
        default=True,
        description="Deliver inside 'evroam serve'; off when only 'evroam worker' "
        "processes deliver.",
    )
    poll_interval: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between looks at the queue when idle."
    )
    batch_size: int = Field(default=200, ge=1, le=5000, description="Entries per claim.")
    concurrency: int = Field(default=16, ge=1, le=256, description="Calls in flight per partner.")
    lease: float = Field(
        default=120.0,
        gt=0,
        description="Seconds a claimed entry is a worker's; then another may send it. "
        "Longer than partner_timeout + 10 s, or a slow call may be sent twice.",
    )
    backoff_base: float = Field(default=1.0, gt=0, description="First retry delay, seconds.")
    backoff_max: float = Field(default=300.0, gt=0, description="Longest retry delay, seconds.")
    max_attempts: int = Field(
        default=0, ge=0, description="Attempts before an entry is a dead letter; 0 = never."
    )
    offline_after: int = Field(
        default=5, ge=1, description="Consecutive failed deliveries that make a partner OFFLINE."
    )
    retention_hours: float = Field(
        default=1.0,
        ge=0.05,
        description="Hours delivered entries are kept (the operator's delivery rate and "
        "recent history); then deleted in small batches.",
    )
    purge_batch: int = Field(default=500, ge=1, description="Entries deleted per statement.")


class CommandSettings(BaseModel):
    """Commands and ChargingProfiles (issue 10); ``EVROAM_COMMANDS__<FIELD>``."""

    timeout: int = Field(
        default=30,
        ge=5,
        le=3600,
        description="Seconds the CPO gives its chargers to answer a command or a charging "
        "profile request (the CommandResponse's timeout); then it answers TIMEOUT itself.",
    )
    expire_after: int = Field(
        default=300,
        ge=10,
        description="Seconds an eMSP waits for a result beyond the CPO's timeout before it "
        "marks a sent command as expired.",
    )


class BackendSettings(BaseModel):
    """The charge-point backend of a CPO node (``core/backend.py``);
    ``EVROAM_BACKEND__<FIELD>``. ``none``: commands and charging profiles are answered
    NOT_SUPPORTED."""

    kind: Literal["none", "simulator", "webhook"] = "none"
    # simulator
    accept: bool = Field(
        default=True, description="Simulator: accept commands (false: answer REJECTED)."
    )
    step_seconds: float = Field(
        default=1.0, gt=0, description="Simulator: seconds between session updates."
    )
    authorize: bool = Field(
        default=False,
        description="Simulator: ask the eMSP for a real-time authorization before starting.",
    )
    silent: bool = Field(
        default=False,
        description="Simulator: take commands and profile requests but never answer (the "
        "node then answers TIMEOUT itself).",
    )
    power_kw: float = Field(
        default=11.0,
        gt=0,
        description="Simulator: charging power of a connector whose max_electric_power is "
        "not given.",
    )
    # webhook
    url: str | None = Field(
        default=None, description="Webhook: URL each command and profile request is POSTed to."
    )
    secret: SecretStr | None = Field(
        default=None,
        description="Webhook: shared secret, sent as a bearer token to the URL and required "
        "on the reports endpoint.",
    )
    timeout: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Webhook: seconds to wait for the backend to take a command.",
    )


class OicpSettings(BaseModel):
    """The OICP 2.3 hub (``evroam oicp serve``); ``EVROAM_OICP__<FIELD>``.

    Two listeners: partners reach the hub over mutual TLS on ``host``/``port`` (their
    client certificate is their only credential, digest §6); the operator API is plain
    HTTP on ``admin_host``/``admin_port``, loopback by default, guarded by the admin
    token.
    """

    host: str = Field(default="127.0.0.1", description="Address of the partner listener.")
    port: int = Field(default=8090, ge=0, le=65535, description="Port of the partner listener.")
    admin_host: str = Field(default="127.0.0.1", description="Address of the operator API.")
    admin_port: int = Field(default=8091, ge=0, le=65535, description="Port of the operator API.")
    tls_cert: Path | None = Field(default=None, description="The hub's server certificate (PEM).")
    tls_key: Path | None = Field(default=None, description="The server certificate's key (PEM).")
    client_ca: Path | None = Field(
        default=None,
        description="CA certificate(s) partner client certificates must be signed by (PEM); "
        "the system store is never used for clients.",
    )
    cert_identity: Literal["cn", "san"] = Field(
        default="cn",
        description="Where a partner's identity is read in its client certificate: the "
        "subject commonName, or the subjectAltName entries.",
    )
    call_timeout: float = Field(
        default=10.0, gt=0, le=120, description="Seconds the hub waits for a partner it calls."
    )
    max_body_bytes: int = Field(
        default=5_000_000,
        ge=1024,
        description="Largest request body a partner may send (HTTP 413 above); EVSE data "
        "full loads are the largest bodies.",
    )
    client_cert: Path | None = Field(
        default=None,
        description="The hub's client certificate (PEM) for its calls to partners "
        "(forwarded authorizations, remote starts, CDRs, notifications).",
    )
    client_key: Path | None = Field(
        default=None, description="The client certificate's key (PEM); none: in client_cert."
    )
    partner_ca: Path | None = Field(
        default=None,
        description="CA certificate(s) partner servers are verified with when the hub "
        "calls them (PEM); none: the system store.",
    )
    caller_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="Seconds the partner found for a client certificate is remembered "
        "(changes through this hub's operator API apply at once; made elsewhere, within "
        "this time); 0 = look up on every request.",
    )


DEFAULT_PARTIES = [PartyConfig(country_code="NL", party_id="EVR", role=Role.CPO)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVROAM_", env_nested_delimiter="__", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///evroam.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(
        default=None,
        description="Base URL partners reach this node at; defaults to http://host:port.",
    )
    parties: list[PartyConfig] = Field(default_factory=lambda: list(DEFAULT_PARTIES))
    admin_token: SecretStr | None = None
    admin_token_file: Path | None = Field(
        default=None,
        description="File holding the admin token (kept out of the process list); "
        "overrides admin_token.",
    )
    allow_private_destinations: bool | None = Field(
        default=None,
        description="Let the node call partner URLs on loopback and private addresses. "
        "Default: allowed only when this node's own public URL is loopback or private. "
        "Link-local and cloud metadata addresses are always refused.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest request body accepted (HTTP 413 above)."
    )
    authorization_hook: str | None = Field(
        default=None,
        description="'package.module:function' deciding real-time authorizations instead of "
        "the stored tokens alone (see the Tokens module).",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
    )
    max_page_limit: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="Largest page a Sender list answers (X-Limit); larger limits are capped.",
    )
    sync: SyncSettings = Field(default_factory=SyncSettings)
    token_a_days: float = Field(
        default=30.0, gt=0, description="Days after which an unused token A expires."
    )
    max_registration_attempts: int = Field(
        default=5,
        ge=1,
        description="Failed registrations with one token A before that token A is revoked.",
    )
    liveness_interval: float = Field(
        default=300.0, ge=0, description="Seconds of silence before a partner is pinged; 0 = off."
    )
    partner_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for a partner's answer."
    )
    push: PushSettings = Field(default_factory=PushSettings)
    oicp: OicpSettings = Field(default_factory=OicpSettings)
    commands: CommandSettings = Field(default_factory=CommandSettings)
    backend: BackendSettings = Field(default_factory=BackendSettings)
    auto_migrate: bool = True
    log_level: str = "info"

    @model_validator(mode="after")
    def _admin_token(self) -> Settings:
        """The admin token may come from a file (so it is not in the process list or the
        environment); either way it must be long enough not to be guessed."""
        if self.admin_token_file is not None:
            try:
                text = self.admin_token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(
                    f"admin_token_file: cannot read {self.admin_token_file}: {exc.strerror}"
                ) from None
            self.admin_token = SecretStr(text)
        if self.admin_token is not None and len(self.admin_token.get_secret_value()) < 16:
            raise ValueError("admin_token: at least 16 characters (use a random string)")
        return self

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, v: str | None) -> str | None:
        return v.rstrip("/") if v else v

    @field_validator("parties")
    @classmethod
    def _parties_unique(cls, v: list[PartyConfig]) -> list[PartyConfig]:
        if not v:
            raise ValueError("a node needs at least one party")
        seen = set()
        for p in v:
            key = (p.country_code.upper(), p.party_id.upper(), p.role)
            if key in seen:
                raise ValueError(f"party {p.country_code}-{p.party_id} {p.role} listed twice")
            seen.add(key)
        return v

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def own_parties(self) -> list[Party]:
        return [p.to_party() for p in self.parties]
