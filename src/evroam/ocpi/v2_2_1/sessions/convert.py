"""Session wire model <-> canonical document (``core/objects.py``: the OCPI 2.2.1 JSON
shape, serialised once).

``exclude_none``: what evroam sends leaves absent optional fields out, never ``null``
(issue 7; a well-known client rejects ``null`` where it expects a list).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from evroam.core.errors import InvalidInput
from evroam.core.objects import Document
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.sessions.models import ChargingPreferences, Session, SessionPatch


def to_document(model: Session | SessionPatch | ChargingPreferences) -> Document:
    return model.model_dump(mode="json", exclude_none=True)


def to_json(doc: Document) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def validate_session(doc: Any) -> Document:
    """A whole Session (e.g. a stored one after a PATCH was merged in) in canonical form,
    or InvalidInput naming the bad field (OCPI 2001). The service calls this, so that it
    needs no wire model itself."""
    try:
        return to_document(Session.model_validate(doc))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None
