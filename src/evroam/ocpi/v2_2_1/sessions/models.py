"""Sessions wire models, OCPI 2.2.1 (mod_sessions.asciidoc §"Object description", and the
CdrToken, ChargingPeriod, CdrDimension and AuthMethod types of mod_cdrs.asciidoc, Price of
types.asciidoc).

Field names, lengths and cardinalities are the spec tables'. Optional fields default to
None, so ``null`` on input reads as absent; ``convert.py`` leaves absent fields out of
what the node sends. Numbers and booleans are strict (a string ``"12"`` for ``kwh`` is a
wrong type, 2001), enums are case-sensitive (types.asciidoc).

``#NA`` (transport_and_format §"Unique IDs", digest §1.1): only ``evse_uid`` and
``connector_id`` of a Session may carry it (a reservation not yet bound to an EVSE,
mod_sessions Session table); ``id`` and ``location_id`` refuse it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StrictBool, StrictFloat, model_validator

from evroam.ocpi.common.types import CiString, DateTime, String, WireModel
from evroam.ocpi.v2_2_1.credentials.models import CountryCode, PartyId
from evroam.ocpi.v2_2_1.types import (
    AuthMethod,
    ChargingPeriod,
    Currency,
    Price,
    ProfileType,
    TokenType,
)

NOT_APPLICABLE = "#NA"

Number = StrictFloat  # OCPI number: a JSON number; strict refuses strings, accepts integers


class SessionStatus(StrEnum):
    """mod_sessions §SessionStatus. The text says "RESERVED"; the enum value is
    RESERVATION (digest §7.12)."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class ChargingPreferencesResponse(StrEnum):
    """mod_sessions §ChargingPreferencesResponse."""

    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class CdrToken(WireModel):
    """mod_cdrs §CdrToken. country_code and party_id (the eMSP owning the token) are
    required since 2.2.1; the spec's own session examples omit them (digest §7.14), and
    evroam refuses that (2001) rather than store a token it cannot attribute."""

    country_code: CountryCode
    party_id: PartyId
    uid: Annotated[str, CiString(36)]
    type: TokenType
    contract_id: Annotated[str, CiString(36)]


def _no_na(value: str | None, field: str) -> None:
    if value is not None and value.upper() == NOT_APPLICABLE:
        raise ValueError(f"{field}: '#NA' is not allowed here (only evse_uid and connector_id)")


class Session(WireModel):
    """mod_sessions §"Session Object"."""

    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, CiString(36)]
    start_date_time: DateTime
    end_date_time: DateTime | None = None
    kwh: Number
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: Annotated[str, CiString(36)] | None = None
    location_id: Annotated[str, CiString(36)]
    evse_uid: Annotated[str, CiString(36)]
    connector_id: Annotated[str, CiString(36)]
    meter_id: Annotated[str, String(255)] | None = None
    currency: Currency
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: DateTime

    @model_validator(mode="after")
    def _na_only_where_allowed(self) -> Session:
        _no_na(self.id, "id")
        _no_na(self.location_id, "location_id")
        return self


class SessionPatch(WireModel):
    """mod_sessions §"PATCH Method": every field optional but ``last_updated`` (transport
    §"PATCH": 2001 without it). Owner and id come from the URL, never from a PATCH;
    ``charging_periods`` are appended to the stored ones (SessionPatch in the OpenAPI)."""

    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    kwh: Number | None = None
    cdr_token: CdrToken | None = None
    auth_method: AuthMethod | None = None
    authorization_reference: Annotated[str, CiString(36)] | None = None
    location_id: Annotated[str, CiString(36)] | None = None
    evse_uid: Annotated[str, CiString(36)] | None = None
    connector_id: Annotated[str, CiString(36)] | None = None
    meter_id: Annotated[str, String(255)] | None = None
    currency: Currency | None = None
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _na_only_where_allowed(self) -> SessionPatch:
        _no_na(self.location_id, "location_id")
        return self


class ChargingPreferences(WireModel):
    """mod_sessions §"ChargingPreferences Object"; ``discharge_allowed`` absent means
    false."""

    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: Number | None = None
    discharge_allowed: StrictBool | None = None
