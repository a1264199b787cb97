"""Tokens (OCPI 2.2.1 mod_tokens, digest §5.5): the eMSP's own tokens, the tokens partners
(eMSPs) push to us as a CPO, and real-time authorization.

A Token is keyed by (country_code, party_id, uid) plus its type (``ObjectKey.variant``):
the same uid with two types are two tokens (mod_tokens §"Token Object"). Every write is
a ``Change`` of the group-commit writer (``writes.py``), which reads the stored token in
its transaction, so the newer ``last_updated`` wins under concurrency and the push
outbox (issue 8) can join it.

Real-time authorization (mod_tokens §"Real-time authorization") decides from the stored
own token, then from the operator's hook:

* unknown (uid, type) under every own party: ``None`` (the route answers HTTP 404, 2004);
* ``valid`` false: BLOCKED (the eMSP invalidated it; mod_tokens §"Token Object" valid);
* ``whitelist`` does not change the answer: it tells the CPO *when* to ask (WhitelistType),
  not how the eMSP answers, and ``type`` is part of the key;
* expiry: 2.2.1's Token has no expiry field, and the canonical document is what every CPO
  reads, so the stored token carries none; EXPIRED (like NO_CREDIT and NOT_ALLOWED) comes
  from the hook, which sees the eMSP's contracts;
* otherwise ALLOWED, unless the hook (``Settings.authorization_hook``) says otherwise. The
  hook is only asked about tokens the stored data allows: it refines, it never re-enables
  a token the eMSP set invalid. It may raise :class:`LocationRequired` (OCPI 2002).

Authorization reads one row and writes nothing: the ``authorization_reference`` is a fresh
UUID (unique per authorization), not stored (it is benchmarked at concurrency 32).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from evroam.core.errors import DomainError, InvalidInput
from evroam.core.objects import (
    Document,
    ObjectKey,
    ObjectPage,
    ObjectQuery,
    StoredObject,
    dump_document,
)
from evroam.core.types import ModuleId, Partner
from evroam.services import pushes
from evroam.services.context import PartnerContext
from evroam.services.objects import ObjectRules
from evroam.services.writes import Change, Written

MODULE = ModuleId.TOKENS
Outcome = Literal["created", "updated", "stale", "unknown"]
Validator = Callable[[Document], Document]
HookResult = str | tuple[str, Document | None]
AuthorizationHook = Callable[[Document, Document | None], HookResult | Awaitable[HookResult]]
ALLOWED, BLOCKED = "ALLOWED", "BLOCKED"


class LocationRequired(DomainError):
    """Raised by an authorization hook that needs LocationReferences the CPO did not
    send: OCPI 2002 (mod_tokens §"Real-time authorization")."""


class HookMisconfigured(DomainError):
    """``authorization_hook`` names nothing importable and callable."""


def load_authorization_hook(spec: str | None) -> AuthorizationHook | None:
    """Import ``package.module:function`` (``Settings.authorization_hook``); None when
    unset. Called once per app, so a wrong setting fails loudly, not per request."""
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    try:
        hook = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise HookMisconfigured(f"authorization_hook {spec!r}: {exc}") from exc
    if not callable(hook):
        raise HookMisconfigured(f"authorization_hook {spec!r} is not callable")
    typed: AuthorizationHook = hook
    return typed


@dataclass(frozen=True, slots=True)
class Authorization:
    """What the route turns into AuthorizationInfo: the stored token's JSON text is
    embedded as it is (no re-serialisation on the fast path)."""

    allowed: str
    token_json: str
    location: Document | None
    reference: str
    info: Document | None = None


class TokensService:
    def __init__(self, ctx: PartnerContext, hook: AuthorizationHook | None = None) -> None:
        self.ctx = ctx
        self.rules = ObjectRules(ctx)
        self.hook = hook

    # --- writes -------------------------------------------------------------------------

    async def put_own(self, key: ObjectKey, doc: Document, last_updated: datetime) -> Outcome:
        """The operator creates or replaces one of the node's own tokens."""
        self.rules.check_node_owns(key, MODULE)
        return await self._put(None, key, doc, last_updated)

    async def receive_put(
        self, partner: Partner, key: ObjectKey, doc: Document, last_updated: datetime
    ) -> Outcome:
        """A partner's Token PUT on our Receiver (mod_tokens §"PUT Method")."""
        self.rules.check_partner_owns(partner, key)
        return await self._put(partner.id, key, doc, last_updated)

    async def patch_own(
        self,
        key: ObjectKey,
        patch: Document,
        last_updated: datetime | None,
        validate: Validator,
    ) -> Outcome:
        self.rules.check_node_owns(key, MODULE)
        return await self._patch(None, key, patch, last_updated, validate)

    async def receive_patch(
        self,
        partner: Partner,
        key: ObjectKey,
        patch: Document,
        last_updated: datetime | None,
        validate: Validator,
    ) -> Outcome:
        """A partner's Token PATCH (mod_tokens §"PATCH Method"); an unknown token is
        "unknown" (HTTP 404: the eMSP then PUTs it, transport_and_format §"PATCH")."""
        self.rules.check_partner_owns(partner, key)
        return await self._patch(partner.id, key, patch, last_updated, validate)

    async def _put(
        self, partner_id: int | None, key: ObjectKey, doc: Document, last_updated: datetime
    ) -> Outcome:
        body_key = ObjectKey(
            str(doc["country_code"]), str(doc["party_id"]), str(doc["uid"]), str(doc["type"])
        )
        self.rules.check_same_key(key, body_key, "Token")
        _check_type(key, body_key.variant)
        document_json = dump_document(doc)

        def apply(stored: StoredObject | None) -> Written[Outcome]:
            _check_holder(stored, partner_id, key)
            if self.rules.is_stale(stored, last_updated):
                return Written(None, "stale")
            obj = StoredObject(MODULE, key, last_updated, document_json, partner_id=partner_id)
            owed = (
                ()
                if partner_id is not None
                else pushes.put(MODULE, key, _path(key), doc, query=_query(key))
            )
            return Written(obj, "created" if stored is None else "updated", push=owed)

        return await self.ctx.writer.write(Change(MODULE, key, apply))

    async def _patch(
        self,
        partner_id: int | None,
        key: ObjectKey,
        patch: Document,
        last_updated: datetime | None,
        validate: Validator,
    ) -> Outcome:
        if last_updated is None:
            raise InvalidInput("a PATCH must carry last_updated")
        # A PATCH cannot move a token to another key (URL id = body id, digest §1.9).
        url_values = {
            "country_code": key.country_code,
            "party_id": key.party_id,
            "uid": key.id,
            "type": key.variant,
        }
        for field, value in url_values.items():
            if field in patch and str(patch[field]).upper() != value.upper():
                raise InvalidInput(
                    f"Token: {field} {patch[field]!r} in the body differs from the URL"
                )
        incoming = last_updated

        def apply(stored: StoredObject | None) -> Written[Outcome]:
            if stored is None:
                return Written(None, "unknown")
            _check_holder(stored, partner_id, key)
            if self.rules.is_stale(stored, incoming):
                return Written(None, "stale")
            merged = validate({**json.loads(stored.document_json), **patch})
            obj = StoredObject(MODULE, key, incoming, dump_document(merged), partner_id=partner_id)
            owed = (
                ()
                if partner_id is not None
                else pushes.patch(
                    MODULE,
                    key,
                    _path(key),
                    _moved(patch),
                    merged["last_updated"],
                    query=_query(key),
                )
            )
            return Written(obj, "updated", push=owed)

        return await self.ctx.writer.write(Change(MODULE, key, apply))

    # --- reads --------------------------------------------------------------------------

    async def get(self, key: ObjectKey) -> StoredObject | None:
        """Own or received (the operator's view)."""
        return await self.rules.get(MODULE, key)

    async def get_received(self, partner: Partner, key: ObjectKey) -> StoredObject | None:
        """A partner reads back what it pushed to our Receiver, under its parties only."""
        self.rules.check_partner_owns(partner, key)
        stored = await self.rules.get(MODULE, key)
        return stored if stored is not None and stored.partner_id == partner.id else None

    async def page(self, query: ObjectQuery) -> ObjectPage:
        return await self.rules.page(query)

    # --- real-time authorization --------------------------------------------------------

    async def authorize(
        self,
        uid: str,
        token_type: str,
        location: Document | None,
        parties: list[tuple[str, str]] | None = None,
    ) -> Authorization | None:
        """Decide for the own token (uid, type) under ``parties`` (the party the CPO
        addressed), else under each of the node's eMSP parties; None when no such token exists."""
        stored = None
        for cc, pid in parties or self.rules.owner_parties(MODULE):
            # Batched with concurrent lookups (``reads.py``): the latency-critical read.
            stored = await self.ctx.reader.get(MODULE, ObjectKey(cc, pid, uid, token_type))
            if stored is not None and stored.partner_id is None:
                break
            stored = None
        if stored is None:
            return None
        token: Document = json.loads(stored.document_json)
        allowed, info = (ALLOWED, None) if token.get("valid") is True else (BLOCKED, None)
        if allowed == ALLOWED and self.hook is not None:
            allowed, info = await self._ask_hook(token, location)
        return Authorization(
            allowed=allowed,
            token_json=stored.document_json,
            # Only where allowed (AuthorizationInfo.location: "if the EV driver is allowed").
            location=location if allowed == ALLOWED else None,
            # 128 random bits as 32 hex digits, like uuid4().hex without building a
            # UUID object (a fortieth of an authorization's CPU in py-spy profiles).
            reference=os.urandom(16).hex(),
            info=info,
        )

    async def _ask_hook(
        self, token: Document, location: Document | None
    ) -> tuple[str, Document | None]:
        assert self.hook is not None
        result: Any = self.hook(dict(token), None if location is None else dict(location))
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, tuple):
            allowed, info = result
        else:
            allowed, info = result, None
        return str(allowed), info


def _path(key: ObjectKey) -> tuple[str, ...]:
    return (key.country_code, key.party_id, key.id)


def _query(key: ObjectKey) -> tuple[tuple[str, str], ...]:
    return (("type", key.variant),)


def _moved(patch: Document) -> Document:
    """The fields a PATCH changes (the key fields only repeat the URL)."""
    return {k: v for k, v in patch.items() if k not in ("country_code", "party_id", "uid", "type")}


def _check_type(url_key: ObjectKey, body_type: str) -> None:
    if url_key.variant != body_type:
        raise InvalidInput(
            f"Token: type {body_type} in the body differs from {url_key.variant} in the URL"
        )


def _check_holder(stored: StoredObject | None, partner_id: int | None, key: ObjectKey) -> None:
    """Own tokens are written only by the operator, received ones only by their sender."""
    if stored is not None and stored.partner_id != partner_id:
        raise InvalidInput(f"Token {key.label} belongs to another holder")
