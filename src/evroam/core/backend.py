"""The charge-point backend port: how a CPO node talks to its chargers (issue 10).

Why a port: OCPI stops at the CPO's platform. What happens at the charger (a session
starting, meter values, a status change, a connector unlocked) comes from whatever
drives the chargers: an OCPP central system, a vendor cloud, or, for a demo and the
tests, a simulator. The node hands commands and charging-profile requests to one
:class:`ChargePointBackend`, chosen in the settings, and the backend reports back
through :class:`BackendReports`, which the services implement with the SAME service
calls as the operator API. So a session the charger starts is stored, and pushed to the
eMSP through the outbox, exactly like a session an operator PUTs by hand, and nothing a
charger reports can skip a rule the operator API enforces.

Both sides are version-neutral: documents are canonical OCPI 2.2.1 JSON (a Token, a
Session, a CDR, a ChargingProfile), the shape the node stores.

Life of a command at a CPO node::

    partner POST /commands/START_SESSION
      -> services check it, store it (state ACCEPTED), answer CommandResponse at once
      -> backend.handle_command(command)            (never awaited by the HTTP request
                                                     beyond handing it over)
      -> ... the charger acts ...
      -> reports.command_result(command.id, ACCEPTED)   -> CommandResult POSTed to the
                                                           eMSP's response_url by the
                                                           outbox (never lost)
      -> reports.session_started(session document)       -> Session PUT to the eMSP
      -> reports.session_updated(party, session id, patch)   -> Session PATCH
      -> reports.session_ended(party, session id, patch) + reports.cdr(cdr document)

When the backend says nothing before the command's timeout, the node answers TIMEOUT
itself; a result the backend reports after that is kept for the operator and not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from evroam.core.objects import Document


class CommandType(StrEnum):
    """OCPI 2.2.1 CommandType: the ``{command}`` of the Receiver URL."""

    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(StrEnum):
    """The CPO's synchronous answer: whether it took the command, not what the charger
    did with it."""

    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    """What the charger did: POSTed later to the command's ``response_url``."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class ChargingProfileResponseType(StrEnum):
    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ProfileRequestType(StrEnum):
    """The three ChargingProfiles calls a CPO receives, each answered later by a result
    POSTed to its ``response_url``."""

    GET_ACTIVE = "GET_ACTIVE"  # GET ?duration=  -> ActiveChargingProfileResult
    SET = "SET"  # PUT SetChargingProfile     -> ChargingProfileResult
    CLEAR = "CLEAR"  # DELETE                 -> ClearProfileResult


@dataclass(frozen=True, slots=True)
class ChargerCommand:
    """One command the CPO node accepted and hands to its chargers.

    ``id``: the node's own id of the command (a UUID), the handle of every report
    about it. ``party``: the CPO party ``(country_code, party_id)`` the command was
    addressed to. Only the fields of its ``type`` are set (OCPI 2.2.1 §13.3):
    START_SESSION: token, location_id, evse_uid?, connector_id?, authorization_reference?;
    STOP_SESSION: session_id; RESERVE_NOW: token, expiry_date, reservation_id,
    location_id, evse_uid?, authorization_reference?; CANCEL_RESERVATION:
    reservation_id; UNLOCK_CONNECTOR: location_id, evse_uid, connector_id.
    ``emsp``: the eMSP party that sent it (the owner of the token or session).
    """

    id: str
    type: CommandType
    party: tuple[str, str]
    emsp: tuple[str, str]
    received_at: datetime
    timeout_s: int
    token: Document | None = None
    location_id: str | None = None
    evse_uid: str | None = None
    connector_id: str | None = None
    session_id: str | None = None
    reservation_id: str | None = None
    expiry_date: datetime | None = None
    authorization_reference: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileRequest:
    """One ChargingProfiles call the CPO node accepted for one of its sessions.
    ``profile`` (canonical ChargingProfile) is set for SET, ``duration_s`` for
    GET_ACTIVE."""

    id: str
    type: ProfileRequestType
    party: tuple[str, str]
    session_id: str
    received_at: datetime
    timeout_s: int
    profile: Document | None = None
    duration_s: int | None = None


