"""One call to a partner's Receiver answered at once and later by a POST to
``response_url``: what the Commands and ChargingProfiles clients share (digest §5.6,
§5.7). The Receiver's URL is its endpoint plus one path segment (the command, the
session id), the call carries routing headers FROM the node's party TO the CPO's, and
the answer at once is read into a version-neutral :class:`Reply`.

An OCPI status in ``refusals`` is the CPO refusing the request itself, not a failure to
reach it: a REJECTED :class:`Reply` with that status, even when the partner sent no
response object with it (the envelope client drops ``data`` of error answers). Any other
error status is ``PartnerRefused``; no answer, or one that is not the module's response
object, ``PartnerUnreachable``, naming what went wrong for the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from evroam.core.callbacks import Reply
from evroam.core.errors import InvalidInput, PartnerRefused, PartnerUnreachable
from evroam.core.objects import Document
from evroam.core.types import InterfaceRole, ModuleId, Partner
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.v2_2_1.meta import TOKEN_BASE64

#: Reads the answer's ``data`` (with the envelope's status) into a Reply; InvalidInput
#: when it is not the module's response object.
ReadReply = Callable[[Any, int], Reply]


async def call_receiver(
    ocpi: OcpiClient,
    partner: Partner,
    module: ModuleId,
    method: str,
    segment: str,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    read: ReadReply,
    *,
    json_body: Document | None = None,
    params: Mapping[str, str] | None = None,
    refusals: frozenset[int] = frozenset(),
) -> Reply:
    """``method`` ``{module Receiver}/{segment}`` of ``partner``; its answer at once."""
    endpoint = partner.endpoint(module.value, InterfaceRole.RECEIVER)
    if endpoint is None or not partner.token_out:
        raise PartnerUnreachable(f"partner {partner.label} offers no {module.value} Receiver")
    url = endpoint.url.rstrip("/") + "/" + quote(segment, safe="")
    routing = {FROM_CC: sender[0], FROM_PID: sender[1], TO_CC: receiver[0], TO_PID: receiver[1]}
    try:
        answer = await ocpi.request(
            method,
            url,
            partner.token_out,
            partner=partner.label,
            json_body=json_body,
            params=params,
            routing=routing,
            encode=TOKEN_BASE64,
        )
    except PartnerError as exc:
        if exc.ocpi_status in refusals:
            return Reply("REJECTED", 0, exc.partner_message() or str(exc), exc.ocpi_status)
        if exc.ocpi_status is not None:
            raise PartnerRefused(str(exc)) from None
        raise PartnerUnreachable(str(exc)) from None
    try:
        return read(answer.data, answer.status_code)
    except InvalidInput as exc:
        raise PartnerUnreachable(f"{method} {url}: {exc}") from None
