"""Locations use cases (OCPI 2.2.1 mod_locations.asciidoc; digest §5.1): the node's own
Locations, fed in by the operator and served by the Sender interface, and the Locations
partners push into the Receiver interface.

One stored document per Location (``core/objects.py``), its EVSEs and Connectors inside
it: a PUT or PATCH of an EVSE or Connector is a read-modify-write of the Location, one
``Change`` for the group-commit writer (``writes.py``), whose transaction the push
outbox (issue 8) joins.

Order of each write: who may write it (a partner only under its own parties, the
operator only under the node's, 2001 naming the mismatch), then, inside the
transaction, the stored object: an update older than the stored one changes nothing
(``stale``, answered 1000: pushes may arrive out of order); an EVSE or Connector whose
parent is unknown, and a PATCH of an unknown object, change nothing (``unknown``: the
route answers 2003 Unknown Location with HTTP 404, so the sender GETs and PUTs the whole
Location as transport_and_format §"PATCH" expects). A PATCH is merged by the
``Merger`` the route passes in (the wire model's rules of its level), so this module
imports no wire model. An EVSE or Connector write also moves ``last_updated`` of its parents
(§"PUT Method", §"PATCH Method": the Receiver SHALL set the parents' last_updated); a
parent keeps a newer time it already has, so ``date_from`` syncs never go backwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from evroam.core.errors import InvalidInput
from evroam.core.objects import (
    Document,
    ObjectKey,
    ObjectPage,
    ObjectQuery,
    StoredObject,
    dump_document,
)
from evroam.core.push import PushChange
from evroam.core.types import ModuleId, Partner
from evroam.services import pushes
from evroam.services.context import PartnerContext
from evroam.services.objects import ObjectRules
from evroam.services.writes import Change, Written

Merger = Callable[[Document, Document], Document]
"""``(stored object, PATCH body) -> merged object``, checked: raises ``InvalidInput``
naming the bad field. The edge picks it per level (``merge_fields`` where every rule
of the level's object is a rule of one field, a whole validation where a rule spans
fields)."""
Outcome = Literal["created", "updated", "stale", "unknown"]

MODULE = ModuleId.LOCATIONS


@dataclass(frozen=True, slots=True)
class LocationPath:
    """What a Receiver or operator URL names: a Location, one of its EVSEs, or one
    Connector of that EVSE."""

    key: ObjectKey
    evse_uid: str | None = None
    connector_id: str | None = None

    @property
    def level(self) -> str:
        if self.connector_id is not None:
            return "Connector"
        return "EVSE" if self.evse_uid is not None else "Location"


def merge_fields(target: Document, patch: Document) -> Document:
    """The merge of a PATCH whose fields its own wire model has checked, over a stored
    object that was valid: the result is valid when every rule of the object is a rule
    of one field (an EVSE, a Connector: ``connectors`` unique is a rule of that list,
    the ids are checked against the URL apart). Validating the whole EVSE again with its
    connectors was the largest single cost of a status PATCH."""
    return {**target, **patch}


def _time(doc: Document) -> datetime:
    value = datetime.fromisoformat(str(doc["last_updated"]))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _find(items: list[Document], field: str, wanted: str) -> int | None:
    """Index of the item whose id field equals ``wanted`` (CiString: case-insensitive)."""
    for i, item in enumerate(items):
        if str(item.get(field, "")).upper() == wanted.upper():
            return i
    return None


def _bump(parent: Document, child: Document) -> None:
    if _time(child) > _time(parent):
        parent["last_updated"] = child["last_updated"]


def is_shared(location: Document) -> bool:
    """Partners may read it (§"Location Object" publish): published, or unpublished but
    with a ``publish_allowed_to`` list whose token owners may see it."""
    return location.get("publish") is True or bool(location.get("publish_allowed_to"))


def select(location: Document, path: LocationPath) -> Document | None:
    """The object the path names inside a stored Location, or None."""
    if path.evse_uid is None:
        return location
    evses: list[Document] = location.get("evses", [])
    i = _find(evses, "uid", path.evse_uid)
    if i is None:
        return None
    evse = evses[i]
    if path.connector_id is None:
        return evse
    connectors: list[Document] = evse.get("connectors", [])
    j = _find(connectors, "id", path.connector_id)
    return None if j is None else connectors[j]


def _check_ids(path: LocationPath, body: Document) -> None:
    """The URL and the body name the same object (transport_and_format §"Errors": 2001)."""
    if path.level == "Location":
        body_key = ObjectKey(
            str(body.get("country_code", "")), str(body.get("party_id", "")), str(body.get("id"))
        )
        ObjectRules.check_same_key(path.key, body_key, "Location")
    elif path.level == "EVSE":
        assert path.evse_uid is not None
        if str(body.get("uid", "")).upper() != path.evse_uid.upper():
            raise InvalidInput(f"EVSE: uid {body.get('uid')!r} in the body differs from the URL")
    else:
        assert path.connector_id is not None
        if str(body.get("id", "")).upper() != path.connector_id.upper():
            raise InvalidInput(f"Connector: id {body.get('id')!r} in the body differs from the URL")


def apply_put(
    location: Document | None, path: LocationPath, body: Document, *, owned: bool = False
) -> Outcome | Document:
    """The Location after a PUT at the path's level, or why nothing changes. ``owned``:
    ``location`` is the caller's private copy and may be changed in place (saves a
    copy on the hot path); otherwise it is left as it is. Either way it is changed only
    once the change is decided: a stale or unknown outcome, or a refusal, leaves it as
    it was (the writer hands the same copy to the next change of the batch)."""
    _check_ids(path, body)
    if path.level == "Location":
        if location is not None and _time(body) < _time(location):
            return "stale"
        return body
    if location is None:
        return "unknown"
    if not owned:
        location = json.loads(dump_document(location))  # a private copy to modify
    evses: list[Document] = location.get("evses", [])
    assert path.evse_uid is not None
    i = _find(evses, "uid", path.evse_uid)
    if path.level == "EVSE":
        if i is not None and _time(body) < _time(evses[i]):
            return "stale"
        if i is None:
            location["evses"] = [*evses, body]
        else:
            evses[i] = body
        _bump(location, body)
        return location
    assert path.connector_id is not None
    if i is None:
        return "unknown"
    evse = evses[i]
    connectors: list[Document] = evse.get("connectors", [])
    j = _find(connectors, "id", path.connector_id)
    if j is not None and _time(body) < _time(connectors[j]):
        return "stale"
    if j is None:
        evse["connectors"] = [*connectors, body]
    else:
        connectors[j] = body
    _bump(evse, body)
    _bump(location, body)
    return location


def apply_patch(
    location: Document | None,
    path: LocationPath,
    patch: Document,
    merge: Merger,
    *,
    owned: bool = False,
) -> Outcome | Document:
    """The Location after a PATCH (§"PATCH Method": absent fields unchanged, lists
    replaced whole), or why nothing changes. The merged object must still be valid and
    keep its ids. ``owned`` as for ``apply_put``."""
    if "last_updated" not in patch:
        raise InvalidInput(f"{path.level} PATCH: last_updated is required")
    if location is None:
        return "unknown"
    if not owned:
        location = json.loads(dump_document(location))
    target = select(location, path)
    if target is None:
        return "unknown"
    if _time(patch) < _time(target):
        return "stale"
    merged = merge(target, patch)
    _check_ids(path, merged)
    if path.level == "Location":
        return merged
    target.clear()
    target.update(merged)
    if path.level == "Connector":
        evse = select(location, LocationPath(path.key, path.evse_uid))
        assert evse is not None
        _bump(evse, merged)
    _bump(location, merged)
    return location


def _owed(
    key: ObjectKey, path: LocationPath, location: Document, patch: Document | None
) -> tuple[PushChange, ...]:
    """What partners are owed for a change of the node's own Location at ``path``: the
    object there as now stored (PUT), or the PATCH with its new ``last_updated``."""
    parts = tuple(
        p
        for p in (key.country_code, key.party_id, key.id, path.evse_uid, path.connector_id)
        if p is not None
    )
    target = select(location, path)
    assert target is not None  # the change stored it
    if patch is None:
        return pushes.put(MODULE, key, parts, target)
    return pushes.patch(MODULE, key, parts, patch, target["last_updated"])


class LocationsService:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx
        self.rules = ObjectRules(ctx)

    # -- the node's own Locations (operator API) ------------------------------------
    async def put_own(self, path: LocationPath, body: Document) -> Outcome:
        self.rules.check_node_owns(path.key, MODULE)
        return await self._write(
            path, None, lambda loc: apply_put(loc, path, body, owned=True), patch=None
        )

    async def patch_own(self, path: LocationPath, patch: Document, merge: Merger) -> Outcome:
        self.rules.check_node_owns(path.key, MODULE)
        return await self._write(
            path, None, lambda loc: apply_patch(loc, path, patch, merge, owned=True), patch
        )

    # -- what partners push into the Receiver interface ----------------------------
    async def receive_put(self, partner: Partner, path: LocationPath, body: Document) -> Outcome:
        self.rules.check_partner_owns(partner, path.key)
        return await self._write(
            path, partner.id, lambda loc: apply_put(loc, path, body, owned=True)
        )

    async def receive_patch(
        self, partner: Partner, path: LocationPath, patch: Document, merge: Merger
    ) -> Outcome:
        self.rules.check_partner_owns(partner, path.key)
        return await self._write(
            path, partner.id, lambda loc: apply_patch(loc, path, patch, merge, owned=True)
        )

    async def _write(
        self,
        path: LocationPath,
        partner_id: int | None,
        change: Callable[[Document | None], Outcome | Document],
        patch: Document | None = None,
    ) -> Outcome:
        """One read-modify-write of the Location, through the group-commit writer.
        ``patch``: the change is that PATCH (what partners are owed is a PATCH too)."""
        return await self.ctx.writer.write(
            Change(
                MODULE,
                path.key,
                lambda stored: self._apply(path, partner_id, change, stored, patch),
            )
        )

    def _apply(
        self,
        path: LocationPath,
        partner_id: int | None,
        change: Callable[[Document | None], Outcome | Document],
        stored: StoredObject | None,
        patch: Document | None = None,
    ) -> Written[Outcome]:
        if stored is not None and stored.partner_id != partner_id:
            raise InvalidInput(f"location {path.key.label} belongs to another sender")
        # The change's own copy to modify in place (``owned``): the parsed form an
        # earlier change of this batch handed over, else a fresh parse. A change that
        # decides nothing leaves it unchanged (``apply_put``, ``apply_patch``). Decide
        # before the change runs whether the object the path names existed.
        if stored is None:
            before = None
        elif stored.document is not None:
            before = stored.document
        else:
            before = json.loads(stored.document_json)
        if path.level == "Location":
            outcome: Outcome = "created" if stored is None else "updated"
        else:
            existed = before is not None and select(before, path) is not None
            outcome = "updated" if existed else "created"
        result = change(before)
        if isinstance(result, str):
            return Written(None, result)
        key = ObjectKey(path.key.country_code, path.key.party_id, str(result["id"]))
        owed = () if partner_id is not None else _owed(key, path, result, patch)
        # What partners are owed may hold parts of ``result`` (a PUT's body, a PATCH's
        # lists) until the batch's outbox write: then ``result`` is not handed on to be
        # changed in place by a later change of the batch.
        handed = not owed
        obj = StoredObject(
            module=MODULE,
            key=key,
            last_updated=_time(result),
            document_json="" if handed else dump_document(result),
            partner_id=partner_id,
            shared=is_shared(result),
            created_at=stored.created_at if stored else self.ctx.now(),
            document=result if handed else None,
        )
        return Written(obj, outcome, push=owed)

    # -- reads ---------------------------------------------------------------------
    async def get(
        self, path: LocationPath, *, partner_id: int | None, own: bool | None, shared_only: bool
    ) -> str | None:
        """The JSON text of the object the path names, or None. ``own`` True: only the
        node's own (the Sender); False: only what ``partner_id`` sent (its Receiver GET);
        None: either (the operator)."""
        stored = await self.rules.get(MODULE, path.key)
        if stored is None:
            return None
        if own is True and stored.partner_id is not None:
            return None
        if own is False and (stored.partner_id is None or stored.partner_id != partner_id):
            return None
        if shared_only and not stored.shared:
            return None
        if path.level == "Location":
            return stored.document_json
        found = select(json.loads(stored.document_json), path)
        return None if found is None else dump_document(found)

    async def page(self, query: ObjectQuery) -> ObjectPage:
        return await self.rules.page(query)
