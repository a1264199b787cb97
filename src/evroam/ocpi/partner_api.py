"""The PartnerApi port, implemented over OCPI HTTP: versions, details and credentials calls,
and the pull of a functional module's Sender list (``pull``, for ``evroam sync``).

Parses the partner's answers strictly enough to be safe (URLs, tokens, roles) and turns
every failure into the core's ``PartnerUnreachable`` with a message an operator can act on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit

from pydantic import ValidationError

from evroam.core.errors import (
    InvalidInput,
    MissingEndpoints,
    NoMutualVersion,
    NotRegistered,
    PartnerRefused,
    PartnerUnreachable,
)
from evroam.core.objects import Document
from evroam.core.ports import Credentials, PulledObject, PulledPage, VersionRef
from evroam.core.types import Endpoint, InterfaceRole, ModuleId, Partner
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.common.module import CredentialsClient
from evroam.ocpi.common.pagination import next_link
from evroam.ocpi.common.timeutil import format_datetime
from evroam.ocpi.common.versions_models import VersionDetailsModel, VersionModel
from evroam.ocpi.versions import canonical, package


def pull_item(version: str | None, module: ModuleId) -> Callable[[Any], PulledObject] | None:
    """How ``version``'s package reads one item of a pulled Sender list of ``module``
    (its ``PULL_ITEMS``), or None where the version offers none."""
    try:
        pkg = package(version or "")
    except KeyError:
        return None
    items: dict[ModuleId, Callable[[Any], PulledObject]] = getattr(pkg, "PULL_ITEMS", {})
    return items.get(module)


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

    # -- the pull of a Sender list (``services/sync.py``) --------------------------------

    async def pull(
        self,
        partner: Partner,
        module: ModuleId,
        ours: tuple[str, str],
        date_from: datetime | None = None,
    ) -> AsyncIterator[PulledPage]:
        """Every page of the partner's Sender list of ``module``, each item validated on
        its own (the version package's ``PULL_ITEMS``). The pages are read here rather
        than through the module clients' page readers: those stop at the first invalid
        item (Locations, Tokens) or drop it silently (CDRs), and a catch-up must store
        the rest and say which item was refused and why; and the progress shown wants
        ``X-Total-Count``.
        """
        parse = pull_item(partner.version, module)
        if parse is None:
            raise MissingEndpoints(
                f"pulling {module.value} over OCPI {partner.version or '(none)'} is not "
                "supported (2.2.1 only)"
            )
        ep = partner.endpoint(module, InterfaceRole.SENDER)
        if ep is None:
            raise MissingEndpoints(f"partner {partner.label} offers no {module.value} Sender")
        if not partner.token_out:
            raise NotRegistered(f"partner {partner.label} is not registered")
        params: dict[str, str] = {}
        if date_from is not None or module == ModuleId.SESSIONS:
            # Sessions lists require date_from (mod_sessions §"CPO Interface"): "from the
            # beginning" when the operator gave none.
            params["date_from"] = format_datetime(date_from or EPOCH)
        routing = {FROM_CC: ours[0], FROM_PID: ours[1]}
        theirs = _their_party(partner, module)
        if theirs is not None:
            routing |= {TO_CC: theirs[0], TO_PID: theirs[1]}
        next_url: str | None = ep.url
        seen: set[str] = set()
        position = 0
        while next_url is not None:
            if next_url in seen or len(seen) >= MAX_PULL_PAGES:
                raise PartnerUnreachable(f"GET {next_url}: the Link headers do not come to an end")
            seen.add(next_url)
            try:
                answer = await self.client.request(
                    "GET",
                    next_url,
                    partner.token_out,
                    partner=self._who(next_url),
                    params=params if len(seen) == 1 else None,
                    routing=routing,
                )
            except PartnerError as exc:
                answered = exc.http_status is not None and exc.http_status < 500
                if answered and (exc.ocpi_status is not None or exc.http_status in (401, 403)):
                    raise PartnerRefused(str(exc)) from exc
                raise PartnerUnreachable(str(exc)) from exc
            if not isinstance(answer.data, list):
                raise PartnerUnreachable(f"GET {next_url}: data is not a list")
            page = PulledPage(total=_count(answer.headers.get("x-total-count")))
            for item in answer.data:
                try:
                    page.objects.append(parse(item))
                except (ValueError, InvalidInput) as exc:
                    page.invalid.append(_shorten(f"item {position}{_item_id(item)}: {exc}"))
                position += 1
            yield page
            link = next_link(answer.headers.get("link"))
            next_url = urljoin(answer.url, link) if link and answer.data else None
            if next_url is not None and urlsplit(next_url)[:2] != urlsplit(ep.url)[:2]:
                # Never hand our token to another host because a partner's Link says so.
                raise PartnerUnreachable(f"GET {ep.url}: Link leads to another host")

    # -- real-time authorization (``services/backend_reports.py``) ----------------------

    async def authorize_token(
        self,
        partner: Partner,
        ours: tuple[str, str],
        theirs: tuple[str, str],
        uid: str,
        token_type: str,
        location: Document | None,
    ) -> Document | None:
        """Ask the eMSP ``partner`` (its party ``theirs``) for a real-time authorization
        of its token (mod_tokens §"Real-time authorization", through its version's Tokens
        client): the AuthorizationInfo as a canonical document, None when the eMSP does
        not know the token. Anything else that is not an answer is PartnerUnreachable
        (PartnerRefused for an OCPI error)."""
        try:
            pkg = package(partner.version or "")
        except KeyError:
            raise MissingEndpoints(
                f"partner {partner.label} speaks no OCPI version this node has"
            ) from None
        client = next(
            (
                m.client
                for m in pkg.MODULES
                if m.id == ModuleId.TOKENS and isinstance(m.client, AuthorizingClient)
            ),
            None,
        )
        if client is None:
            raise MissingEndpoints(
                f"real-time authorization over OCPI {partner.version} is not supported"
            )
        ep = partner.endpoint(ModuleId.TOKENS, InterfaceRole.SENDER)
        if ep is None:
            raise MissingEndpoints(f"partner {partner.label} offers no Tokens Sender")
        if not partner.token_out:
            raise NotRegistered(f"partner {partner.label} is not registered")
        routing = {FROM_CC: ours[0], FROM_PID: ours[1], TO_CC: theirs[0], TO_PID: theirs[1]}
        try:
            return await client.authorize_document(
                self.client,
                ep.url,
                partner.token_out,
                uid,
                partner=self._who(ep.url),
                routing=routing,
                token_type=token_type,
                location=location,
            )
        except PartnerError as exc:
            answered = exc.http_status is not None and exc.http_status < 500
            if answered and (exc.ocpi_status is not None or exc.http_status in (401, 403)):
                raise PartnerRefused(str(exc)) from exc
            raise PartnerUnreachable(str(exc)) from exc


@runtime_checkable
class AuthorizingClient(Protocol):
    """A version's Tokens client that can ask for a real-time authorization."""

    async def authorize_document(
        self,
        ocpi: OcpiClient,
        sender_url: str,
        token: str,
        uid: str,
        *,
        partner: str,
        routing: Mapping[str, str],
        token_type: str = "RFID",
        location: Document | None = None,
    ) -> Document | None: ...


#: The most pages one pull follows: a partner whose Link never ends cannot hold us forever.
MAX_PULL_PAGES = 100_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _their_party(partner: Partner, module: ModuleId) -> tuple[str, str] | None:
    """The partner's party the routing headers address: one of the role that owns the
    module's objects (digest §1.6), else its first."""
    owner = "EMSP" if module == ModuleId.TOKENS else "CPO"
    for party in partner.roles:
        if party.role.value == owner:
            return party.key
    return partner.roles[0].key if partner.roles else None


def _count(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def _item_id(item: Any) -> str:
    """The id a refused item names itself by, when it has one (shown to the operator)."""
    if isinstance(item, dict):
        for field in ("id", "uid"):
            if isinstance(item.get(field), str | int):
                return f" ({field} {str(item[field])[:40]!r})"
    return ""


def _shorten(reason: str, limit: int = 300) -> str:
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"
