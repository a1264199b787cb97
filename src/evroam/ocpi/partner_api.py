"""The PartnerApi port, implemented over OCPI HTTP: versions, details and credentials calls.

Parses the partner's answers strictly enough to be safe (URLs, tokens, roles) and turns
every failure into the core's ``PartnerUnreachable`` with a message an operator can act on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from evroam.core.errors import PartnerRefused, PartnerUnreachable
from evroam.core.ports import Credentials, VersionRef
from evroam.core.types import Endpoint, InterfaceRole
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.versions_models import VersionDetailsModel, VersionModel
from evroam.ocpi.v2_2_1.credentials import convert as cred_convert_2_2_1
from evroam.ocpi.v2_2_1.credentials.models import Credentials as CredentialsModel221
from evroam.ocpi.versions import canonical


class OcpiPartnerApi:
    def __init__(self, client: OcpiClient, partner_label: str = "") -> None:
        self.client = client
        self.partner = partner_label

    def for_partner(self, label: str) -> OcpiPartnerApi:
        return OcpiPartnerApi(self.client, label)

    def _who(self, url: str) -> str:
        """How log lines name the partner: its party once known, else the host."""
        return self.partner or urlsplit(url).netloc or url

    async def _call(self, method: str, url: str, token: str, body: Any = None) -> Any:
        try:
            answer = await self.client.request(
                method, url, token, partner=self._who(url), json_body=body
            )
        except PartnerError as exc:
            answered = exc.http_status is not None and exc.http_status < 500
            if answered and (exc.ocpi_status is not None or exc.http_status in (401, 403)):
                raise PartnerRefused(str(exc)) from exc
            raise PartnerUnreachable(str(exc)) from exc
        return answer.data

    async def get_versions(self, url: str, token: str) -> list[VersionRef]:
        data = await self._call("GET", url, token)
        if not isinstance(data, list):
            raise PartnerUnreachable(f"GET {url}: data is not a list of versions")
        out: list[VersionRef] = []
        for item in data:
            try:
                v = VersionModel.model_validate(item)
            except ValidationError as exc:
                raise PartnerUnreachable(
                    f"GET {url}: {describe_validation_error(exc, 'data')}"
                ) from None
            if canonical(v.version) != v.version:
                self.client.deviations.note(
                    urlsplit(url).netloc,
                    "version-alias",
                    f"announces {v.version!r} for {canonical(v.version)}",
                    self.partner,
                )
            out.append(VersionRef(version=canonical(v.version), url=v.url))
        return out

    async def get_version_details(self, url: str, token: str, version: str) -> list[Endpoint]:
        data = await self._call("GET", url, token)
        try:
            details = VersionDetailsModel.model_validate(data)
        except ValidationError as exc:
            raise PartnerUnreachable(
                f"GET {url}: {describe_validation_error(exc, 'data')}"
            ) from None
        endpoints: list[Endpoint] = []
        for ep in details.endpoints:
            role: InterfaceRole | None = None
            if ep.role:
                try:
                    role = InterfaceRole(ep.role.upper())
                except ValueError:
                    raise PartnerUnreachable(
                        f"GET {url}: endpoint {ep.identifier} has unknown role {ep.role!r}"
                    ) from None
            endpoints.append(Endpoint(identifier=ep.identifier.lower(), role=role, url=ep.url))
        return endpoints

    def _parse_credentials(self, url: str, version: str, data: Any) -> Credentials:
        try:
            model = CredentialsModel221.model_validate(data)
        except ValidationError as exc:
            raise PartnerUnreachable(
                f"{url}: answered credentials that are not valid: "
                + describe_validation_error(exc, "data")
            ) from None
        return cred_convert_2_2_1.to_core(model)

    async def post_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials:
        data = await self._call("POST", url, token, cred_convert_2_2_1.to_wire(credentials))
        return self._parse_credentials(url, version, data)

    async def put_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials:
        data = await self._call("PUT", url, token, cred_convert_2_2_1.to_wire(credentials))
        return self._parse_credentials(url, version, data)

    async def delete_credentials(self, url: str, token: str, version: str) -> None:
        await self._call("DELETE", url, token)
