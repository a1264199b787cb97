"""OCPI 2.2.1 Tokens wire models (mod_tokens.asciidoc §"Object description", §"Data
types"; digest §5.5).

Field names, lengths and enums are the spec's. TokenType is a closed enum in 2.2.1 (2.3.0
opens it), so an unknown type is refused (2001). Optional fields default to None and a
``null`` on input reads as absent; ``*Patch`` models make every field optional, only
``last_updated`` is checked by the service (a PATCH without it is 2001).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StrictBool, StringConstraints

from evroam.ocpi.common.types import CiString, DateTime, String, WireModel
from evroam.ocpi.v2_2_1.credentials.models import CountryCode, PartyId
from evroam.ocpi.v2_2_1.types import DisplayText, ProfileType, TokenType

Uid = Annotated[str, CiString(36)]
Language = Annotated[str, StringConstraints(min_length=2, max_length=2, strict=True)]


class WhitelistType(StrEnum):
    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class AllowedType(StrEnum):
    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class EnergyContract(WireModel):
    supplier_name: Annotated[str, String(64)]
    contract_id: Annotated[str, String(64)] | None = None


class LocationReferences(WireModel):
    """The optional body of a real-time authorization, echoed where allowed."""

    location_id: Annotated[str, CiString(36)]
    evse_uids: list[Annotated[str, CiString(36)]] | None = None


class Token(WireModel):
    country_code: CountryCode
    party_id: PartyId
    uid: Uid
    type: TokenType
    contract_id: Annotated[str, CiString(36)]
    visual_number: Annotated[str, String(64)] | None = None
    issuer: Annotated[str, String(64)]
    group_id: Annotated[str, CiString(36)] | None = None
    valid: StrictBool
    whitelist: WhitelistType
    language: Language | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class TokenPatch(WireModel):
    country_code: CountryCode | None = None
    party_id: PartyId | None = None
    uid: Uid | None = None
    type: TokenType | None = None
    contract_id: Annotated[str, CiString(36)] | None = None
    visual_number: Annotated[str, String(64)] | None = None
    issuer: Annotated[str, String(64)] | None = None
    group_id: Annotated[str, CiString(36)] | None = None
    valid: StrictBool | None = None
    whitelist: WhitelistType | None = None
    language: Language | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime | None = None


class AuthorizationInfo(WireModel):
    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: Annotated[str, CiString(36)] | None = None
    info: DisplayText | None = None
