"""Tariffs Receiver interface (the eMSP's; mod_tariffs §"Receiver Interface"):
``{tariffs_url}/{country_code}/{party_id}/{tariff_id}`` with GET, PUT and DELETE.

* The URL's country_code/party_id must be one of the caller's parties and equal the
  body's, and the URL id the body id (transport_and_format §"Client Owned Object Push";
  2001 naming the mismatch).
* PUT answers HTTP 201 when it created the tariff and 200 when it replaced one or was
  older than what is stored (then nothing changed: the newer ``last_updated`` wins).
* GET and DELETE of a tariff the caller never sent: HTTP 404 (transport_and_format
  §"Response format": an unknown object).
* PATCH: 2.2.1's method table says "PATCH n/a" (2.1.1 had one). The path exists, so the
  method is answered HTTP 405 with ``Allow: GET, PUT, DELETE`` (RFC 9110 §15.5.6) in an
  OCPI envelope (status 2000) that says to PUT the whole Tariff.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey
from evroam.ocpi.common.deps import ContextDep, parse_body
from evroam.ocpi.common.functional import FunctionalCallerDep, answer_routing, json_answer
from evroam.ocpi.v2_2_1.tariffs.convert import key_of, to_document
from evroam.ocpi.v2_2_1.tariffs.models import Tariff
from evroam.services.tariffs import TariffsService

router = APIRouter()

PATH = "/{country_code}/{party_id}/{tariff_id}"


@router.get(PATH, summary="A tariff as we store it")
async def get_tariff(
    country_code: str,
    party_id: str,
    tariff_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    key = ObjectKey(country_code, party_id, tariff_id)
    stored = await TariffsService(ctx.partners.ctx).get_received(caller.partner, key)
    routing = answer_routing(request, ctx, caller, key.party)
    if stored is None:
        return json_answer(
            None, headers=routing, http_status=404, status=2000, message="unknown tariff"
        )
    return json_answer(stored.document_json, headers=routing)


@router.put(PATH, summary="Create or replace a tariff")
async def put_tariff(
    country_code: str,
    party_id: str,
    tariff_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    url_key = ObjectKey(country_code, party_id, tariff_id)
    tariff = await parse_body(request, Tariff)
    outcome = await TariffsService(ctx.partners.ctx).receive_put(
        caller.partner, url_key, key_of(tariff), to_document(tariff), tariff.last_updated
    )
    routing = answer_routing(request, ctx, caller, url_key.party)
    if outcome == "stale":
        return json_answer(
            None,
            headers=routing,
            message="older than the stored tariff (last_updated); nothing changed",
        )
    return json_answer(None, headers=routing, http_status=201 if outcome == "created" else 200)


@router.delete(PATH, summary="Remove a tariff")
async def delete_tariff(
    country_code: str,
    party_id: str,
    tariff_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    key = ObjectKey(country_code, party_id, tariff_id)
    deleted = await TariffsService(ctx.partners.ctx).receive_delete(caller.partner, key)
    routing = answer_routing(request, ctx, caller, key.party)
    if not deleted:
        return json_answer(
            None, headers=routing, http_status=404, status=2000, message="unknown tariff"
        )
    return json_answer(None, headers=routing)


@router.patch(PATH, summary="Not in OCPI 2.2.1: PUT the whole tariff")
async def patch_tariff(
    country_code: str,
    party_id: str,
    tariff_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    routing = answer_routing(request, ctx, caller, (country_code.upper(), party_id.upper()))
    return json_answer(
        None,
        headers=routing | {"Allow": "GET, PUT, DELETE"},
        http_status=405,
        status=2000,
        message="OCPI 2.2.1 Tariffs have no PATCH: PUT the whole Tariff",
    )
