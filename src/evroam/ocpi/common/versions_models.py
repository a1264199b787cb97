"""Wire models of the versions module (OCPI version_information_endpoint), all versions.

``Endpoint.role`` is absent in 2.1.1 and required in 2.2+; parsing tolerates its absence
so that one model reads every partner, while 2.2.1 answers always carry it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from evroam.ocpi.common.types import URL, CiString, WireModel


class VersionModel(WireModel):
    version: Annotated[str, CiString(8)]
    url: URL


class EndpointModel(WireModel):
    identifier: Annotated[str, CiString(32)]
    role: str | None = None
    url: URL


class VersionDetailsModel(WireModel):
    version: Annotated[str, CiString(8)]
    endpoints: list[EndpointModel] = Field(min_length=1)
