"""CDR wire model <-> canonical document (``core/objects.py``).

The canonical document is the 2.2.1 JSON itself: absent optional fields are left out,
never written as ``null`` (issue 7; some partners reject ``null``), and the text is
serialised once here so that a Sender page joins stored texts.
"""

from __future__ import annotations

import json

from evroam.core.objects import Document, ObjectKey, StoredObject
from evroam.core.types import ModuleId
from evroam.ocpi.v2_2_1.cdrs.models import ReceivedCDR


def key_of(cdr: ReceivedCDR) -> ObjectKey:
    return ObjectKey(cdr.country_code, cdr.party_id, cdr.id)


def to_document(cdr: ReceivedCDR) -> Document:
    return cdr.model_dump(mode="json", exclude_none=True)


def dump_document(doc: Document) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def to_stored(cdr: ReceivedCDR) -> StoredObject:
    """The CDR as a stored object; its ``last_updated`` is its creation time (CDRs never
    change, mod_cdrs §"CDR Object"). Who sent it (``partner_id``) the service decides."""
    token = cdr.cdr_token
    owner = (
        f"{token.country_code.upper()}-{token.party_id.upper()}"
        if token.country_code and token.party_id
        else None
    )
    return StoredObject(
        module=ModuleId.CDRS,
        key=key_of(cdr),
        last_updated=cdr.last_updated,
        document_json=dump_document(to_document(cdr)),
        # Only the eMSP whose token was charged may read the CDR from our Sender.
        audience=owner,
    )


def from_document(doc: object) -> ReceivedCDR:
    """A stored or fetched document back to the wire model (raises ValidationError)."""
    return ReceivedCDR.model_validate(doc)
