"""Operator API for the hub's OICP partners: ``/api/v1/oicp/partners``.

``POST`` adds a partner, ``GET`` lists them, ``GET /{id}`` shows one, ``PATCH /{id}``
changes its access (networks, certificate identity) or its endpoint and name, ``DELETE
/{id}`` removes it with the statuses it pushed. A partner is addressed by its ID in any
spelling of it (``DE*ABC``, ``deabc``): the canonical form decides.

The ID is checked here against the forms of its roles (ids.py): a CPO's must be an
OperatorID, an EMP's a ProviderID, and one ID holding both roles must be both. Answers
are JSON; refusals ``{"error": kind, "detail": text}`` with 401, 404, 409 or 422.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from evroam.core.oicp import (
    InvalidOicpPartner,
    OicpPartner,
    OicpPartnerExists,
    OicpPartnerUnknown,
    OicpRole,
)
from evroam.core.ports import OicpUnitOfWorkFactory
from evroam.oicp.v2_3 import ids
from evroam.services.oicp import partners as service
from evroam.web.admin.errors import api_error

router = APIRouter(prefix="/oicp/partners", tags=["oicp partners"])

MAX_NETWORKS = 100


@dataclass(frozen=True, slots=True)
class OicpAdminContext:
    """``partners_changed``: called after each partner change commits (the partner
    app's certificate lookup forgets what it remembered)."""

    uow: OicpUnitOfWorkFactory
    partners_changed: Callable[[], None] = lambda: None


def get_context(request: Request) -> OicpAdminContext:
    ctx = getattr(request.app.state, "oicp_admin", None)
    if not isinstance(ctx, OicpAdminContext):
        raise RuntimeError("the OICP operator API has no context (app.state.oicp_admin)")
    return ctx


ContextDep = Annotated[OicpAdminContext, Depends(get_context)]


class PartnerIn(BaseModel):
    partner_id: str = Field(min_length=1, max_length=16, description="OperatorID/ProviderID")
    roles: list[Literal["CPO", "EMP"]] = Field(min_length=1, max_length=2)
    cert_identity: str | None = Field(
        default=None, max_length=255, description="Default: the partner ID"
    )
    allowed_networks: list[str] = Field(
        default_factory=list,
        max_length=MAX_NETWORKS,
        description="Addresses or CIDR blocks it may call from; empty: any address",
    )
    endpoint: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=100)


class PartnerPatch(BaseModel):
    """Fields left out stay as they are; ``null`` clears endpoint or name."""

    cert_identity: str | None = Field(default=None, max_length=255)
    allowed_networks: list[str] | None = Field(default=None, max_length=MAX_NETWORKS)
    endpoint: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=100)


class PartnerOut(BaseModel):
    partner_id: str
    canonical_id: str
    roles: list[str]
    cert_identity: str
    allowed_networks: list[str]
    endpoint: str | None
    name: str | None
    created_at: str | None
    updated_at: str | None


def _out(p: OicpPartner) -> PartnerOut:
    return PartnerOut(
        partner_id=p.partner_id,
        canonical_id=p.canonical_id,
        roles=sorted(r.value for r in p.roles),
        cert_identity=p.cert_identity,
        allowed_networks=list(p.allowed_networks),
        endpoint=p.endpoint,
        name=p.name,
        created_at=p.created_at.isoformat() if p.created_at else None,
        updated_at=p.updated_at.isoformat() if p.updated_at else None,
    )


def canonical_for_roles(partner_id: str, roles: frozenset[OicpRole]) -> str:
    """The canonical ID, after checking ``partner_id`` has the form of each role."""
    if OicpRole.CPO in roles and not ids.is_operator_id(partner_id):
        raise InvalidOicpPartner(
            f"{partner_id!r} is not an OperatorID (a CPO's ID: e.g. DE*ABC or +49*123)"
        )
    if OicpRole.EMP in roles and not ids.is_provider_id(partner_id):
        raise InvalidOicpPartner(
            f"{partner_id!r} is not a ProviderID (an EMP's ID: e.g. DE-ABC or DE*ABC)"
        )
    if OicpRole.CPO in roles:
        return ids.canonical_operator(partner_id)
    return ids.canonical(partner_id)


def reference(ref: str) -> str:
    """The canonical ID a path names; an ID of no valid form names no partner."""
    if ids.is_operator_id(ref):
        return ids.canonical_operator(ref)
    if ids.is_provider_id(ref):
        return ids.canonical(ref)
    raise OicpPartnerUnknown(f"{ref!r} is not an OperatorID or ProviderID")


@router.post("", status_code=201, summary="Add an OICP partner")
async def add(body: PartnerIn, ctx: ContextDep) -> PartnerOut:
    roles = frozenset(OicpRole(r) for r in body.roles)
    draft = service.PartnerDraft(
        partner_id=body.partner_id.strip(),
        canonical_id=canonical_for_roles(body.partner_id.strip(), roles),
        roles=roles,
        cert_identity=body.cert_identity,
        allowed_networks=body.allowed_networks,
        endpoint=body.endpoint,
        name=body.name,
    )
    added = await service.add_partner(ctx.uow, draft, datetime.now(UTC))
    ctx.partners_changed()
    return _out(added)


@router.get("", summary="Every OICP partner")
async def list_(ctx: ContextDep) -> list[PartnerOut]:
    return [_out(p) for p in await service.list_partners(ctx.uow)]


@router.get("/{ref}", summary="One OICP partner")
async def show(ref: str, ctx: ContextDep) -> PartnerOut:
    return _out(await service.get_partner(ctx.uow, reference(ref)))


@router.patch("/{ref}", summary="Change a partner's access, endpoint or name")
async def update(ref: str, body: PartnerPatch, ctx: ContextDep) -> PartnerOut:
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "endpoint" in given:
        changes["endpoint"] = body.endpoint
    if "name" in given:
        changes["name"] = body.name
    partner = await service.update_partner(
        ctx.uow,
        reference(ref),
        datetime.now(UTC),
        allowed_networks=body.allowed_networks,
        cert_identity=body.cert_identity,
        **changes,
    )
    ctx.partners_changed()
    return _out(partner)


@router.delete("/{ref}", status_code=204, summary="Remove a partner and its statuses")
async def remove(ref: str, ctx: ContextDep) -> Response:
    await service.remove_partner(ctx.uow, reference(ref))
    ctx.partners_changed()
    return Response(status_code=204)


# ---------------------------------------------------------------------- errors


async def _exists(request: Request, exc: Exception) -> Response:
    return api_error(409, "PartnerExists", str(exc))


async def _unknown(request: Request, exc: Exception) -> Response:
    return api_error(404, "PartnerNotFound", str(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    return api_error(422, "InvalidInput", str(exc))


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc}: {err.get('msg')}")
    return api_error(422, "InvalidInput", "invalid field " + "; ".join(parts))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return api_error(exc.status_code, "HTTPError", str(exc.detail))


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OicpPartnerExists, _exists)
    app.add_exception_handler(OicpPartnerUnknown, _unknown)
    app.add_exception_handler(InvalidOicpPartner, _invalid)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
