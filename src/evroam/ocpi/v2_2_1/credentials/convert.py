"""2.2.1 Credentials wire models <-> core types."""

from __future__ import annotations

from typing import Any

from evroam.core.ports import Credentials as CoreCredentials
from evroam.core.types import BusinessDetails as CoreBusinessDetails
from evroam.core.types import Party, Role
from evroam.ocpi.v2_2_1.credentials.models import Credentials


def to_core(model: Credentials) -> CoreCredentials:
    return CoreCredentials(
        token=model.token,
        url=model.url,
        roles=[
            Party(
                country_code=r.country_code,
                party_id=r.party_id,
                role=Role(r.role.value),
                business_details=CoreBusinessDetails(
                    name=r.business_details.name,
                    website=r.business_details.website,
                    logo=(
                        r.business_details.logo.model_dump(mode="json", exclude_none=True)
                        if r.business_details.logo
                        else None
                    ),
                ),
            )
            for r in model.roles
        ],
    )


def to_wire(creds: CoreCredentials) -> dict[str, Any]:
    """The JSON body we send: exactly the spec's fields, optional ones left out when empty."""
    roles = []
    for p in creds.roles:
        bd: dict[str, Any] = {"name": p.business_details.name}
        if p.business_details.website:
            bd["website"] = p.business_details.website
        if p.business_details.logo:
            bd["logo"] = p.business_details.logo
        roles.append(
            {
                "role": p.role.value,
                "business_details": bd,
                "party_id": p.party_id,
                "country_code": p.country_code,
            }
        )
    return {"token": creds.token, "url": creds.url, "roles": roles}
