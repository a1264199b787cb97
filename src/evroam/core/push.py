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
    """

    module: ModuleId
    key: ObjectKey
    method: PushMethod
    path: tuple[str, ...]
    body: Document | None
    query: tuple[tuple[str, str], ...] = ()
    audience: tuple[str, str] | None = None
