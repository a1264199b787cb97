"""OCPI 2.2.1 Sender list items as the sync stores them (``services/sync.py``): one
item of a pulled page becomes a ``PulledObject`` through the same wire models and
conversions the module's Receiver route applies to a pushed object; ``ValueError`` (or
``InvalidInput``) names the bad field otherwise. Each item is parsed on its own, so one
invalid object is reported and the rest of the page is stored. The version package
exports ``PULL_ITEMS``; version-neutral code (``ocpi/partner_api.py``) reaches it
through ``package(version)`` and never names this package.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from evroam.core.objects import ObjectKey
from evroam.core.ports import PulledObject
from evroam.core.types import ModuleId
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.cdrs.convert import to_stored as cdr_to_stored
from evroam.ocpi.v2_2_1.cdrs.models import ReceivedCDR
from evroam.ocpi.v2_2_1.locations.convert import to_document as location_document
from evroam.ocpi.v2_2_1.locations.models import Location
from evroam.ocpi.v2_2_1.sessions.convert import to_document as session_document
from evroam.ocpi.v2_2_1.sessions.models import Session
from evroam.ocpi.v2_2_1.tariffs.convert import key_of as tariff_key
from evroam.ocpi.v2_2_1.tariffs.convert import parse_tariff
from evroam.ocpi.v2_2_1.tariffs.convert import to_document as tariff_document
from evroam.ocpi.v2_2_1.tokens.convert import to_document as token_document
from evroam.ocpi.v2_2_1.tokens.convert import token_key
from evroam.ocpi.v2_2_1.tokens.models import Token


def _validated(model: type[Any], item: Any) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None


def _location(item: Any) -> PulledObject:
    loc = _validated(Location, item)
    doc = location_document(loc)
    key = ObjectKey(loc.country_code, loc.party_id, loc.id)
    return PulledObject(key, doc, loc.last_updated)


def _tariff(item: Any) -> PulledObject:
    tariff = parse_tariff(item)
    return PulledObject(tariff_key(tariff), tariff_document(tariff), tariff.last_updated)


def _session(item: Any) -> PulledObject:
    session = _validated(Session, item)
    key = ObjectKey(session.country_code, session.party_id, session.id)
    return PulledObject(key, session_document(session), session.last_updated)


def _token(item: Any) -> PulledObject:
    token = _validated(Token, item)
    doc = token_document(token)
    return PulledObject(token_key(doc), doc, token.last_updated)


def _cdr(item: Any) -> PulledObject:
    cdr = _validated(ReceivedCDR, item)
    stored = cdr_to_stored(cdr)
    doc = json.loads(stored.document_json)
    return PulledObject(stored.key, doc, stored.last_updated, audience=stored.audience)


PULL_ITEMS: dict[ModuleId, Callable[[Any], PulledObject]] = {
    ModuleId.LOCATIONS: _location,
    ModuleId.TARIFFS: _tariff,
    ModuleId.SESSIONS: _session,
    ModuleId.TOKENS: _token,
    ModuleId.CDRS: _cdr,
}
