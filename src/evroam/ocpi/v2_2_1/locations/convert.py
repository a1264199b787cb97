"""Locations wire models <-> canonical documents (``core/objects.py``).

The canonical document of a Location is its OCPI 2.2.1 JSON with absent optional fields
LEFT OUT, never ``null`` (issue 7: a well-known client rejects ``null`` where it expects
a list). The validators and mergers below are what the routes hand to ``LocationsService``, so the
service checks a merged PATCH result without importing a wire model.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from evroam.core.errors import InvalidInput
from evroam.core.objects import Document
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.locations.models import EVSE, EVSEPatch, Location


def to_document(model: BaseModel) -> Document:
    doc: Document = model.model_dump(mode="json", exclude_none=True)
    return doc


def dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _check(model: type[BaseModel], what: str, doc: Document) -> Document:
    try:
        return to_document(model.model_validate(doc))
    except ValidationError as exc:
        raise InvalidInput(f"{what}: {describe_validation_error(exc)}") from None


def validate_location(doc: Document) -> Document:
    """A whole Location (after a merge): 2001-style ``InvalidInput`` when not valid."""
    return _check(Location, "Location", doc)


def validate_evse(doc: Document) -> Document:
    return _check(EVSE, "EVSE", doc)


def merge_location(target: Document, patch: Document) -> Document:
    """A Location PATCH merged and validated whole: one of its rules spans fields
    (``publish_allowed_to`` only with ``publish`` false)."""
    return validate_location({**target, **patch})


def validate_evse_patch(doc: Document) -> Document:
    """An EVSE PATCH body, checked field by field (what ``merge_fields`` relies on)."""
    return _check(EVSEPatch, "EVSE", doc)
