"""The webhook adapter (``EVROAM_BACKEND__KIND=webhook``): a CPO node whose chargers are
driven by another system (an OCPP central system, a vendor cloud) hands each command
and charging-profile request to that system over HTTP, and takes its reports back on an
authenticated endpoint of the node.

Both directions use the shared secret ``EVROAM_BACKEND__SECRET`` as a bearer token.

Node -> backend: ``POST <EVROAM_BACKEND__URL>`` with ``Authorization: Bearer <secret>``
and a JSON object, one per command or request::

    {"kind": "command", "id": "<command id>", "type": "START_SESSION",
     "party": {"country_code": "NL", "party_id": "CPO"},     # the CPO party addressed
     "emsp": {"country_code": "DE", "party_id": "MSP"},      # who sent it
     "received_at": "2026-01-01T12:00:00Z", "timeout": 30,   # seconds to answer in
     "token": {...Token...}, "location_id": "LOC1", "evse_uid": "EVSE1",
     "connector_id": "1", "session_id": null, "reservation_id": null,
     "expiry_date": null, "authorization_reference": "..."}  # the fields of its type

    {"kind": "profile", "id": "<request id>", "type": "SET" | "GET_ACTIVE" | "CLEAR",
     "party": {...}, "session_id": "...", "received_at": "...", "timeout": 30,
     "profile": {...ChargingProfile...} | null, "duration": 900 | null}

Any 2xx answer means the backend took it (its body is ignored); 501 means it does not
support that command (the node answers NOT_SUPPORTED); any other answer, a redirect
(never followed), a timeout (``EVROAM_BACKEND__TIMEOUT``) or an unreachable URL is a
:class:`~evroam.core.backend.BackendError` (the node answers REJECTED).

Backend -> node: ``POST /api/v1/backend/reports`` with ``Authorization: Bearer
<secret>`` (not the admin token) and one report, canonical OCPI 2.2.1 documents inside::

    {"type": "command_result", "command_id": "...", "result": "ACCEPTED", "message": "..."}
    {"type": "profile_result", "request_id": "...", "result": "ACCEPTED",
     "active_profile": {...ActiveChargingProfile...}}        # for GET_ACTIVE
    {"type": "active_profile", "country_code": "NL", "party_id": "CPO",
     "session_id": "...", "active_profile": {...}}
    {"type": "evse_status", "country_code": "NL", "party_id": "CPO",
     "location_id": "LOC1", "evse_uid": "EVSE1", "status": "CHARGING",
     "at": "2026-01-01T12:00:01Z"}                           # at: default now
    {"type": "session_started", "session": {...Session...}}
    {"type": "session_updated" | "session_ended", "country_code": "NL",
     "party_id": "CPO", "session_id": "...", "patch": {...Session PATCH, last_updated...}}
    {"type": "cdr", "cdr": {...CDR...}}

Answers: 200 ``{"accepted": "<type>"}``; 401 without the secret; 404 when the node has
no webhook backend; 422 for a report that is malformed or breaks a rule (a party that
is not the node's, an invalid Session, a CDR sent twice); 404 for an unknown EVSE or
session; 501 for a result the node has no service for. Nothing is stored from a refused
report. The routes are ``web/admin/backend.py``.

The URL is the operator's own configuration, so it is called as configured (loopback
included) rather than through the destination policy that guards partner URLs.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from evroam.config import BackendSettings
from evroam.core.backend import BackendError, BackendReports, ChargerCommand, ProfileRequest
from evroam.ocpi.common.timeutil import format_datetime

log = logging.getLogger("evroam.backend")


def _party(value: tuple[str, str]) -> dict[str, str]:
    return {"country_code": value[0], "party_id": value[1]}


def command_body(command: ChargerCommand) -> dict[str, Any]:
    """The JSON a command is POSTed as (the module docstring's shape)."""
    return {
        "kind": "command",
        "id": command.id,
        "type": command.type.value,
        "party": _party(command.party),
        "emsp": _party(command.emsp),
        "received_at": format_datetime(command.received_at),
        "timeout": command.timeout_s,
        "token": command.token,
        "location_id": command.location_id,
        "evse_uid": command.evse_uid,
        "connector_id": command.connector_id,
        "session_id": command.session_id,
        "reservation_id": command.reservation_id,
        "expiry_date": None
        if command.expiry_date is None
        else format_datetime(command.expiry_date),
        "authorization_reference": command.authorization_reference,
    }


def profile_body(request: ProfileRequest) -> dict[str, Any]:
    return {
        "kind": "profile",
        "id": request.id,
        "type": request.type.value,
        "party": _party(request.party),
        "session_id": request.session_id,
        "received_at": format_datetime(request.received_at),
        "timeout": request.timeout_s,
        "profile": request.profile,
        "duration": request.duration_s,
    }


class WebhookBackend:
    """:class:`~evroam.core.backend.ChargePointBackend` over HTTP."""

    name = "webhook"

    def __init__(
        self, settings: BackendSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if not settings.url or settings.secret is None or not settings.secret.get_secret_value():
            raise ValueError(
                "the webhook backend needs EVROAM_BACKEND__URL and EVROAM_BACKEND__SECRET"
            )
        self.url = settings.url
        self._secret = settings.secret
        self._timeout = settings.timeout
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self.reports: BackendReports | None = None

    async def start(self, reports: BackendReports) -> None:
        self.reports = reports
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            transport=self._transport,
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def handle_command(self, command: ChargerCommand) -> None:
        await self._post(command_body(command), f"command {command.type.value}")

    async def handle_profile(self, request: ProfileRequest) -> None:
        await self._post(profile_body(request), f"charging profile {request.type.value}")

    async def _post(self, body: dict[str, Any], what: str) -> None:
        if self._http is None:
            raise BackendError("the webhook backend is not started")
        headers = {"Authorization": f"Bearer {self._secret.get_secret_value()}"}
        try:
            response = await self._http.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            # The exception text names the URL, never the header: safe to log.
            log.warning("webhook backend: %s not delivered: %s", what, type(exc).__name__)
            raise BackendError(
                f"the charge-point backend is unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code == 501:
            raise BackendError(
                f"the charge-point backend does not support {what}", not_supported=True
            )
        if not 200 <= response.status_code < 300:
            log.warning("webhook backend: %s refused with HTTP %s", what, response.status_code)
            raise BackendError(
                f"the charge-point backend refused {what} (HTTP {response.status_code})"
            )