@dataclass(frozen=True, slots=True)
class Authorization:
    """What the eMSP answered to a real-time authorization asked by the backend:
    ``allowed`` is the AuthorizationInfo's ``allowed`` (ALLOWED, BLOCKED, ...), with
    the ``authorization_reference`` to put into the session."""

    allowed: str
    authorization_reference: str | None = None
    token: Document | None = None
    info: Document = field(default_factory=dict)


class BackendError(Exception):
    """The backend could not take a command or request at all (unreachable, refused):
    the node answers REJECTED (or NOT_SUPPORTED where ``not_supported``) at once."""

    def __init__(self, message: str, *, not_supported: bool = False) -> None:
        super().__init__(message)
        self.not_supported = not_supported


class BackendReports(Protocol):
    """What a backend reports into the node: each method is one service call, in its
    own transaction, with the pushes to partners it owes (the services implement it).

    Documents are canonical OCPI 2.2.1; ``last_updated`` in them is set by the caller.
    A report that breaks a rule (an unknown EVSE, a session of another party, a PATCH
    without ``last_updated``) raises the same :class:`~evroam.core.errors.DomainError`
    the operator API would answer with.
    """

    async def command_result(
        self, command_id: str, result: CommandResultType, message: str | None = None
    ) -> None:
        """The charger's result of a command: POSTed to its ``response_url``."""

    async def profile_result(
        self,
        request_id: str,
        result: ChargingProfileResultType,
        active_profile: Document | None = None,
    ) -> None:
        """The result of a ChargingProfiles request (with the ActiveChargingProfile for
        GET_ACTIVE): POSTed to its ``response_url``."""

    async def active_profile_changed(
        self, party: tuple[str, str], session_id: str, active_profile: Document
    ) -> None:
        """The charger's active profile of a session changed: PUT to the eMSP/SCSP that
        set a profile on it."""

    async def evse_status(
        self, party: tuple[str, str], location_id: str, evse_uid: str, status: str, at: datetime
    ) -> None:
        """An EVSE's status moved: an EVSE PATCH, as ``PATCH /api/v1/locations``."""

    async def session_started(self, session: Document) -> None:
        """A new session (whole Session object): stored and PUT to its eMSP."""

    async def session_updated(
        self, party: tuple[str, str], session_id: str, patch: Document
    ) -> None:
        """kWh, cost, charging periods, status of a running session: a Session PATCH."""

    async def session_ended(self, party: tuple[str, str], session_id: str, patch: Document) -> None:
        """The session's end (status COMPLETED, end_date_time, totals): a PATCH."""

    async def cdr(self, cdr: Document) -> None:
        """The session's CDR: stored and POSTed to its eMSP."""

    async def location(self, party: tuple[str, str], location_id: str) -> Document | None:
        """Read one of the node's own Locations (with its EVSEs and connectors), as
        stored: what a simulator needs to pick a connector and its tariff."""

    async def tariff(self, party: tuple[str, str], tariff_id: str) -> Document | None:
        """Read one of the node's own Tariffs, to price a session."""

    async def authorize(
        self,
        token_uid: str,
        token_type: str,
        location_id: str | None = None,
        evse_uids: list[str] | None = None,
        *,
        party: tuple[str, str] | None = None,
    ) -> Authorization:
        """Ask the token's eMSP for a real-time authorization (OCPI Tokens Sender
        ``POST {tokens}/{uid}/authorize``). ``party``: the token's owner (its
        country_code/party_id, as a command's token carries them); without it the eMSP
        is the partner whose copy of the token this node holds. Raises DomainError when
        no partner owns the token or the eMSP cannot be asked."""


class ChargePointBackend(Protocol):
    """The chargers behind a CPO node. Implementations: the simulator
    (``evroam.backends.simulator``) and the webhook adapter
    (``evroam.backends.webhook``), chosen by ``EVROAM_BACKEND__KIND``.

    ``handle_command`` and ``handle_profile`` return once the backend has TAKEN the
    request (queued it, or sent it to the charger system), not when the charger is done:
    what the charger did comes later through :class:`BackendReports`. They raise
    :class:`BackendError` when the request cannot be taken at all.
    """

    name: str

    async def start(self, reports: BackendReports) -> None:
        """Begin: keep ``reports`` to report through. Called once when the node starts."""

    async def close(self) -> None:
        """Stop: cancel what runs, release connections. Called once at shutdown."""

    async def handle_command(self, command: ChargerCommand) -> None: ...

    async def handle_profile(self, request: ProfileRequest) -> None: ...
