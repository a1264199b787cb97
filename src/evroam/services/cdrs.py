"""CDR use cases (OCPI 2.2.1 mod_cdrs): the node's own CDRs (a CPO's, loaded by the
operator) and CDRs partners POST to our Receiver (an eMSP's).

CDRs never change after receipt (mod_cdrs §"Flow and Lifecycle"): the first stored
version of a (country_code, party_id, id) stays, and a second one is refused naming the
Credit CDR route (§"Credit CDRs": a correction is a new CDR with a new id, ``credit``
true and ``credit_reference_id`` the original id). Each write is one writing unit of
work that re-reads the key first, so two concurrent POSTs of one CDR cannot both store
(and the push outbox of issue 8 can join the transaction).
"""

from __future__ import annotations

import json
from dataclasses import replace

from evroam.core.errors import InvalidInput
from evroam.core.objects import ObjectKey, ObjectPage, ObjectQuery, StoredObject
from evroam.core.types import ModuleId, Partner
from evroam.services import pushes
from evroam.services.context import PartnerContext
from evroam.services.objects import ObjectRules
from evroam.services.writes import Change, Written


class CdrAlreadyReceived(InvalidInput):
    """A CDR with this (country_code, party_id, id) is stored already: CDRs are immutable."""


class CdrService:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx
        self.rules = ObjectRules(ctx)

    async def add_own(self, cdr: StoredObject) -> StoredObject:
        """The operator reports a CDR of one of the node's own parties (what our Sender
        serves and issue 8 will POST to partners)."""
        self.rules.check_node_owns(cdr.key, ModuleId.CDRS)
        return await self._add(replace(cdr, partner_id=None, shared=True))

    async def receive(self, partner: Partner, cdr: StoredObject) -> StoredObject:
        """A partner POSTs one of its CDRs to our Receiver: only under its own parties
        (transport_and_format §"Client Owned Object Push")."""
        self.rules.check_partner_owns(partner, cdr.key)
        return await self._add(replace(cdr, partner_id=partner.id, shared=False))

    async def _add(self, cdr: StoredObject) -> StoredObject:
        now = self.ctx.now()

        def apply(existing: StoredObject | None) -> Written[StoredObject]:
            if existing is not None:
                raise CdrAlreadyReceived(
                    f"CDR {cdr.key.label} was received before and CDRs never change after "
                    "receipt; send a correction as a Credit CDR with a new id (credit: true, "
                    "credit_reference_id: the original id)"
                )
            stored = replace(cdr, created_at=now, row_id=None)
            owed = (
                ()
                if cdr.partner_id is not None
                else pushes.post(
                    ModuleId.CDRS, cdr.key, json.loads(cdr.document_json), cdr.audience
                )
            )
            return Written(stored, replace(stored), push=owed)

        return await self.ctx.writer.write(Change(ModuleId.CDRS, cdr.key, apply))

    async def get(self, key: ObjectKey) -> StoredObject | None:
        """Own or received, for the operator."""
        return await self.rules.get(ModuleId.CDRS, key)

    async def get_received(self, partner: Partner, key: ObjectKey) -> StoredObject | None:
        """A CDR the partner POSTed, at the URL we answered in ``Location``; nobody else's
        (another partner reads None, answered 404 like an unknown CDR)."""
        if key.party not in partner.party_keys:
            return None
        stored = await self.rules.get(ModuleId.CDRS, key)
        if stored is None or stored.partner_id != partner.id:
            return None
        return stored

    async def page(self, query: ObjectQuery) -> ObjectPage:
        return await self.rules.page(replace(query, module=ModuleId.CDRS))

    async def sender_page(self, query: ObjectQuery) -> ObjectPage:
        """What our Sender serves a partner: the node's own CDRs only."""
        return await self.page(replace(query, own=True, partner_id=None, shared_only=True))
