"""Sessions use cases (OCPI 2.2.1 mod_sessions): the node's own sessions (a CPO reports
them through the operator API), sessions partners push into our Receiver, and the
driver's Charging Preferences an eMSP sets on our Sender.

Every write of a session is a ``Change`` of the group-commit writer (``writes.py``), which
reads the stored object in its transaction, so the push outbox (issue 8) can join it;
charging preferences, which read the session, its EVSE and profiles together, keep a
unit of work of their own.
Documents are canonical OCPI 2.2.1 JSON (``core/objects.py``); wire models stay at the
edge, which passes a validator (``Callable[[Document], Document]`` raising InvalidInput)
for the result of a merged PATCH.

Rules (mod_sessions §"eMSP Interface", transport §"Client Owned Object Push", digest
§5.2 and §7.5-7.8):

* a partner writes only under its own parties, the operator only under the node's;
  the URL and the body name the same object (2001 otherwise);
* an older PUT or PATCH than what is stored changes nothing (answered 1000);
* PUT replaces the whole Session, ``charging_periods`` included (absent clears them);
  PATCH replaces the fields it carries but APPENDS its ``charging_periods``;
* a PATCH of an unknown Session is refused (the spec's flow: the CPO then GETs and PUTs).

Charging Preferences (mod_sessions §"Set: Charging Preferences", §ChargingPreferences-
Response) are stored beside the Session under the same key with the variant
``preferences``, sent by the partner and not shared, so the Session's wire form
and every Sender page stay exactly what the CPO reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from evroam.core.errors import InvalidInput
from evroam.core.objects import (
    Document,
    ObjectKey,
    ObjectPage,
    ObjectQuery,
    StoredObject,
    dump_document,
)
from evroam.core.ports import UnitOfWork
from evroam.core.timestamps import parse_timestamp
from evroam.core.types import ModuleId, Partner, Role
from evroam.services import pushes
from evroam.services.context import PartnerContext
from evroam.services.objects import ObjectRules
from evroam.services.writes import Change, Written

Validator = Callable[[Document], Document]
PutOutcome = Literal["created", "updated", "stale"]
PatchOutcome = Literal["updated", "stale", "unknown"]

# ``variant`` holds at most 16 characters (tables/objects.py).
PREFERENCES_VARIANT = "preferences"
CAPABILITY = "CHARGING_PREFERENCES_CAPABLE"
# Sessions that are over take no preferences (mod_sessions: "during an ongoing session").
FINISHED = frozenset({"COMPLETED", "INVALID"})
# Tariff.type per ProfileType (mod_tariffs §TariffType): a profile other than REGULAR is
# offered on a connector only with a tariff of its type (mod_sessions §ChargingPreferences:
# "for every supported ProfileType, a Tariff MUST be provided").
PROFILE_TARIFF = {"CHEAP": "PROFILE_CHEAP", "FAST": "PROFILE_FAST", "GREEN": "PROFILE_GREEN"}
# Profiles that shift charging in time need to know until when and how much.
NEEDS_PLAN = frozenset({"CHEAP", "GREEN"})


def key_of(doc: Document) -> ObjectKey:
    return ObjectKey(str(doc["country_code"]), str(doc["party_id"]), str(doc["id"]))


def audience_of(doc: Document) -> str | None:
    """The eMSP a Session concerns, ``CC-PID`` of its cdr_token: no other partner may
    read it from our Sender (mod_sessions §"Push model": "the corresponding eMSP")."""
    token = doc.get("cdr_token")
    if not isinstance(token, dict) or not token.get("country_code") or not token.get("party_id"):
        return None
    return f"{str(token['country_code']).upper()}-{str(token['party_id']).upper()}"


def _path(key: ObjectKey) -> tuple[str, ...]:
    return (key.country_code, key.party_id, key.id)


def _as_dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class PreferencesOutcome:
    """``found`` False: no ongoing session of ours for the caller, or its EVSE lacks
    CHARGING_PREFERENCES_CAPABLE (both answered HTTP 404, OCPI 2001); otherwise
    ``response`` is the ChargingPreferencesResponse value."""

    found: bool
    response: str | None = None
    reason: str = ""


class SessionsService:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx
        self.rules = ObjectRules(ctx)

    # ---- reads ---------------------------------------------------------------------

    async def get(self, key: ObjectKey) -> StoredObject | None:
        return await self.rules.get(ModuleId.SESSIONS, key)

    async def get_received(self, partner: Partner, key: ObjectKey) -> StoredObject | None:
        """The Receiver's GET: only under the caller's own parties (2001 otherwise)."""
        self.rules.check_partner_owns(partner, key)
        return await self.get(key)

    async def page(self, query: ObjectQuery) -> ObjectPage:
        """Sessions only: stored Charging Preferences are not shared, and every list
        (Sender and operator) asks for shared objects."""
        return await self.rules.page(query)

    async def get_preferences(self, key: ObjectKey) -> StoredObject | None:
        pkey = ObjectKey(key.country_code, key.party_id, key.id, PREFERENCES_VARIANT)
        return await self.rules.get(ModuleId.SESSIONS, pkey)

    # ---- writes --------------------------------------------------------------------

    async def put_own(self, key: ObjectKey, doc: Document) -> PutOutcome:
        self.rules.check_node_owns(key, ModuleId.SESSIONS)
        return await self._put(key, doc, None)

    async def receive_put(self, partner: Partner, key: ObjectKey, doc: Document) -> PutOutcome:
        self.rules.check_partner_owns(partner, key)
        return await self._put(key, doc, partner.id)

    async def patch_own(self, key: ObjectKey, patch: Document, validate: Validator) -> PatchOutcome:
        self.rules.check_node_owns(key, ModuleId.SESSIONS)
        return await self._patch(key, patch, validate, None)

    async def receive_patch(
        self, partner: Partner, key: ObjectKey, patch: Document, validate: Validator
    ) -> PatchOutcome:
        self.rules.check_partner_owns(partner, key)
        return await self._patch(key, patch, validate, partner.id)

    async def _put(self, key: ObjectKey, doc: Document, partner_id: int | None) -> PutOutcome:
        self.rules.check_same_key(key, key_of(doc), "Session")
        incoming = parse_timestamp(str(doc["last_updated"]))
        document_json = dump_document(doc)

        def apply(stored: StoredObject | None) -> Written[PutOutcome]:
            if self.rules.is_stale(stored, incoming):
                return Written(None, "stale")
            obj = StoredObject(
                module=ModuleId.SESSIONS,
                key=key_of(doc),
                last_updated=incoming,
                document_json=document_json,
                partner_id=partner_id,
                audience=audience_of(doc),
            )
            owed = (
                ()
                if partner_id is not None
                else pushes.put(
                    ModuleId.SESSIONS, obj.key, _path(obj.key), doc, audience=obj.audience
                )
            )
            return Written(obj, "created" if stored is None else "updated", push=owed)

        return await self.ctx.writer.write(Change(ModuleId.SESSIONS, key, apply))

    async def _patch(
        self, key: ObjectKey, patch: Document, validate: Validator, partner_id: int | None
    ) -> PatchOutcome:
        if "last_updated" not in patch:
            raise InvalidInput("last_updated: required in a PATCH")
        incoming = parse_timestamp(str(patch["last_updated"]))

        def apply(stored: StoredObject | None) -> Written[PatchOutcome]:
            if stored is None or stored.partner_id != partner_id:
                return Written(None, "unknown")
            if self.rules.is_stale(stored, incoming):
                return Written(None, "stale")
            merged: Document = json.loads(stored.document_json)
            for name, value in patch.items():
                if name in ("country_code", "party_id", "id"):
                    continue  # the URL names the object; a PATCH never moves it
                if name == "charging_periods":
                    merged["charging_periods"] = _as_list(merged.get(name)) + _as_list(value)
                else:
                    merged[name] = value
            doc = validate(merged)
            obj = StoredObject(
                module=ModuleId.SESSIONS,
                key=stored.key,
                last_updated=parse_timestamp(str(doc["last_updated"])),
                document_json=dump_document(doc),
                partner_id=partner_id,
                created_at=stored.created_at,
                audience=audience_of(doc),
            )
            owed = (
                ()
                if partner_id is not None
                else pushes.patch(
                    ModuleId.SESSIONS,
                    obj.key,
                    _path(obj.key),
                    {k: v for k, v in patch.items() if k not in ("country_code", "party_id", "id")},
                    doc["last_updated"],
                    audience=obj.audience,
                )
            )
            return Written(obj, "updated", push=owed)

        return await self.ctx.writer.write(Change(ModuleId.SESSIONS, key, apply))

    # ---- Charging Preferences (our Sender, the CPO side) -----------------------------

    async def set_charging_preferences(
        self, partner: Partner, session_id: str, prefs: Document
    ) -> PreferencesOutcome:
        """Decide and, when ACCEPTED, store the driver's preferences for one of our
        sessions. The session is looked up under each of the node's CPO parties; a partner
        that did not issue the session's token (cdr_token country_code/party_id) sees it
        as unknown, a HUB partner may act for any."""
        async with self.ctx.uow() as uow:
            session: StoredObject | None = None
            for cc, pid in self.rules.owner_parties(ModuleId.SESSIONS):
                found = await uow.objects.get_for_update(
                    ModuleId.SESSIONS, ObjectKey(cc, pid, session_id)
                )
                if found is not None and found.partner_id is None:
                    session = found
                    break
            if session is None:
                return PreferencesOutcome(False, reason=f"unknown session {session_id!r}")
            doc = _as_dict(json.loads(session.document_json)) or {}
            token = _as_dict(doc.get("cdr_token")) or {}
            token_party = (
                str(token.get("country_code", "")).upper(),
                str(token.get("party_id", "")).upper(),
            )
            is_hub = any(r.role == Role.HUB for r in partner.roles)
            if token_party not in partner.party_keys and not is_hub:
                return PreferencesOutcome(False, reason=f"unknown session {session_id!r}")
            evse = await self._evse(uow, session.key, doc)
            if evse is None or CAPABILITY not in _as_list(evse.get("capabilities")):
                return PreferencesOutcome(
                    False,
                    reason=f"the EVSE of session {session_id!r} does not take charging "
                    f"preferences ({CAPABILITY})",
                )
            profiles = await self._profiles(uow, session.key, evse, doc)
            answer = decide(doc, profiles, prefs, self.ctx.now())
            if answer == "ACCEPTED":
                await uow.objects.put(
                    StoredObject(
                        module=ModuleId.SESSIONS,
                        key=ObjectKey(
                            session.key.country_code,
                            session.key.party_id,
                            session.key.id,
                            PREFERENCES_VARIANT,
                        ),
                        last_updated=self.ctx.now(),
                        document_json=dump_document(prefs),
                        partner_id=partner.id,
                        shared=False,
                    )
                )
                await uow.commit()
            return PreferencesOutcome(True, answer)

    @staticmethod
    async def _evse(uow: UnitOfWork, key: ObjectKey, session: Document) -> dict[str, Any] | None:
        """The session's EVSE in the node's own Location document, read defensively: the
        Locations module owns that shape, and anything unexpected reads as "no EVSE"."""
        location_id, evse_uid = session.get("location_id"), session.get("evse_uid")
        if not isinstance(location_id, str) or not isinstance(evse_uid, str):
            return None
        stored = await uow.objects.get(
            ModuleId.LOCATIONS, ObjectKey(key.country_code, key.party_id, location_id)
        )
        if stored is None or stored.partner_id is not None:
            return None
        try:
            location = _as_dict(json.loads(stored.document_json))
        except ValueError:
            return None
        for evse in _as_list(location.get("evses") if location else None):
            if isinstance(evse, dict) and str(evse.get("uid", "")).upper() == evse_uid.upper():
                return evse
        return None

    @staticmethod
    async def _profiles(
        uow: UnitOfWork, key: ObjectKey, evse: dict[str, Any], session: Document
    ) -> set[str]:
        """ProfileTypes the session's connector offers: REGULAR always, the others when
        one of the connector's tariffs is of that profile's TariffType."""
        offered = {"REGULAR"}
        connector_id = str(session.get("connector_id", "")).upper()
        for connector in _as_list(evse.get("connectors")):
            if not isinstance(connector, dict) or str(connector.get("id", "")).upper() != (
                connector_id
            ):
                continue
            for tariff_id in _as_list(connector.get("tariff_ids")):
                if not isinstance(tariff_id, str):
                    continue
                stored = await uow.objects.get(
                    ModuleId.TARIFFS, ObjectKey(key.country_code, key.party_id, tariff_id)
                )
                if stored is None:
                    continue
                try:
                    tariff = _as_dict(json.loads(stored.document_json)) or {}
                except ValueError:
                    continue
                for profile, tariff_type in PROFILE_TARIFF.items():
                    if tariff.get("type") == tariff_type:
                        offered.add(profile)
        return offered


def decide(session: Document, profiles: set[str], prefs: Document, now: datetime) -> str:
    """The ChargingPreferencesResponse for an EVSE that takes preferences:
    NOT_POSSIBLE for a session that is over, a departure not in the future or a negative
    energy need; PROFILE_TYPE_NOT_SUPPORTED for a profile the connector has no tariff
    for; DEPARTURE_REQUIRED / ENERGY_NEED_REQUIRED when CHEAP or GREEN (which move
    charging in time) lack them; ACCEPTED otherwise."""
    if session.get("status") in FINISHED:
        return "NOT_POSSIBLE"
    profile = str(prefs.get("profile_type"))
    if profile not in profiles:
        return "PROFILE_TYPE_NOT_SUPPORTED"
    departure = prefs.get("departure_time")
    energy = prefs.get("energy_need")
    if profile in NEEDS_PLAN and departure is None:
        return "DEPARTURE_REQUIRED"
    if profile in NEEDS_PLAN and energy is None:
        return "ENERGY_NEED_REQUIRED"
    if departure is not None and parse_timestamp(str(departure)) <= now:
        return "NOT_POSSIBLE"
    if isinstance(energy, int | float) and energy < 0:
        return "NOT_POSSIBLE"
    return "ACCEPTED"
