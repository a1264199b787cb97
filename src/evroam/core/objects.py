"""Objects of the OCPI functional modules (Locations, Tariffs, Tokens, Sessions, CDRs),
as the platform stores them: a key, who sent it, when it last changed, and its document.

The document is the object in canonical form, the OCPI 2.2.1 JSON shape, validated by
the version's wire model when it came in and serialised once. Serving a page of a Sender
list then joins stored texts instead of re-validating every object on every read (a
partner may page through 100,000 locations); another version's package converts from
the canonical form where its wire shape differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evroam.core.types import ModuleId

Document = dict[str, Any]


def dump_document(doc: Any) -> str:
    """A document's stored text: compact, UTF-8 as it is (no ``\\u`` escapes)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """(country_code, party_id, id) of an object, plus ``variant`` where the module keys
    on more (a Token's ``type``). country_code and party_id are CiStrings, kept upper
    case; the id keeps the case it was given, and ``id_key`` is what comparisons use, so
    objects of different owners never collide and ``loc1`` finds ``LOC1``."""

    country_code: str
    party_id: str
    id: str
    variant: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "country_code", self.country_code.upper())
        object.__setattr__(self, "party_id", self.party_id.upper())

    @property
    def id_key(self) -> str:
        return self.id.upper()

    @property
    def party(self) -> tuple[str, str]:
        return (self.country_code, self.party_id)

    @property
    def label(self) -> str:
        suffix = f" ({self.variant})" if self.variant else ""
        return f"{self.country_code}-{self.party_id}/{self.id}{suffix}"


def key_identity(key: ObjectKey) -> tuple[str, str, str, str]:
    """What makes two keys the same object: ids compared case-insensitively."""
    return (key.country_code, key.party_id, key.id_key, key.variant)


@dataclass(slots=True)
class StoredObject:
    """One object of one module. ``partner_id`` is the partner that sent it (None: the
    node's own). ``shared`` says whether partners may read it from our Sender interface
    (a Location with ``publish`` false and nobody allowed is not shared). ``audience``
    narrows that to one party, ``CC-PID``: a Session or CDR concerns the eMSP whose token
    it carries, and no other partner may read it."""

    module: ModuleId
    key: ObjectKey
    last_updated: datetime
    document_json: str
    partner_id: int | None = None
    shared: bool = True
    created_at: datetime | None = None
    audience: str | None = None
    # Where the store keeps it, in insertion order: pages continue after it.
    row_id: int | None = None
    #: Set by a change of the group-commit writer (``services/writes.py``) that hands over
    #: the parsed document instead of its text: the writer renders ``document_json`` from
    #: it once, before the batch is stored, and a later change of the same object in that
    #: batch reads it rather than parsing the text again. Never set outside a batch.
    document: Document | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """A page of one module's objects. ``own`` True: the node's own objects (what its
    Sender interfaces serve); False: objects partners sent. ``partner_id`` and ``party``
    narrow it; ``shared_only`` and ``audience`` leave out what the caller may not read.
    ``date_from`` is inclusive and ``date_to`` exclusive, on ``last_updated`` (OCPI
    pagination)."""

    module: ModuleId
    own: bool | None = True
    partner_id: int | None = None
    party: tuple[str, str] | None = None
    shared_only: bool = False
    # The caller's parties (``CC-PID``): objects with an audience outside them are left out.
    audience: frozenset[str] | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    offset: int = 0
    limit: int = 100
    # Continue after this stored row instead of skipping ``offset`` rows (keyset paging).
    after_row: int | None = None


@dataclass(frozen=True, slots=True)
class ObjectPage:
    total: int
    objects: list[StoredObject]
