"""The node's outbound side of Sessions: read a CPO partner's Sender (following ``Link``
to the end), write to an eMSP partner's Receiver, set Charging Preferences. Issue 8's
push worker sends through it.

Every request carries the routing headers (transport §"Routing headers", digest §1.6):
FROM is our party, TO the partner's party the call is meant for. What a partner serves
is untrusted (DESIGN "Partners are untrusted"): each Session read is validated, and an
invalid one is reported, never stored blindly.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from evroam.core.objects import Document
from evroam.core.types import InterfaceRole, ModuleId, Partner, Party, Role
from evroam.ocpi.common.client import OcpiAnswer, OcpiClient, PartnerError
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.common.timeutil import format_datetime
from evroam.ocpi.v2_2_1.sessions.convert import to_document
from evroam.ocpi.v2_2_1.sessions.models import ChargingPreferencesResponse, Session

log = logging.getLogger("evroam.ocpi.sessions")


@dataclass(slots=True)
class SessionsPage:
    """One page of a partner's Sender list: the valid Sessions in canonical form, and
    what was wrong with the others (``index: reason``)."""

    sessions: list[Document] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def routing(ours: Party, theirs: tuple[str, str]) -> dict[str, str]:
    return {
        FROM_CC: ours.country_code,
        FROM_PID: ours.party_id,
        TO_CC: theirs[0],
        TO_PID: theirs[1],
    }


def _their_party(partner: Partner, role: Role) -> tuple[str, str]:
    for party in partner.roles:
        if party.role in (role, Role.HUB):
            return party.key
    if partner.roles:
        return partner.roles[0].key
    raise PartnerError(f"partner {partner.label} has no parties")


def _endpoint(partner: Partner, role: InterfaceRole) -> str:
    ep = partner.endpoint(ModuleId.SESSIONS, role)
    if ep is None:
        raise PartnerError(f"partner {partner.label} offers no sessions {role.value} interface")
    return ep.url.rstrip("/")


def _token(partner: Partner) -> str:
    if not partner.token_out:
        raise PartnerError(f"partner {partner.label} is not registered")
    return partner.token_out


class SessionsClient:
    """Stateless: every call names the HTTP client, the partner and our party."""

    async def pull(
        self,
        http: OcpiClient,
        partner: Partner,
        ours: Party,
        *,
        date_from: datetime,
        date_to: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[SessionsPage]:
        """Each page of the partner's Sessions Sender. ``date_from`` is always sent: the
        spec marks it required for this list (mod_sessions §"CPO Interface")."""
        params = {"date_from": format_datetime(date_from)}
        if date_to is not None:
            params["date_to"] = format_datetime(date_to)
        if limit is not None:
            params["limit"] = str(limit)
        async for raw in http.get_pages(
            _endpoint(partner, InterfaceRole.SENDER),
            _token(partner),
            partner=partner.label,
            params=params,
            routing=routing(ours, _their_party(partner, Role.CPO)),
        ):
            page = SessionsPage()
            for pos, item in enumerate(raw):
                try:
                    page.sessions.append(to_document(Session.model_validate(item)))
                except ValidationError as exc:
                    page.invalid.append(f"{pos}: {describe_validation_error(exc)}")
            if page.invalid:
                log.warning("partner %s served invalid sessions: %s", partner.label, page.invalid)
            yield page

    def _object_url(self, partner: Partner, doc_or_key: Mapping[str, Any]) -> str:
        base = _endpoint(partner, InterfaceRole.RECEIVER)
        return f"{base}/{doc_or_key['country_code']}/{doc_or_key['party_id']}/{doc_or_key['id']}"

    async def put(
        self, http: OcpiClient, partner: Partner, ours: Party, session: Document
    ) -> OcpiAnswer:
        """PUT one of our Sessions into the partner's Receiver (replaces it whole)."""
        return await http.request(
            "PUT",
            self._object_url(partner, session),
            _token(partner),
            partner=partner.label,
            json_body=session,
            routing=routing(ours, _their_party(partner, Role.EMSP)),
        )

    async def patch(
        self,
        http: OcpiClient,
        partner: Partner,
        ours: Party,
        key: Mapping[str, str],
        patch: Document,
    ) -> OcpiAnswer:
        """PATCH a Session (``key``: country_code, party_id, id); ``patch`` must carry
        ``last_updated``; its charging_periods are appended by the Receiver."""
        return await http.request(
            "PATCH",
            self._object_url(partner, key),
            _token(partner),
            partner=partner.label,
            json_body=patch,
            routing=routing(ours, _their_party(partner, Role.EMSP)),
        )

    async def get(
        self, http: OcpiClient, partner: Partner, ours: Party, key: Mapping[str, str]
    ) -> Document:
        """The Session as the partner's Receiver holds it (the CPO's check after a failed
        PATCH, mod_sessions §"eMSP Interface" GET)."""
        answer = await http.request(
            "GET",
            self._object_url(partner, key),
            _token(partner),
            partner=partner.label,
            routing=routing(ours, _their_party(partner, Role.EMSP)),
        )
        try:
            return to_document(Session.model_validate(answer.data))
        except ValidationError as exc:
            raise PartnerError(f"invalid Session: {describe_validation_error(exc)}") from None

    async def set_charging_preferences(
        self,
        http: OcpiClient,
        partner: Partner,
        ours: Party,
        session_id: str,
        preferences: Document,
    ) -> ChargingPreferencesResponse:
        """PUT {sessions}/{session_id}/charging_preferences on the CPO's Sender."""
        answer = await http.request(
            "PUT",
            f"{_endpoint(partner, InterfaceRole.SENDER)}/{session_id}/charging_preferences",
            _token(partner),
            partner=partner.label,
            json_body=preferences,
            routing=routing(ours, _their_party(partner, Role.CPO)),
        )
        try:
            return ChargingPreferencesResponse(answer.data)
        except ValueError:
            raise PartnerError(f"not a ChargingPreferencesResponse: {answer.data!r}") from None
