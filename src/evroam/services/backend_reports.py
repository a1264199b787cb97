"""What a charge-point backend reports, into the node's services (``core/backend.py``
:class:`~evroam.core.backend.BackendReports`).

Why one class: whatever drives the chargers (the simulator, an HTTP backend through
the webhook adapter) reports through the SAME service calls the operator API makes,
so a charger's session is checked, stored and pushed to its eMSP through the outbox
exactly like one an operator PUTs, and no report skips a rule:

* ``evse_status`` -> ``LocationsService.patch_own`` (an EVSE PATCH, pushed as one);
* ``session_started`` -> ``SessionsService.put_own``; ``session_updated`` and
  ``session_ended`` -> ``SessionsService.patch_own`` (charging_periods appended);
* ``cdr`` -> ``CdrService.add_own`` (POSTed to the eMSP; a second one refused);
* ``location`` and ``tariff`` read the node's own objects, never a partner's;
* ``authorize`` asks the token's eMSP (OCPI Tokens Sender ``POST {uid}/authorize``)
  through a :class:`TokenAuthorizer` (the node's partner API);
* ``command_result``, ``profile_result`` and ``active_profile_changed`` belong to the
  Commands and ChargingProfiles services: they are injected callables, and until they
  are wired a report of them is refused with :class:`NotWired`.

Documents are canonical 2.2.1 JSON; services import no protocol package, so the wire
checks come in as :class:`ReportValidators` (``backends/validators.py`` builds them
from the 2.2.1 models). A report that breaks a rule raises a DomainError: InvalidInput
for a bad document or a party that is not the node's, :class:`UnknownReportObject` for
an EVSE or session the node does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from evroam.core.backend import Authorization, ChargingProfileResultType, CommandResultType
from evroam.core.errors import DomainError, InvalidInput
from evroam.core.objects import Document, ObjectKey, StoredObject
from evroam.core.timestamps import format_timestamp
from evroam.core.types import ModuleId, Partner, Role
from evroam.services.cdrs import CdrService
from evroam.services.context import PartnerContext
from evroam.services.locations import LocationPath, LocationsService, merge_fields
from evroam.services.sessions import SessionsService
from evroam.services.tariffs import TariffsService

Validator = Callable[[Document], Document]
CommandResultSink = Callable[[str, CommandResultType, str | None], Awaitable[None]]
ProfileResultSink = Callable[[str, ChargingProfileResultType, Document | None], Awaitable[None]]
ActiveProfileChanged = Callable[[tuple[str, str], str, Document], Awaitable[None]]


class NotWired(DomainError):
    """A report of something this node has no service for yet (a command result before
    the Commands service is connected)."""


class UnknownReportObject(DomainError):
    """The report names an EVSE or session the node does not hold."""


@dataclass(frozen=True, slots=True)
class ReportValidators:
    """The wire checks of reported documents, each raising InvalidInput naming the bad
    field: ``session`` validates a whole Session (after a PATCH is merged too);
    ``evse_patch`` an EVSE PATCH body (merged with ``merge_fields``, as the Receiver
    does); ``cdr`` turns a whole CDR into the stored object."""

    session: Validator
    evse_patch: Validator
    cdr: Callable[[Document], StoredObject]


@runtime_checkable
class TokenAuthorizer(Protocol):
    async def authorize_token(
        self,
        partner: Partner,
        ours: tuple[str, str],
        theirs: tuple[str, str],
        uid: str,
        token_type: str,
        location: Document | None,
    ) -> Document | None:
        """The eMSP's AuthorizationInfo (canonical), None when it does not know the
        token; PartnerUnreachable when it could not be asked."""
        ...


def _party(value: tuple[str, str]) -> tuple[str, str]:
    return (value[0].upper(), value[1].upper())


class NodeReports:
    """:class:`~evroam.core.backend.BackendReports` over the node's services."""

    def __init__(
        self,
        ctx: PartnerContext,
        validators: ReportValidators,
        *,
        authorizer: TokenAuthorizer | None = None,
        command_result: CommandResultSink | None = None,
        profile_result: ProfileResultSink | None = None,
        active_profile_changed: ActiveProfileChanged | None = None,
    ) -> None:
        self.ctx = ctx
        self.validators = validators
        # The context's partner API is the node's OcpiPartnerApi, which can authorize.
        fallback = ctx.api if isinstance(ctx.api, TokenAuthorizer) else None
        self.authorizer = authorizer or fallback
        self._command_result = command_result
        self._profile_result = profile_result
        self._active_profile_changed = active_profile_changed
        self.locations = LocationsService(ctx)
        self.sessions = SessionsService(ctx)
        self.cdrs = CdrService(ctx)
        self.tariffs = TariffsService(ctx)

    # ---- results of commands and profile requests (other services own them) ----------

    async def command_result(
        self, command_id: str, result: CommandResultType, message: str | None = None
    ) -> None:
        if self._command_result is None:
            raise NotWired("this node does not take command results (no Commands service)")
        await self._command_result(command_id, result, message)

    async def profile_result(
        self,
        request_id: str,
        result: ChargingProfileResultType,
        active_profile: Document | None = None,
    ) -> None:
        if self._profile_result is None:
            raise NotWired(
                "this node does not take charging profile results (no ChargingProfiles service)"
            )
        await self._profile_result(request_id, result, active_profile)

    async def active_profile_changed(
        self, party: tuple[str, str], session_id: str, active_profile: Document
    ) -> None:
        if self._active_profile_changed is None:
            raise NotWired(
                "this node does not push active charging profiles (no ChargingProfiles service)"
            )
        await self._active_profile_changed(_party(party), session_id, active_profile)

    # ---- what the chargers did ------------------------------------------------------

    async def evse_status(
        self, party: tuple[str, str], location_id: str, evse_uid: str, status: str, at: datetime
    ) -> None:
        cc, pid = _party(party)
        path = LocationPath(ObjectKey(cc, pid, location_id), evse_uid)
        patch = self.validators.evse_patch({"status": status, "last_updated": format_timestamp(at)})
        outcome = await self.locations.patch_own(path, patch, merge_fields)
        if outcome == "unknown":
            raise UnknownReportObject(f"unknown EVSE {cc}-{pid}/{location_id}/{evse_uid}")

    async def session_started(self, session: Document) -> None:
        doc = self.validators.session(session)
        key = ObjectKey(str(doc["country_code"]), str(doc["party_id"]), str(doc["id"]))
        await self.sessions.put_own(key, doc)

    async def session_updated(
        self, party: tuple[str, str], session_id: str, patch: Document
    ) -> None:
        await self._patch_session(party, session_id, patch)

    async def session_ended(self, party: tuple[str, str], session_id: str, patch: Document) -> None:
        await self._patch_session(party, session_id, patch)

    async def _patch_session(
        self, party: tuple[str, str], session_id: str, patch: Document
    ) -> None:
        cc, pid = _party(party)
        key = ObjectKey(cc, pid, session_id)
        outcome = await self.sessions.patch_own(key, patch, self.validators.session)
        if outcome == "unknown":
            raise UnknownReportObject(f"unknown session {key.label}: report it started first")

    async def cdr(self, cdr: Document) -> None:
        await self.cdrs.add_own(self.validators.cdr(cdr))

    # ---- reads ----------------------------------------------------------------------

    async def location(self, party: tuple[str, str], location_id: str) -> Document | None:
        cc, pid = _party(party)
        text = await self.locations.get(
            LocationPath(ObjectKey(cc, pid, location_id)),
            partner_id=None,
            own=True,
            shared_only=False,
        )
        return None if text is None else _document(text)

    async def tariff(self, party: tuple[str, str], tariff_id: str) -> Document | None:
        cc, pid = _party(party)
        stored = await self.tariffs.get(ObjectKey(cc, pid, tariff_id))
        if stored is None or stored.partner_id is not None:
            return None
        return _document(stored.document_json)

    # ---- real-time authorization ----------------------------------------------------

    async def authorize(
        self,
        token_uid: str,
        token_type: str,
        location_id: str | None = None,
        evse_uids: list[str] | None = None,
        *,
        party: tuple[str, str] | None = None,
    ) -> Authorization:
        """Ask the eMSP of the token. Which eMSP: the partner holding ``party`` (the
        token's owner) when given; otherwise the eMSP partner whose copy of the token
        this node holds (what its Tokens Receiver was sent). No such partner, or one
        that offers no Tokens Sender, is a DomainError; so is an eMSP that cannot be
        asked. A token the eMSP does not know is NOT_ALLOWED."""
        if self.authorizer is None:
            raise NotWired("this node cannot ask for real-time authorizations")
        partner, theirs = await self._emsp_of(token_uid, token_type, party)
        ours = self._own_cpo_party()
        location: Document | None = None
        if location_id is not None:
            location = {"location_id": location_id}
            if evse_uids:
                location["evse_uids"] = list(evse_uids)
        info = await self.authorizer.authorize_token(
            partner, ours, theirs, token_uid, token_type, location
        )
        if info is None:
            return Authorization(allowed="NOT_ALLOWED", info={"unknown_token": True})
        token = info.get("token")
        reference = info.get("authorization_reference")
        return Authorization(
            allowed=str(info.get("allowed", "NOT_ALLOWED")),
            authorization_reference=reference if isinstance(reference, str) else None,
            token=token if isinstance(token, dict) else None,
            info=info,
        )

    def _own_cpo_party(self) -> tuple[str, str]:
        for p in self.ctx.own_parties:
            if p.role == Role.CPO:
                return p.key
        raise InvalidInput("this node has no CPO party to ask for authorizations as")

    async def _emsp_of(
        self, uid: str, token_type: str, party: tuple[str, str] | None
    ) -> tuple[Partner, tuple[str, str]]:
        async with self.ctx.uow(read_only=True) as uow:
            partners = await uow.partners.list()
        emsps = [(p, r.key) for p in partners for r in p.roles if r.role in (Role.EMSP, Role.HUB)]
        if party is not None:
            wanted = _party(party)
            for p, key in emsps:
                if key == wanted:
                    return p, key
            raise InvalidInput(f"no eMSP partner holds party {wanted[0]}-{wanted[1]}")
        for p, key in emsps:
            stored = await self.ctx.reader.get(
                ModuleId.TOKENS, ObjectKey(key[0], key[1], uid, token_type)
            )
            if stored is not None and stored.partner_id == p.id:
                return p, key
        raise InvalidInput(
            f"no eMSP partner has sent token {uid!r} ({token_type}): its owner is unknown"
        )


def _document(text: str) -> Document:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise InvalidInput("a stored object is not a JSON object")  # never: the node wrote it
    return doc
