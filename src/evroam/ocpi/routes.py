"""Mount every enabled version and module, and the version information endpoints.

``GET /ocpi/versions`` and ``GET /ocpi/{version}`` accept token A as well as a full
token (they must work before registration completes, OCPI 2.2.1 versions §"Interfaces").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from evroam.config import Settings
from evroam.ocpi.common.http import ocpi_response
from evroam.ocpi.common.module import Module
from evroam.ocpi.versions import VERSIONS, package, version_key
from evroam.web.deps import CallerDep


def enabled_modules(settings: Settings, version: str) -> list[Module]:
    return [m for m in package(version).MODULES if m.enabled(settings)]


def version_details(settings: Settings, version: str) -> dict[str, Any]:
    base = f"{settings.base_url}/ocpi/{version}"
    return {
        "version": version,
        "endpoints": [
            {"identifier": m.identifier, "role": m.role.value, "url": f"{base}/{m.path}"}
            for m in enabled_modules(settings, version)
        ],
    }


def _details_endpoint(details: dict[str, Any]) -> Any:
    async def get_details(caller: CallerDep) -> Any:
        return ocpi_response(details)

    return get_details


def mount(app: FastAPI, settings: Settings) -> None:
    router = APIRouter(tags=["OCPI versions"])
    ordered = sorted(VERSIONS, key=version_key, reverse=True)
    versions_list = [{"version": v, "url": f"{settings.base_url}/ocpi/{v}"} for v in ordered]

    @router.get("/ocpi/versions", summary="OCPI version information endpoint")
    async def get_versions(caller: CallerDep) -> Any:
        return ocpi_response(versions_list)

    for version in ordered:
        details = version_details(settings, version)

        router.add_api_route(
            f"/ocpi/{version}",
            _details_endpoint(details),
            methods=["GET"],
            summary=f"OCPI {version} version details",
        )
        for module in enabled_modules(settings, version):
            app.include_router(
                module.router(),
                prefix=f"/ocpi/{version}/{module.path}",
                tags=[f"OCPI {version} {module.identifier} {module.role.value.lower()}"],
            )
    app.include_router(router)
