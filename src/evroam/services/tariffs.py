"""Tariffs use cases (OCPI 2.2.1 mod_tariffs): the node's own tariffs, fed in by the
operator and served by the Sender interface, and the tariffs partners push to our
Receiver interface.

Order of operations in every write, and why: the ownership rules are checked before
anything is read (a refusal touches nothing); then the change goes to the group-commit
writer (``writes.py``), which reads the stored tariff in its transaction (its
``last_updated`` decides), writes it and commits. Issue 8's push outbox will join that
same transaction, so each change of the node's own data stays one service call.

There is no PATCH: 2.2.1 removed it from the Tariffs Receiver (mod_tariffs §"Receiver
Interface", PATCH n/a), so a change is a PUT of the whole Tariff. A PUT older than
what is stored changes nothing (pushes may arrive out of order; the newer
``last_updated`` wins) and is still a success for the caller.

The services import no wire model: the route validates the body and hands over the
canonical document (``core/objects.py``) with its key and ``last_updated``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

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

MODULE = ModuleId.TARIFFS

PutOutcome = Literal["created", "updated", "stale"]


class TariffsService:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx
        self.rules = ObjectRules(ctx)

    async def _put(
        self, key: ObjectKey, doc: Document, last_updated: datetime, partner_id: int | None
    ) -> PutOutcome:
        document_json = dump_document(doc)
        now = self.ctx.now()

        def apply(stored: StoredObject | None) -> Written[PutOutcome]:
            if self.rules.is_stale(stored, last_updated):
                return Written(None, "stale")
            obj = StoredObject(
                module=MODULE,
                key=key,
                last_updated=last_updated,
                document_json=document_json,
                partner_id=partner_id,
                shared=True,
                created_at=now,
            )
            owed = (
                ()
                if partner_id is not None
                else pushes.put(MODULE, key, (key.country_code, key.party_id, key.id), doc)
            )
            return Written(obj, "created" if stored is None else "updated", push=owed)

        return await self.ctx.writer.write(Change(MODULE, key, apply))

    async def _delete(self, key: ObjectKey, partner_id: int | None) -> bool:
        """Remove the tariff held by ``partner_id`` (None: the node); False: none."""

        def apply(stored: StoredObject | None) -> Written[bool]:
            if stored is None or stored.partner_id != partner_id:
                return Written(None, False)
            owed = (
                ()
                if partner_id is not None
                else pushes.delete(MODULE, key, (key.country_code, key.party_id, key.id))
            )
            return Written(None, True, delete=True, push=owed)

        return await self.ctx.writer.write(Change(MODULE, key, apply))

    # -- the node's own tariffs (operator API; served by our Sender) --

    async def put_own(
        self, url_key: ObjectKey, body_key: ObjectKey, doc: Document, last_updated: datetime
    ) -> PutOutcome:
        """Create or replace one of the node's own tariffs."""
        self.rules.check_node_owns(url_key, MODULE)
        self.rules.check_same_key(url_key, body_key, "Tariff")
        return await self._put(url_key, doc, last_updated, None)

    async def delete_own(self, key: ObjectKey) -> bool:
        """Remove one of the node's own tariffs (False: there was none)."""
        self.rules.check_node_owns(key, MODULE)
        return await self._delete(key, None)

    async def get_own_by_id(
        self, tariff_id: str, prefer: tuple[str, str] | None = None
    ) -> StoredObject | None:
        """The Sender's single-tariff read: our tariff with that id, looked up under the
        party the caller addressed first, then under each of the node's CPO parties."""
        parties = self.rules.owner_parties(MODULE)
        if prefer is not None and prefer in parties:
            parties.remove(prefer)
            parties.insert(0, prefer)
        async with self.ctx.uow(read_only=True) as uow:
            for cc, pid in parties:
                stored = await uow.objects.get(MODULE, ObjectKey(cc, pid, tariff_id))
                if stored is not None and stored.partner_id is None:
                    return stored
        return None

    # -- tariffs partners push to our Receiver --

    async def receive_put(
        self,
        partner: Partner,
        url_key: ObjectKey,
        body_key: ObjectKey,
        doc: Document,
        last_updated: datetime,
    ) -> PutOutcome:
        """A partner creates or replaces one of its tariffs in our system (mod_tariffs
        §"PUT Method": URL and body name the same owner and id)."""
        self.rules.check_partner_owns(partner, url_key)
        self.rules.check_same_key(url_key, body_key, "Tariff")
        return await self._put(url_key, doc, last_updated, partner.id)

    async def receive_delete(self, partner: Partner, key: ObjectKey) -> bool:
        """A partner removes one of its tariffs (mod_tariffs §"DELETE Method")."""
        self.rules.check_partner_owns(partner, key)
        return await self._delete(key, partner.id)

    async def get_received(self, partner: Partner, key: ObjectKey) -> StoredObject | None:
        """A partner reads back one of its tariffs as we store it (mod_tariffs §"GET
        Method" of the Receiver); only what that partner sent."""
        self.rules.check_partner_owns(partner, key)
        stored = await self.rules.get(MODULE, key)
        if stored is None or stored.partner_id != partner.id:
            return None
        return stored

    # -- reads for the Sender list and the operator --

    async def get(self, key: ObjectKey) -> StoredObject | None:
        return await self.rules.get(MODULE, key)

    async def page(self, query: ObjectQuery) -> ObjectPage:
        return await self.rules.page(query)
