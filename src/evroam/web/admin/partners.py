"""Operator API for partners: list, show, invite, register, update, rotate, reset,
unregister, uninvite, delete, and the ClientInfo a hub partner reported.

A partner is addressed by its numeric id or by any of its parties as ``CC-PID``. The
partner's own token is never returned; a token A is shown once, when it is issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from evroam.core.types import ClientInfo, Partner
from evroam.ocpi.common.timeutil import format_datetime
from evroam.services.handshake import Invitation
from evroam.web.admin.context import AdminDep

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
    pending_since: str | None = Field(
        description="Set while a registration we started waits for the partner's answer"
    )
    notice: str | None = Field(description="What the node has to tell about this partner")
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
        pending_since=_ts(p.pending_since),
        notice=p.notice,
        endpoints=[
            EndpointOut(identifier=e.identifier, role=e.role.value if e.role else None, url=e.url)
            for e in p.endpoints
        ],
    )


def invitation_out(inv: Invitation) -> InvitationOut:
    return InvitationOut(
        partner=partner_out(inv.partner), versions_url=inv.versions_url, token=inv.token
    )


class ClientInfoOut(BaseModel):
    country_code: str
    party_id: str
    role: str
    status: str
    last_updated: str


class DeletedOut(BaseModel):
    deleted: int


class UninviteOut(BaseModel):
    withdrawn: int
    partner: PartnerOut | None = Field(
        description="The partner, when it stays (it registered before); null when removed"
    )


def client_info_out(info: ClientInfo) -> ClientInfoOut:
    return ClientInfoOut(
        country_code=info.country_code,
        party_id=info.party_id,
        role=info.role.value,
        status=info.status.value,
        last_updated=format_datetime(info.last_updated),
    )


@router.get("", response_model=list[PartnerOut], summary="Every partner")
async def list_partners(node: AdminDep) -> Any:
    return [partner_out(p) for p in await node.partners.directory.list()]


@router.post(
    "/invite",
    response_model=InvitationOut,
    status_code=201,
    summary="New partner: issue a token A to hand over with our versions URL",
)
async def invite(node: AdminDep, body: InviteIn | None = None) -> Any:
    return invitation_out(await node.partners.handshake.invite(body.note if body else None))


@router.post(
    "/register",
    response_model=PartnerOut,
    status_code=201,
    summary="Register with a partner from its versions URL and token A",
)
async def register(body: RegisterIn, node: AdminDep) -> Any:
    partner = await node.partners.handshake.register(body.versions_url, body.token, body.note)
    return partner_out(partner)


@router.get("/{ref}", response_model=PartnerOut, summary="One partner (id or CC-PID)")
async def show(ref: str, node: AdminDep) -> Any:
    return partner_out(await node.partners.directory.resolve(ref))


@router.delete(
    "/{ref}",
    response_model=DeletedOut,
    summary="Delete a partner that is not registered (409 when it is)",
)
async def delete(ref: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    await node.partners.lifecycle.delete(partner.id)
    return DeletedOut(deleted=partner.id)


@router.post(
    "/{ref}/uninvite",
    response_model=UninviteOut,
    summary="Withdraw the partner's unused token A",
)
async def uninvite(ref: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    kept = await node.partners.lifecycle.uninvite(partner.id)
    return UninviteOut(withdrawn=partner.id, partner=partner_out(kept) if kept else None)


@router.get(
    "/{ref}/client-info",
    response_model=list[ClientInfoOut],
    summary="Parties a hub partner reported through HubClientInfo",
)
async def client_info(ref: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    return [client_info_out(i) for i in await node.partners.client_info.list(partner.id)]


@router.patch("/{ref}", response_model=PartnerOut, summary="Change the operator note only")
async def patch(ref: str, body: UpdateIn, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    return partner_out(await node.partners.lifecycle.set_note(partner.id, body.note))


@router.post(
    "/{ref}/update",
    response_model=PartnerOut,
    summary="Re-discover the partner's versions and PUT fresh credentials; with a body "
    "holding only a note, change the note and nothing else",
)
async def update(ref: str, node: AdminDep, body: UpdateIn | None = None) -> Any:
    partner = await node.partners.directory.resolve(ref)
    if body is not None and "note" in body.model_fields_set:
        return partner_out(await node.partners.lifecycle.set_note(partner.id, body.note))
    return partner_out(await node.partners.lifecycle.update(partner.id))


@router.post(
    "/{ref}/rotate-token",
    response_model=PartnerOut,
    summary="PUT credentials with a new token for the partner",
)
async def rotate(ref: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    return partner_out(await node.partners.lifecycle.rotate(partner.id))


@router.post(
    "/{ref}/reset",
    response_model=InvitationOut,
    summary="Revoke every token, stop all traffic, issue a new token A",
)
async def reset(ref: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    return invitation_out(await node.partners.lifecycle.reset(partner.id))


@router.post(
    "/{ref}/unregister",
    response_model=UnregisterOut,
    summary="DELETE our registration at the partner and revoke its tokens",
)
async def unregister(ref: str, node: AdminDep) -> Any:
    partner = await node.partners.directory.resolve(ref)
    result = await node.partners.lifecycle.unregister(partner.id)
    return UnregisterOut(
        partner=partner_out(result.partner),
        remote_ok=result.remote_ok,
        remote_error=result.remote_error,
    )
