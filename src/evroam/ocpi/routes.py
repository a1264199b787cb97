"""Mount every enabled version and module, and build the version information documents.

``GET /ocpi/versions`` and ``GET /ocpi/{version}`` are served by the transport middleware
(``web/middleware.py``) from the documents built here; they accept token A as well as a
full token (they must work before registration completes, OCPI 2.2.1 versions
§"Interfaces").
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from evroam.config import Settings
from evroam.ocpi.common.module import Module
from evroam.ocpi.versions import VERSIONS, package, version_key


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


def version_documents(settings: Settings) -> dict[str, Any]:
    """Path -> ``data`` of the versions endpoint and of each version's details."""
    ordered = sorted(VERSIONS, key=version_key, reverse=True)
    docs: dict[str, Any] = {
        "/ocpi/versions": [{"version": v, "url": f"{settings.base_url}/ocpi/{v}"} for v in ordered]
    }
    for version in ordered:
        docs[f"/ocpi/{version}"] = version_details(settings, version)
    return docs


def mount(app: FastAPI, settings: Settings) -> None:
    for version in sorted(VERSIONS, key=version_key, reverse=True):
        for module in enabled_modules(settings, version):
            app.include_router(
                module.router(),
                prefix=f"/ocpi/{version}/{module.path}",
                tags=[f"OCPI {version} {module.identifier} {module.role.value.lower()}"],
            )
