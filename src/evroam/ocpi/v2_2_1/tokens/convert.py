"""Tokens wire models <-> canonical documents (``core/objects.py``).

The canonical document is the 2.2.1 JSON shape with absent optional fields left out
(issue 7: a well-known client rejects ``null``), serialised once, compactly, when it is
stored. Validation failures become ``InvalidInput`` (OCPI 2001) naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from evroam.core.errors import InvalidInput
from evroam.core.objects import Document, ObjectKey
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.tokens.models import (
    LocationReferences,
    Token,
    TokenPatch,
)
from evroam.ocpi.v2_2_1.types import DisplayText, TokenType

DEFAULT_TYPE = TokenType.RFID


def to_document(model: Token | TokenPatch | LocationReferences | DisplayText) -> Document:
    """Present fields only: never ``null`` on the wire."""
    return model.model_dump(mode="json", exclude_none=True)


def dumps(doc: Document) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def token_key(doc: Document) -> ObjectKey:
    """A Token is identified by (country_code, party_id, uid) and its type (mod_tokens
    §"Token Object": uid "combined with the Token type")."""
    return ObjectKey(doc["country_code"], doc["party_id"], doc["uid"], doc["type"])


def validate_token(doc: Document) -> Document:
    """A merged PATCH result must still be a whole Token; the canonical document back."""
    try:
        return to_document(Token.model_validate(doc))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def parse_type(raw: str | None, default: TokenType | None = DEFAULT_TYPE) -> TokenType | None:
    """The ``type`` query parameter (mod_tokens §"Receiver Interface", default RFID)."""
    if raw is None or raw == "":
        return default
    try:
        return TokenType(raw)
    except ValueError:
        allowed = ", ".join(t.value for t in TokenType)
        raise InvalidInput(f"type {raw[:20]!r} is not a TokenType ({allowed})") from None


def location_references(data: Any) -> Document | None:
    """The optional authorize body; absent or ``null`` is no body."""
    if data is None:
        return None
    try:
        return to_document(LocationReferences.model_validate(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def display_text(data: Any) -> Document | None:
    """A hook's ``info``: checked like anything else the node sends."""
    if data is None:
        return None
    try:
        return to_document(DisplayText.model_validate(data))
    except ValidationError as exc:
        raise InvalidInput(f"info: {describe_validation_error(exc)}") from None
