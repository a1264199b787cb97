"""The OICP hub's charging processes: sessions, charge detail records, charging
notifications kept for offline EMPs, and the authentication data EMPs push.

A session is the hub's record of one process (digest §3): the hub makes its SessionID
(a GUID) on the first message (AuthorizeStart, AuthorizeRemoteStart,
AuthorizeRemoteReservationStart) and every later message of the process must carry it
and come from one of its two parties. The partners' own keys
(``CPOPartnerSessionID``/``EMPPartnerSessionID``) are kept with it and carried through
every later message and answer.

An identification is kept in two forms: as sent (JSON text, for forwarding and
records, with a clear PIN removed) and as a *medium key* (``kind:canonical value``), on
which offline authorization and the "same medium" rule of AuthorizeStop compare. The
wire layer computes both (:class:`Medium`): this module knows no wire syntax.

Date-times of the partners' messages are kept as the text they sent (digest §8.9);
``*_at`` fields are the hub's own clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from evroam.core.errors import DomainError
from evroam.core.oicp import OicpRefusal


class AuthorizationMethod(StrEnum):
    """How a session came to be authorized."""

    OFFLINE = "offline"  # the hub matched an EMP's pushed authentication data
    ONLINE = "online"  # an EMP answered the forwarded AuthorizeStart
    REMOTE = "remote"  # the EMP started it (AuthorizeRemoteStart)
    RESERVATION = "reservation"  # the EMP reserved the EVSE (reservation start)


class SessionState(StrEnum):
    PENDING = "pending"  # made, its forward to the other party is under way
    ACTIVE = "active"
    STOPPED = "stopped"  # a stop was authorized or accepted
    CLOSED = "closed"  # its charge detail record arrived: nothing follows


class CallFailure(StrEnum):
    """Why a call to a partner gave no usable answer (the edge maps it to 310/320)."""

    NO_ANSWER = "no answer"  # timeout, connection refused or reset
    NOT_OICP = "not OICP"  # an answer, but not the operation's answer


@dataclass(frozen=True, slots=True)
class Medium:
    """An identification as the hub compares it: ``key`` is ``kind:canonical value``
    (``RFID:04A2B3C4``, ``QR:DE8EOCAET5E4XY3``); ``provider`` the canonical ProviderID
    it routes to (an EvcoID's prefix; ``None`` for an RFID UID); ``pin`` the clear PIN
    of a QR code in an authorization (never stored, never shown); ``wire`` the
    identification as sent, as JSON text without a clear PIN."""

    key: str
    provider: str | None
    wire: str
    pin: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class OicpSession:
    session_id: str
    operator: str  # canonical OperatorID of the CPO
    operator_id: str  # the CPO's OperatorID as the hub calls it
    method: AuthorizationMethod
    state: SessionState
    created_at: datetime
    updated_at: datetime
    evse_id: str | None = None
    provider: str | None = None  # canonical ProviderID, once known
    provider_id: str | None = None
    identification: str | None = None  # JSON as sent, no clear PIN
    medium_key: str | None = None
    pin_hash: str | None = field(default=None, repr=False)
    cpo_partner_session_id: str | None = None
    emp_partner_session_id: str | None = None
    session_start: str | None = None  # as the CPO sent it
    session_end: str | None = None


@dataclass(frozen=True, slots=True)
class AuthenticationRecord:
    """One medium an EMP allows the hub to authorize offline. ``pin_hash`` is the hub's
    hash of a clear PIN the EMP pushed; ``hashed_pin`` a ``HashedPIN`` value as given."""

    provider: str
    key: str
    identification: str
    pin_hash: str | None = field(default=None, repr=False)
    hashed_pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class StoredCdr:
    session_id: str
    operator: str
    provider: str | None
    evse_id: str
    record: str  # the CDR as JSON text, date-times as sent
    received_at: datetime
    forwarded: bool = False


@dataclass(frozen=True, slots=True)
class CdrQuery:
    """GetChargeDetailRecords: the provider's CDRs received in [start, end]."""

    provider: str
    start: datetime
    end: datetime
    session_ids: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    forwarded: bool | None = None


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What an operator asks of the hub's sessions (the operator API, not a partner):
    canonical OperatorID/ProviderID, a canonical EvseID, sessions made at or after
    ``since``. ``None`` matches anything."""

    operator: str | None = None
    provider: str | None = None
    evse_id: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class CdrFilter:
    """What an operator asks of the hub's CDRs: by provider and operator (canonical),
    whether forwarded to an online EMP, received at or after ``since``."""

    provider: str | None = None
    operator: str | None = None
    forwarded: bool | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeptNotification:
    """A charging notification for an EMP without an endpoint, kept as sent."""

    session_id: str
    provider: str | None
    kind: str
    body: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class PartnerAnswer:
    """A partner's answer to a call the hub forwarded, validated by the edge: whether it
    accepted (``Result`` true, ``Authorized``), its status code and text, the partner
    session IDs it gave, and the answer itself in wire form for relaying."""

    accepted: bool
    code: str
    body: Mapping[str, Any]
    cpo_partner_session_id: str | None = None
    emp_partner_session_id: str | None = None


# ---------------------------------------------------------------------- errors


class PartnerCallFailed(DomainError):
    """The partner gave no usable answer (``failure`` says which kind)."""

    def __init__(self, partner: str, failure: CallFailure, detail: str = "") -> None:
        super().__init__(f"{partner}: {failure.value}{': ' + detail if detail else ''}")
        self.partner = partner
        self.failure = failure


class UnknownSession(OicpRefusal):
    """A SessionID the hub did not make, made for another partner, or ended (OICP 400)."""


class NoSuchPartner(OicpRefusal):
    """The partner a request must go to is not registered or cannot be called (300)."""


class ForeignEvco(OicpRefusal):
    """An EvcoID of another provider in an authentication data push (019)."""


class UnknownEvse(OicpRefusal):
    """The operator pushed EVSE data, and not this EVSE (603)."""


class EvseNotCompatible(OicpRefusal):
    """The EVSE's data says ``IsHubjectCompatible`` false (604)."""


class DuplicateCdr(OicpRefusal):
    """A second charge detail record for one session (answered 022, see cdrs service)."""
