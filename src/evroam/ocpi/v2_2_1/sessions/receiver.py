"""Sessions Receiver (the eMSP's interface, mod_sessions §"eMSP Interface"):
``{url}/{country_code}/{party_id}/{session_id}`` with GET, PUT and PATCH.

The URL's party must be one of the caller's (2001 naming the mismatch, transport
§"Client Owned Object Push"), the body's owner and id must match the URL (2001). PUT
answers 201 when it created the Session and 200 when it replaced it (transport §"HTTP
status codes"); an older PUT or PATCH than the stored Session is answered 1000 and
changes nothing. A PATCH needs ``last_updated`` (2001), appends its ``charging_periods``
(mod_sessions §"PATCH Method", SessionPatch) and of an unknown Session is answered HTTP
404 with 2001 so the CPO GETs and PUTs it (transport §"PATCH", digest §1.1).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.objects import ObjectKey
from evroam.ocpi.common.deps import ContextDep, parse_body
from evroam.ocpi.common.functional import FunctionalCallerDep, answer_routing, json_answer
from evroam.ocpi.v2_2_1.sessions.convert import to_document, validate_session
from evroam.ocpi.v2_2_1.sessions.models import Session, SessionPatch
from evroam.services.sessions import SessionsService

router = APIRouter()

PATH = "/{country_code}/{party_id}/{session_id}"


@router.get(PATH, summary="A Session the CPO pushed")
async def get_session(
    country_code: str,
    party_id: str,
    session_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    key = ObjectKey(country_code, party_id, session_id)
    headers = answer_routing(request, ctx, caller, key.party)
    stored = await SessionsService(ctx.partners.ctx).get_received(caller.partner, key)
    if stored is None or stored.partner_id != caller.partner.id:
        return json_answer(
            None, headers=headers, http_status=404, status=2000, message="unknown session"
        )
    return json_answer(stored.document_json, headers=headers)


@router.put(PATH, summary="Create or replace a Session (charging_periods replaced)")
async def put_session(
    country_code: str,
    party_id: str,
    session_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    key = ObjectKey(country_code, party_id, session_id)
    headers = answer_routing(request, ctx, caller, key.party)
    body = await parse_body(request, Session)
    outcome = await SessionsService(ctx.partners.ctx).receive_put(
        caller.partner, key, to_document(body)
    )
    return json_answer(None, headers=headers, http_status=201 if outcome == "created" else 200)


@router.patch(PATH, summary="Update a Session (charging_periods appended)")
async def patch_session(
    country_code: str,
    party_id: str,
    session_id: str,
    request: Request,
    caller: FunctionalCallerDep,
    ctx: ContextDep,
) -> Response:
    key = ObjectKey(country_code, party_id, session_id)
    headers = answer_routing(request, ctx, caller, key.party)
    body = await parse_body(request, SessionPatch)
    outcome = await SessionsService(ctx.partners.ctx).receive_patch(
        caller.partner, key, to_document(body), validate_session
    )
    if outcome == "unknown":
        return json_answer(
            None,
            headers=headers,
            http_status=404,
            status=2001,
            message=f"unknown session {key.label}: PUT it first",
        )
    return json_answer(None, headers=headers)
