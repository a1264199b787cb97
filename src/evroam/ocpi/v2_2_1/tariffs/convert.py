"""Tariff wire model <-> canonical document (``core/objects.py``).

The canonical form is the OCPI 2.2.1 JSON shape itself, so converting is dumping:
absent optional fields are left out, never written as ``null`` (issue 7: a well-known
client rejects ``null`` where it expects a list), and numbers keep the JSON type they
came in (see ``models.py``). The text is serialised once, compactly, when the tariff is
stored; Sender pages then join stored texts without parsing them.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from evroam.core.errors import InvalidInput
from evroam.core.objects import Document, ObjectKey
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.tariffs.models import Tariff


def to_document(tariff: Tariff) -> Document:
    return tariff.model_dump(mode="json", exclude_none=True)


def dumps(doc: Document) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def key_of(tariff: Tariff) -> ObjectKey:
    """Tariffs are keyed by their owner and id only (no variant)."""
    return ObjectKey(tariff.country_code, tariff.party_id, tariff.id)


def parse_tariff(data: Any) -> Tariff:
    """Any JSON value -> Tariff, or ``InvalidInput`` naming the bad field (2001)."""
    try:
        return Tariff.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def validate_document(doc: Document) -> Document:
    """A document as it would be stored: validated and re-dumped in canonical form."""
    return to_document(parse_tariff(doc))
