"""Locations, outbound: what the node itself uses to read a CPO partner's Sender
(following ``Link`` to the end, digest §1.7) and to write a partner's Receiver (issue 8
pushes through it). Every call carries the routing headers, from our party to the
partner's (transport_and_format §"Routing headers", digest §1.6).

What arrives is validated with the wire models before anyone uses it (partners are
untrusted); what leaves is the canonical document, absent fields left out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError

from evroam.core.objects import Document
from evroam.ocpi.common.client import OcpiAnswer, OcpiClient
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.v2_2_1.locations.convert import to_document
from evroam.ocpi.v2_2_1.locations.models import Location


def routing(ours: tuple[str, str], theirs: tuple[str, str]) -> dict[str, str]:
    return {FROM_CC: ours[0], FROM_PID: ours[1], TO_CC: theirs[0], TO_PID: theirs[1]}


def parse_location(data: Any) -> Document:
    """A Location a partner served, as a canonical document; ``ValueError`` naming the
    bad field otherwise."""
    try:
        return to_document(Location.model_validate(data))
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None


def _join(base: str, *parts: str) -> str:
    # URL templates drop or keep the trailing slash (digest §7.13): join with one "/".
    return "/".join([base.rstrip("/"), *parts])


class LocationsClient:
    """Stateless; the ``OcpiClient`` (and its connection pool) is passed per call."""

    async def pages(
        self,
        api: OcpiClient,
        url: str,
        token: str,
        *,
        partner: str,
        routing: dict[str, str],
        params: dict[str, str] | None = None,
    ) -> AsyncIterator[list[Document]]:
        """Each page of the partner's Sender list, every Location validated."""
        async for page in api.get_pages(
            url, token, partner=partner, params=params, routing=routing
        ):
            yield [parse_location(item) for item in page]

    async def get(
        self,
        api: OcpiClient,
        url: str,
        token: str,
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
        *,
        partner: str,
        routing: dict[str, str],
    ) -> Any:
        """One object of the partner's Sender (a Location, EVSE or Connector)."""
        parts = [p for p in (location_id, evse_uid, connector_id) if p is not None]
        answer = await api.request(
            "GET", _join(url, *parts), token, partner=partner, routing=routing
        )
        return answer.data

    async def push(
        self,
        api: OcpiClient,
        method: str,
        url: str,
        token: str,
        owner: tuple[str, str],
        location_id: str,
        body: Document,
        evse_uid: str | None = None,
        connector_id: str | None = None,
        *,
        partner: str,
        routing: dict[str, str],
    ) -> OcpiAnswer:
        """PUT or PATCH one object into the partner's Receiver, under its owner's party."""
        if method not in ("PUT", "PATCH"):
            raise ValueError("the Locations Receiver takes PUT and PATCH only")
        parts = [owner[0], owner[1], location_id]
        parts += [p for p in (evse_uid, connector_id) if p is not None]
        return await api.request(
            method, _join(url, *parts), token, partner=partner, json_body=body, routing=routing
        )
