"""The operator API router, guarded by the admin token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from evroam.web.admin import partners
from evroam.web.auth import check_admin_token
from evroam.web.deps import get_node
from evroam.web.errors import api_error


class AdminUnauthorized(Exception):
    pass


async def require_admin(request: Request) -> None:
    expected = get_node(request).settings.admin_token
    if expected is None or not check_admin_token(
        request.headers.get("authorization"), expected.get_secret_value()
    ):
        raise AdminUnauthorized()


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin)])
    router.include_router(partners.router)

    @router.get("/node", tags=["node"], summary="This node: parties, URLs, versions")
    async def node_info(request: Request) -> Any:
        node = get_node(request)
        return {
            "versions_url": node.partners.versions_url,
            "parties": [
                {
                    "country_code": p.country_code,
                    "party_id": p.party_id,
                    "role": p.role.value,
                    "name": p.business_details.name,
                }
                for p in node.partners.own_parties
            ],
            "versions": node.partners.supported_versions,
        }

    return router


async def admin_unauthorized_handler(request: Request, exc: Exception) -> Any:
    response = api_error(401, "Unauthorized", "missing or wrong admin token (Bearer)")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response
