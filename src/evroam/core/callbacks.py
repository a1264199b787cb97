"""Requests answered twice: at once, and later by a POST to the caller's ``response_url``.

OCPI 2.2.1 has two such modules (digest §5.6, §5.7): Commands (the eMSP asks the CPO to
start, stop, reserve, cancel, unlock; the CPO answers a CommandResponse, then POSTs a
CommandResult) and ChargingProfiles (GET/PUT/DELETE answered by a
ChargingProfileResponse, then a result POSTed). Both sides keep each request:

* the CPO side (the Receiver) keeps a :class:`ReceivedRequest` from the moment it
  accepted it until its result went out through the outbox (the charger's, or TIMEOUT
  given by the node itself when the charger says nothing in time);
* the eMSP side (the Sender) keeps a :class:`SentRequest` from before the call (so a
  result that overtakes the answer still finds it) until its result came, or until it
  expired waiting for one.

One shape for both modules (``kind``), so the storage, the timeout watchdog and the
expiry run once for every kind; only what a kind's results look like differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from evroam.core.errors import DomainError
from evroam.core.objects import Document


class RequestKind(StrEnum):
    """Which module a kept request belongs to."""

    COMMAND = "command"
    PROFILE = "profile"


class ReceivedState(StrEnum):
    """Where a request the node accepted (as CPO) is.

    WAITING: handed to the chargers, no result yet. DONE: the charger's result was
    recorded and queued for the caller. TIMEOUT: nothing came before ``timeout_at``; the
    node queued TIMEOUT itself (a later result is kept as ``late_result``, never sent).
    REFUSED: the backend could not take it; the caller was answered so at once.
    """

    WAITING = "WAITING"
    DONE = "DONE"
    TIMEOUT = "TIMEOUT"
    REFUSED = "REFUSED"


class SentState(StrEnum):
    """Where a request the node sent (as eMSP) is: SENT until the CPO answered, then
    the CPO's answer (a CommandResponseType or ChargingProfileResponseType), RESULT once
    the result came, EXPIRED when none came in time, FAILED when the call got no usable
    answer (unreachable, refused, an error status without a response)."""

    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"
    TOO_OFTEN = "TOO_OFTEN"
    FAILED = "FAILED"
    RESULT = "RESULT"
    EXPIRED = "EXPIRED"


#: States of a sent request still waiting for its result (the expiry watches these).
AWAITING_RESULT = (SentState.SENT, SentState.ACCEPTED)


class UnknownRequest(DomainError):
    """No kept request with that id (or not one of the caller's)."""


def party_label(party: tuple[str, str]) -> str:
    """A party as stored: ``CC-PID``, upper-case."""
    return f"{party[0].upper()}-{party[1].upper()}"


def party_of(label: str) -> tuple[str, str]:
    cc, _, pid = label.partition("-")
    return (cc, pid)


@dataclass(slots=True, kw_only=True)
class KeptRequest:
    """What a kept request is on either side: ``party`` is always the CPO's,
    ``body`` the request (``response_url`` included), ``result``/``result_body`` what
    was (or is to be) POSTed to ``response_url``. Built by keyword only, so each side
    adds its own fields without an order to keep."""

    id: str
    kind: RequestKind
    type: str
    partner_id: int | None
    party: str
    body: Document
    response_url: str
    created_at: datetime
    session_id: str | None = None
    result: str | None = None
    result_body: Document | None = None
    result_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class ReceivedRequest(KeptRequest):
    """A request a partner sent the node (as CPO) and the node accepted.

    ``party``: the node's party it was addressed to; ``requester``: the partner's party
    that sent it, the only one the result goes to. ``message``: the result's text.
    """

    requester: str
    state: ReceivedState
    timeout_at: datetime
    message: str | None = None
    late_result: str | None = None
    late_result_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class SentRequest(KeptRequest):
    """A request the node (as eMSP) sent to a partner (a CPO).

    ``party``: the partner's party addressed; ``sender``: the node's party that sent it.
    ``response``/``timeout``: the partner's answer at once; ``result``/``result_body``:
    what it POSTed later. ``expires_at``: when the node stops waiting for the result.
    """

    sender: str
    state: SentState
    expires_at: datetime
    response: str | None = None
    timeout: int | None = None
    response_message: str | None = None
    responded_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer at once to a request (CommandResponse, ChargingProfileResponse),
    version-neutral, as the CPO side gives it and the eMSP side reads it: ``result`` the
    response type, ``timeout`` the seconds to wait for the result, ``message`` its text
    (DisplayTexts joined), ``status_code`` the OCPI status of the envelope (2003 for an
    unknown location, with a REJECTED response: OCPI 2.2.1 mod_commands, digest §5.6)."""

    result: str
    timeout: int | None = None
    message: str | None = None
    status_code: int = 1000
