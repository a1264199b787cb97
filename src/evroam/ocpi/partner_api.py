"""The PartnerApi port, implemented over OCPI HTTP: versions, details and credentials calls.

Parses the partner's answers strictly enough to be safe (URLs, tokens, roles) and turns
every failure into the core's ``PartnerUnreachable`` with a message an operator can act on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from evroam.core.errors import NoMutualVersion, PartnerRefused, PartnerUnreachable
from evroam.core.ports import Credentials, VersionRef
from evroam.core.types import Endpoint, InterfaceRole, ModuleId
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.module import CredentialsClient
from evroam.ocpi.common.versions_models import VersionDetailsModel, VersionModel
from evroam.ocpi.versions import canonical, package


def credentials_client(version: str) -> tuple[CredentialsClient, bool]:
    """The credentials client of ``version``'s package, and whether that version sends
    the token Base64-encoded. Version-neutral code dispatches here; it never names a
    version package itself."""
    try:
        pkg = package(version)
    except KeyError:
        raise NoMutualVersion(f"OCPI {version} is not enabled on this node") from None
    for module in pkg.MODULES:
        if module.id == ModuleId.CREDENTIALS and isinstance(module.client, CredentialsClient):
            return module.client, bool(pkg.TOKEN_BASE64)
    raise NoMutualVersion(f"OCPI {version} has no credentials client")


class OcpiPartnerApi:
    def __init__(self, client: OcpiClient, partner_label: str = "") -> None:
        self.client = client
        self.partner = partner_label

    def for_partner(self, label: str) -> OcpiPartnerApi:
        return OcpiPartnerApi(self.client, label)

    def _who(self, url: str) -> str:
        """How log lines name the partner: its party once known, else the host."""
        return self.partner or urlsplit(url).netloc or url

    async def _call(
        self, method: str, url: str, token: str, body: Any = None, *, encode: bool = True
    ) -> Any:
        try:
            answer = await self.client.request(
                method, url, token, partner=self._who(url), json_body=body, encode=encode
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
        _, encode = credentials_client(version)
        data = await self._call("GET", url, token, encode=encode)
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

    async def _credentials_call(
        self, method: str, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials:
        client, encode = credentials_client(version)
        data = await self._call(method, url, token, client.to_wire(credentials), encode=encode)
        try:
            return client.from_wire(data)
        except ValueError as exc:
            raise PartnerUnreachable(
                f"{url}: answered credentials that are not valid: {exc}"
            ) from None

    async def post_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials:
        return await self._credentials_call("POST", url, token, version, credentials)

    async def put_credentials(
        self, url: str, token: str, version: str, credentials: Credentials
    ) -> Credentials:
        return await self._credentials_call("PUT", url, token, version, credentials)

    async def delete_credentials(self, url: str, token: str, version: str) -> None:
        _, encode = credentials_client(version)
        await self._call("DELETE", url, token, encode=encode)
