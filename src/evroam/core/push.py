"""What the node owes its partners: one change of its own data, as the push outbox takes it.

The writer that changes the node's own objects (Locations, Tokens, Tariffs, Sessions,
CDRs) describes each change once, version-neutral, as a :class:`PushChange`, and hands
the batch to ``OutboxPort.enqueue`` inside the same transaction (DESIGN.md "Push and
outbox"): the change and what is owed for it commit together or not at all. The outbox
then writes one entry per subscribed partner, rendered for that partner's OCPI version.

The change names its target as URL parts after the module's endpoint URL (OCPI 2.2.1
§1.9, each module's Receiver interface), so the outbox needs no knowledge of a module's
URL layout, and ``key`` is the top-level object: the unit of per-object order (a PATCH of
an EVSE never overtakes the PUT of its Location).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from evroam.core.objects import Document, ObjectKey
from evroam.core.types import ModuleId


class PushMethod(StrEnum):
    """The HTTP method of a Receiver call: PUT a whole object, PATCH a part, POST a CDR,
    DELETE (Tariffs)."""

    PUT = "PUT"
    PATCH = "PATCH"
    POST = "POST"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class PushChange:
    """One change of the node's OWN data that every partner receiving ``module`` is owed.

    ``key``: the top-level object (Location, Token, Tariff, Session, CDR), the unit of
    per-object ORDER. ``path``: Receiver URL parts after the module's endpoint URL, e.g.
    ``(cc, pid, location_id, evse_uid)``, ``()`` for a CDR POST; with ``query`` (e.g.
    ``(("type", "RFID"),)`` for Tokens) it is also what coalesces: a later change of the
    same path merges into a pending one. ``body``: canonical OCPI 2.2.1 JSON, the whole
    object (PUT/POST) or the patch (PATCH); None for DELETE.

    ``audience``: the one party ``(country_code, party_id)`` allowed to receive it, as
    ``StoredObject.audience`` says for reading: a Session or CDR goes only to the partner
    holding the eMSP party of its token, never to every eMSP. None: every partner
    receiving the module.

    ``url``: an absolute URL the partner gave for this one call (a command's or a
    charging-profile request's ``response_url``, OCPI 2.2.1 mod_commands §"Sender
    Interface"), instead of a path after its endpoint. Such a change needs ``audience``:
    it goes to exactly the partner holding that party, as a POST that never coalesces,
    whatever endpoints it lists; the destination policy still decides at send time.
    """

    module: ModuleId
    key: ObjectKey
    method: PushMethod
    path: tuple[str, ...]
    body: Document | None
    query: tuple[tuple[str, str], ...] = ()
    audience: tuple[str, str] | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if self.url is not None and (self.audience is None or self.method != PushMethod.POST):
            raise ValueError("a push to a partner's URL is a POST to one audience party")


class OutboxState(StrEnum):
    """Where an outbox entry is in its life (``storage/tables/outbox.py``)."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker, under a lease
    DELIVERED = "delivered"
    DEAD = "dead"  # refused by the partner: holds its object until retried or dropped
    HELD = "held"  # the partner cannot receive now (reset, unregistered, SUSPENDED)


#: States of an entry that still owe the partner something: a later entry of the same
#: object waits while an earlier one is in any of them.
UNFINISHED = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.DEAD, OutboxState.HELD)


@dataclass(slots=True)
class OutboxEntry:
    """One Receiver call owed to one partner. ``body`` is the JSON text rendered for the
    partner's ``version`` when the entry was written; ``object_key`` orders (per partner
    and object, in ``id`` order) and ``target`` coalesces (the path and query)."""

    id: int
    partner_id: int
    version: str
    module: ModuleId
    method: PushMethod
    path: tuple[str, ...]
    query: tuple[tuple[str, str], ...]
    body: str | None
    from_party: str
    to_party: str
    object_key: str
    target: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    held_reason: str | None = None
    last_error: str | None = None
    last_http_status: int | None = None
    last_ocpi_status: int | None = None
    delivered_at: datetime | None = None
    #: An absolute URL the partner gave (``PushChange.url``): sent there, not to
    #: ``path`` after its endpoint.
    url: str | None = None


@dataclass(slots=True)
class PendingEntry:
    """What enqueue needs of a pending entry to merge into it or keep behind it: no
    more (reading whole entries cost more than the rest of an enqueue). Not frozen: an
    enqueue reads ten of them per change with ten partners, and a frozen dataclass's
    constructor costs seven times a plain one's; nothing changes them after the read."""

    id: int
    partner_id: int
    version: str
    method: PushMethod
    object_key: str
    target: str
    body: str | None


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one attempt of an entry came to: ``state`` DELIVERED, PENDING (a retry at
    ``next_attempt_at``) or DEAD; the partner's answer for the operator."""

    entry_id: int
    state: OutboxState
    attempts: int
    next_attempt_at: datetime | None = None
    error: str | None = None
    http_status: int | None = None
    ocpi_status: int | None = None


@dataclass(frozen=True, slots=True)
class QueueStat:
    """The queue of one partner and module, for the operator."""

    partner_id: int
    module: ModuleId
    pending: int = 0
    sending: int = 0
    dead: int = 0
    held: int = 0
    oldest_at: datetime | None = None  # the oldest unfinished entry's creation
    delivered_last_minute: int = 0
