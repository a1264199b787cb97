"""OCPI 2.2.1 Credentials wire models (credentials.asciidoc §"Object description")."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from evroam.ocpi.common.types import URL, CiString, String, WireModel


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", strict=True)]
PartyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{3}$", strict=True)]
# 2.2.1-d2: the token is printable non-whitespace ASCII (U+0021-U+007E), at most 64.
CredentialsTokenStr = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7E]+$", strict=True)
]


class Image(WireModel):
    url: URL
    thumbnail: URL | None = None
    category: ImageCategory
    type: Annotated[str, CiString(4)]
    width: int | None = Field(default=None, ge=0, le=99999)
    height: int | None = Field(default=None, ge=0, le=99999)


class BusinessDetails(WireModel):
    name: Annotated[str, String(100)]
    website: URL | None = None
    logo: Image | None = None


class CredentialsRole(WireModel):
    role: Role
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Credentials(WireModel):
    token: CredentialsTokenStr
    url: URL
    roles: list[CredentialsRole] = Field(min_length=1)

    @model_validator(mode="after")
    def _roles_unique(self) -> Credentials:
        seen: set[tuple[str, str, str]] = set()
        for r in self.roles:
            key = (r.country_code.upper(), r.party_id.upper(), r.role.value)
            if key in seen:
                raise ValueError(
                    f"roles: {r.country_code}-{r.party_id} {r.role.value} appears twice"
                )
            seen.add(key)
        return self
