"""Operator API for partners: list, show, invite, register, update, rotate, reset, unregister.

A partner is addressed by its numeric id or by any of its parties as ``CC-PID``. The
partner's own token is never returned; a token A is shown once, when it is issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from evroam.core.types import Partner
from evroam.ocpi.common.timeutil import format_datetime
from evroam.services.partners import Invitation
from evroam.web.deps import NodeDep

router = APIRouter(prefix="/partners", tags=["partners"])


class PartyOut(BaseModel):
    country_code: str
    party_id: str
    role: str
    name: str
    website: str | None = None


class EndpointOut(BaseModel):
    identifier: str
    role: str | None
    url: str


class PartnerOut(BaseModel):
    id: int
    country_code: str | None = Field(description="Of the partner's first role")
    party_id: str | None = Field(description="Of the partner's first role")
    roles: list[PartyOut]
    version: str | None
    status: str
    registered: bool
    versions_url: str | None
    initiated_by_us: bool
    last_connection: str | None
    status_changed_at: str | None
    registered_at: str | None
    created_at: str | None
    note: str | None
    endpoints: list[EndpointOut]


class InvitationOut(BaseModel):
    partner: PartnerOut
    versions_url: str
    token: str = Field(description="Token A: hand it over securely; it is not shown again")


class InviteIn(BaseModel):
    note: str | None = Field(default=None, max_length=255)


class RegisterIn(BaseModel):
    versions_url: str = Field(max_length=255, pattern=r"^https?://\S+$")
    token: str = Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7E]+$")
    note: str | None = Field(default=None, max_length=255)


class UpdateIn(BaseModel):
    note: str | None = Field(default=None, max_length=255)


class UnregisterOut(BaseModel):
    partner: PartnerOut
    remote_ok: bool
    remote_error: str | None


def _ts(value: datetime | None) -> str | None:
    return format_datetime(value) if value else None


def partner_out(p: Partner) -> PartnerOut:
    first = p.roles[0] if p.roles else None
    return PartnerOut(
        id=p.id,
        country_code=first.country_code if first else None,
        party_id=first.party_id if first else None,
        roles=[
            PartyOut(
                country_code=r.country_code,
                party_id=r.party_id,
                role=r.role.value,
                name=r.business_details.name,
                website=r.business_details.website,
            )
            for r in p.roles
        ],
        version=p.version,
        status=p.status.value,
        registered=p.registered,
        versions_url=p.versions_url,
        initiated_by_us=p.initiated_by_us,
        last_connection=_ts(p.last_connection),
        status_changed_at=_ts(p.status_changed_at),
        registered_at=_ts(p.registered_at),
        created_at=_ts(p.created_at),
        note=p.note,
        endpoints=[
            EndpointOut(identifier=e.identifier, role=e.role.value if e.role else None, url=e.url)
            for e in p.endpoints
        ],
    )


def invitation_out(inv: Invitation) -> InvitationOut:
    return InvitationOut(
        partner=partner_out(inv.partner), versions_url=inv.versions_url, token=inv.token
    )


@router.get("", response_model=list[PartnerOut], summary="Every partner")
async def list_partners(node: NodeDep) -> Any:
    return [partner_out(p) for p in await node.partners.list()]


@router.post(
    "/invite",
    response_model=InvitationOut,
    status_code=201,
    summary="New partner: issue a token A to hand over with our versions URL",
)
async def invite(node: NodeDep, body: InviteIn | None = None) -> Any:
    return invitation_out(await node.partners.invite(body.note if body else None))


@router.post(
    "/register",
    response_model=PartnerOut,
    status_code=201,
    summary="Register with a partner from its versions URL and token A",
)
async def register(body: RegisterIn, node: NodeDep) -> Any:
    partner = await node.partners.register(body.versions_url, body.token, body.note)
    return partner_out(partner)


@router.get("/{ref}", response_model=PartnerOut, summary="One partner (id or CC-PID)")
async def show(ref: str, node: NodeDep) -> Any:
    return partner_out(await node.partners.resolve(ref))


@router.post(
    "/{ref}/update",
    response_model=PartnerOut,
    summary="Re-discover the partner's versions and PUT fresh credentials",
)
async def update(ref: str, node: NodeDep, body: UpdateIn | None = None) -> Any:
    partner = await node.partners.resolve(ref)
    if body is not None and "note" in body.model_fields_set:
        partner = await node.partners.set_note(partner.id, body.note)
        if not partner.registered:
            return partner_out(partner)
    return partner_out(await node.partners.update(partner.id))


@router.post(
    "/{ref}/rotate-token",
    response_model=PartnerOut,
    summary="PUT credentials with a new token for the partner",
)
async def rotate(ref: str, node: NodeDep) -> Any:
    partner = await node.partners.resolve(ref)
    return partner_out(await node.partners.rotate(partner.id))


@router.post(
    "/{ref}/reset",
    response_model=InvitationOut,
    summary="Revoke every token, stop all traffic, issue a new token A",
)
async def reset(ref: str, node: NodeDep) -> Any:
    partner = await node.partners.resolve(ref)
    return invitation_out(await node.partners.reset(partner.id))


@router.post(
    "/{ref}/unregister",
    response_model=UnregisterOut,
    summary="DELETE our registration at the partner and revoke its tokens",
)
async def unregister(ref: str, node: NodeDep) -> Any:
    partner = await node.partners.resolve(ref)
    result = await node.partners.unregister(partner.id)
    return UnregisterOut(
        partner=partner_out(result.partner),
        remote_ok=result.remote_ok,
        remote_error=result.remote_error,
    )
