"""Rules every functional module shares, on stored objects (``core/objects.py``).

Module services (``services/locations.py`` and the others) build on these: who may
write an object (a partner only under its own parties, the operator only under the
node's, under a party of the role that owns the module), the newer ``last_updated``
wins, and reads of own and received objects. Every change of the node's own data is
one service call whose ``Change`` goes through the group-commit writer
(``writes.py``), so that the push outbox can join that transaction.
"""

from __future__ import annotations

from datetime import datetime

from evroam.core.errors import InvalidInput
from evroam.core.objects import ObjectKey, ObjectPage, ObjectQuery, StoredObject
from evroam.core.types import ModuleId, Partner, Role
from evroam.services.context import PartnerContext

#: The role whose parties own a module's objects (OCPI 2.2.1: Locations, Tariffs,
#: Sessions and CDRs are the CPO's, Tokens the eMSP's).
OWNER_ROLE: dict[ModuleId, Role] = {
    ModuleId.LOCATIONS: Role.CPO,
    ModuleId.TARIFFS: Role.CPO,
    ModuleId.SESSIONS: Role.CPO,
    ModuleId.CDRS: Role.CPO,
    ModuleId.TOKENS: Role.EMSP,
}


class ObjectRules:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx
        self.own_party_keys = {p.key for p in ctx.own_parties}

    def owner_parties(self, module: ModuleId) -> list[tuple[str, str]]:
        """The node's parties that may own objects of ``module`` (``OWNER_ROLE``), sorted:
        where the node's own objects are written, so the only ones a lookup of the
        node's own object needs to try."""
        role = OWNER_ROLE[module]
        return sorted({p.key for p in self.ctx.own_parties if p.role == role})

    def check_partner_owns(self, partner: Partner, key: ObjectKey) -> None:
        """A partner writes only under one of its own parties (OCPI 2.2.1 §"Client Owned
        Object Push"): anything else is refused with the mismatch named."""
        if key.party not in partner.party_keys:
            mine = ", ".join(sorted(f"{c}-{p}" for c, p in partner.party_keys)) or "none"
            raise InvalidInput(
                f"country_code/party_id {key.country_code}-{key.party_id} in the URL is not "
                f"one of your parties ({mine})"
            )

    def check_node_owns(self, key: ObjectKey, module: ModuleId) -> None:
        """The operator writes only the node's own objects, under a party of the role
        that owns the module (``OWNER_ROLE``: a Location under the node's eMSP party, or a
        Token under its CPO party, would be served by a Sender no partner reads it
        from); a partner's data comes from that partner."""
        allowed = self.owner_parties(module)
        if key.party not in allowed:
            mine = ", ".join(f"{c}-{p}" for c, p in allowed) or "none"
            raise InvalidInput(
                f"{key.country_code}-{key.party_id} is not one of this node's "
                f"{OWNER_ROLE[module].value} parties ({mine})"
            )

    @staticmethod
    def check_same_key(url_key: ObjectKey, body_key: ObjectKey, what: str) -> None:
        """The URL and the body name the same object (2001 otherwise, digest §1.9)."""
        if url_key.party != body_key.party:
            raise InvalidInput(
                f"{what}: country_code/party_id {body_key.country_code}-{body_key.party_id} "
                f"in the body differ from {url_key.country_code}-{url_key.party_id} in the URL"
            )
        if url_key.id_key != body_key.id_key:
            raise InvalidInput(f"{what}: id {body_key.id!r} in the body differs from the URL")

    @staticmethod
    def is_stale(stored: StoredObject | None, incoming: datetime) -> bool:
        """Pushes may arrive out of order: an update older than what is stored changes
        nothing (the newer last_updated wins); equal times are applied."""
        return stored is not None and incoming < stored.last_updated

    async def get(self, module: ModuleId, key: ObjectKey) -> StoredObject | None:
        """One stored object, through the batched reader (``reads.py``)."""
        return await self.ctx.reader.get(module, key)

    async def page(self, query: ObjectQuery) -> ObjectPage:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.objects.page(query)
