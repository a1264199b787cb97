"""CDRs Receiver (the eMSP's; mod_cdrs §"Receiver Interface").

``POST {url}`` stores a CDR and answers 201 with its URL in ``Location``, absolute under
our public base URL: ``{url}/{country_code}/{party_id}/{id}`` (the URL's shape is the
Receiver's choice). ``GET`` of that URL returns it, to the partner that sent it only.
There is no PUT, PATCH or DELETE: CDRs never change after receipt. A second POST of one
(country_code, party_id, id) is refused with OCPI 2001 in an HTTP 200 answer (the request
reached the OCPI layer, transport_and_format §"Response format"), and the message says
that a correction is a Credit CDR with a new id (§"Credit CDRs").
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey
from evroam.ocpi.common.deps import ContextDep, parse_body
from evroam.ocpi.common.errors import NotFound
from evroam.ocpi.common.functional import FunctionalCallerDep, answer_routing, json_answer
from evroam.ocpi.v2_2_1.cdrs.convert import to_stored
from evroam.ocpi.v2_2_1.cdrs.models import ReceivedCDR
from evroam.services.cdrs import CdrService

router = APIRouter()


def cdr_path(key: ObjectKey) -> str:
    """The path of one CDR below the module URL, each segment escaped."""
    return "/".join(quote(part, safe="") for part in (key.country_code, key.party_id, key.id))


@router.post("", summary="Receive a CDR", status_code=201)
async def post_cdr(request: Request, caller: FunctionalCallerDep, ctx: ContextDep) -> Response:
    body = await parse_body(request, ReceivedCDR)
    stored = await CdrService(ctx.partners.ctx).receive(caller.partner, to_stored(body))
    headers = answer_routing(request, ctx, caller, owner=stored.key.party)
    module_url = f"{ctx.settings.base_url}{request.url.path.rstrip('/')}"
    headers["Location"] = f"{module_url}/{cdr_path(stored.key)}"
    return json_answer(None, headers=headers, http_status=201)


@router.get("/{country_code}/{party_id}/{cdr_id}", summary="A CDR this partner sent")
async def get_cdr(
    country_code: str,
    party_id: str,
    cdr_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    key = ObjectKey(country_code, party_id, cdr_id)
    stored = await CdrService(ctx.partners.ctx).get_received(caller.partner, key)
    if stored is None:
        raise NotFound(f"no CDR {key.label} from you")
    headers = answer_routing(request, ctx, caller, owner=key.party)
    return json_answer(stored.document_json, headers=headers)
