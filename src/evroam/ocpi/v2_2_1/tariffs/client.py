"""The node's outbound Tariffs calls to a partner (OCPI 2.2.1 mod_tariffs): read a CPO
partner's Sender (pull model, every page through ``Link``) and write an eMSP partner's
Receiver (push model: PUT, DELETE; GET to check what it stores). Issue 8's push worker
sends through :class:`TariffsClient`.

Every call carries the routing headers (transport_and_format §"Routing headers"):
FROM our party (the tariff's owner when we push one), TO the partner's party. What a
partner sends back is untrusted: each pulled tariff is validated, and one whose owner
is not among the partner's parties is left out (transport_and_format §"Client Owned
Object Push": objects whose owner does not match may be ignored), with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from evroam.core.errors import InvalidInput, MissingEndpoints
from evroam.core.objects import Document, ObjectKey
from evroam.core.types import InterfaceRole, ModuleId, Partner
from evroam.ocpi.common.client import OcpiAnswer, OcpiClient, PartnerError
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.v2_2_1.tariffs.convert import key_of, parse_tariff, to_document


@dataclass(slots=True)
class PulledPage:
    """One page of a partner's Sender: valid tariffs (canonical documents) and, per
    refused item, why."""

    tariffs: list[Document] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def routing(ours: tuple[str, str], theirs: tuple[str, str]) -> dict[str, str]:
    return {FROM_CC: ours[0], FROM_PID: ours[1], TO_CC: theirs[0], TO_PID: theirs[1]}


def _join(base: str, *segments: str) -> str:
    """Endpoint URL + path segments with exactly one ``/`` between (digest §7.13)."""
    return "/".join([base.rstrip("/"), *segments])


@dataclass(frozen=True, slots=True)
class TariffsClient:
    """Stateless: the HTTP client, the partner and our party are given on each call."""

    def _url(self, partner: Partner, role: InterfaceRole) -> tuple[str, str]:
        ep = partner.endpoint(ModuleId.TARIFFS, role)
        if ep is None or not partner.token_out:
            raise MissingEndpoints(
                f"partner {partner.label} offers no tariffs {role.value.lower()} endpoint"
            )
        return ep.url, partner.token_out

    @staticmethod
    def _theirs(partner: Partner, to: tuple[str, str] | None) -> tuple[str, str]:
        if to is not None:
            return to
        return partner.roles[0].key if partner.roles else ("", "")

    async def pull(
        self,
        http: OcpiClient,
        partner: Partner,
        ours: tuple[str, str],
        *,
        to: tuple[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> AsyncIterator[PulledPage]:
        """Every page of the partner's Tariffs Sender, following ``Link`` to the end."""
        url, token = self._url(partner, InterfaceRole.SENDER)
        owners = partner.party_keys
        async for items in http.get_pages(
            url,
            token,
            partner=partner.label,
            params=params,
            routing=routing(ours, self._theirs(partner, to)),
        ):
            page = PulledPage()
            for pos, item in enumerate(items):
                page_item(page, pos, item, owners)
            yield page

    async def get(
        self, http: OcpiClient, partner: Partner, ours: tuple[str, str], tariff_id: str
    ) -> Document | None:
        """One of our tariffs as an eMSP partner stores it (its Receiver GET); None when
        the partner answers 404."""
        url, token = self._url(partner, InterfaceRole.RECEIVER)
        try:
            answer = await http.request(
                "GET",
                _join(url, ours[0], ours[1], tariff_id),
                token,
                partner=partner.label,
                routing=routing(ours, self._theirs(partner, None)),
            )
        except PartnerError as exc:
            if exc.http_status == 404:
                return None
            raise
        try:
            return to_document(parse_tariff(answer.data))
        except InvalidInput as exc:
            raise PartnerError(f"GET tariff {tariff_id}: {exc}") from None

    async def put(
        self,
        http: OcpiClient,
        partner: Partner,
        doc: Document,
        *,
        to: tuple[str, str] | None = None,
    ) -> OcpiAnswer:
        """Push one of our tariffs (the canonical document) to an eMSP partner."""
        url, token = self._url(partner, InterfaceRole.RECEIVER)
        key = ObjectKey(str(doc["country_code"]), str(doc["party_id"]), str(doc["id"]))
        return await http.request(
            "PUT",
            _join(url, key.country_code, key.party_id, key.id),
            token,
            partner=partner.label,
            json_body=doc,
            routing=routing(key.party, self._theirs(partner, to)),
        )

    async def delete(
        self,
        http: OcpiClient,
        partner: Partner,
        key: ObjectKey,
        *,
        to: tuple[str, str] | None = None,
    ) -> OcpiAnswer:
        """Tell an eMSP partner that one of our tariffs is no longer used."""
        url, token = self._url(partner, InterfaceRole.RECEIVER)
        return await http.request(
            "DELETE",
            _join(url, key.country_code, key.party_id, key.id),
            token,
            partner=partner.label,
            routing=routing(key.party, self._theirs(partner, to)),
        )


def page_item(page: PulledPage, pos: int, item: Any, owners: set[tuple[str, str]]) -> None:
    """Validate one pulled item into ``page``: a Tariff owned by one of ``owners``."""
    try:
        tariff = parse_tariff(item)
    except InvalidInput as exc:
        page.refused.append(f"item {pos}: {exc}")
        return
    key = key_of(tariff)
    if key.party not in owners:
        page.refused.append(f"{key.label}: owner is not one of the partner's parties")
        return
    page.tariffs.append(to_document(tariff))


CLIENT = TariffsClient()
