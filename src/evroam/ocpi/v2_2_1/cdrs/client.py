"""CDRs, outbound: what the node itself uses to read a partner's CDRs Sender and to POST
its own CDRs to a partner's Receiver (issue 8 pushes through :meth:`CdrsClient221.post`).

Every call carries the routing headers (transport_and_format §"Routing headers": FROM
us, TO the partner's party). A Sender list is followed through ``Link`` to the end
(§"Pagination"); each CDR is validated as a Receiver would accept it, and one that is
not valid is skipped and logged rather than stopping the whole read.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime

from pydantic import ValidationError

from evroam.core.objects import Document
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.common.timeutil import format_datetime
from evroam.ocpi.v2_2_1.cdrs.models import ReceivedCDR

log = logging.getLogger("evroam.ocpi.cdrs")


def routing_headers(ours: tuple[str, str], theirs: tuple[str, str]) -> dict[str, str]:
    """A request's routing headers: FROM our party, TO the partner's."""
    return {FROM_CC: ours[0], FROM_PID: ours[1], TO_CC: theirs[0], TO_PID: theirs[1]}


class CdrsClient221:
    async def fetch(
        self,
        ocpi: OcpiClient,
        url: str,
        token: str,
        *,
        partner: str,
        routing: Mapping[str, str],
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[list[ReceivedCDR]]:
        """Each page of the partner's CDRs Sender, following ``Link`` to the last page."""
        params: dict[str, str] = {}
        if date_from is not None:
            params["date_from"] = format_datetime(date_from)
        if date_to is not None:
            params["date_to"] = format_datetime(date_to)
        if limit is not None:
            params["limit"] = str(limit)
        async for page in ocpi.get_pages(
            url, token, partner=partner, params=params or None, routing=routing
        ):
            cdrs: list[ReceivedCDR] = []
            for item in page:
                try:
                    cdrs.append(ReceivedCDR.model_validate(item))
                except ValidationError as exc:
                    log.warning(
                        "partner %s: skipped an invalid CDR: %s",
                        partner,
                        describe_validation_error(exc, "cdr"),
                    )
            yield cdrs

    async def post(
        self,
        ocpi: OcpiClient,
        url: str,
        token: str,
        cdr: Document,
        *,
        partner: str,
        routing: Mapping[str, str],
    ) -> str | None:
        """POST one of our CDRs (a canonical document) to the partner's Receiver; the
        URL of the stored CDR from the answer's ``Location`` header (None if missing,
        though the spec requires it)."""
        answer = await ocpi.request(
            "POST", url, token, partner=partner, json_body=cdr, routing=routing
        )
        location: str | None = answer.headers.get("location")
        if location is None:
            log.warning("partner %s: CDR POST answered without a Location header", partner)
        return location

    async def get(
        self,
        ocpi: OcpiClient,
        location: str,
        token: str,
        *,
        partner: str,
        routing: Mapping[str, str],
    ) -> ReceivedCDR:
        """GET a CDR we POSTed, at the ``Location`` the partner answered."""
        answer = await ocpi.request("GET", location, token, partner=partner, routing=routing)
        try:
            return ReceivedCDR.model_validate(answer.data)
        except ValidationError as exc:
            raise PartnerError(
                f"GET {location}: {describe_validation_error(exc, 'data')}"
            ) from None
