"""Tokens Sender (the eMSP's; mod_tokens §"Sender Interface", digest §5.5): the paginated
list of the node's own tokens, and real-time authorization.

``POST /{uid}/authorize?type=`` (type default RFID) takes an optional LocationReferences
body and answers AuthorizationInfo: HTTP 200 for a known token whatever it decides
(issue #528), HTTP 404 with OCPI 2004 for an unknown one (the spec's two statements
combined, digest §7.10), 2002 when the operator's hook needs a location. It is the
latency-critical path: one indexed read, no write, the stored token text embedded as is.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from evroam.core.errors import DomainError
from evroam.core.objects import ObjectQuery
from evroam.core.types import ModuleId
from evroam.ocpi.common.context import OcpiContext
from evroam.ocpi.common.deps import ContextDep
from evroam.ocpi.common.errors import NotEnoughInformation, OcpiError, ServerError
from evroam.ocpi.common.functional import (
    TO_CC,
    TO_PID,
    FunctionalCallerDep,
    answer_routing,
    json_answer,
    page_answer,
    parse_list_query,
)
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.v2_2_1.tokens.answers import authorization_info_json, refusal
from evroam.ocpi.v2_2_1.tokens.convert import display_text, location_references, parse_type
from evroam.ocpi.v2_2_1.tokens.models import AllowedType
from evroam.services.tokens import (
    Authorization,
    HookMisconfigured,
    LocationRequired,
    TokensService,
    load_authorization_hook,
)

log = logging.getLogger("evroam.ocpi.tokens")

router = APIRouter()


def tokens_service(request: Request, ctx: OcpiContext) -> TokensService:
    """One service per app, with the authorization hook imported once (on first use,
    unless start-up already put one on the app's state) rather than per request."""
    state = request.app.state
    service = getattr(state, "tokens_service", None)
    if not isinstance(service, TokensService) or service.ctx is not ctx.partners.ctx:
        try:
            hook = load_authorization_hook(ctx.settings.authorization_hook)
        except HookMisconfigured:
            log.exception("real-time authorization is unavailable")
            raise
        service = TokensService(ctx.partners.ctx, hook)
        state.tokens_service = service
    return service


@router.get("", summary="The node's own tokens (paginated)")
async def list_tokens(request: Request, caller: FunctionalCallerDep, ctx: ContextDep) -> Response:
    routing = answer_routing(request, ctx, caller)
    try:
        page = parse_list_query(request, ctx)
    except OcpiError as exc:
        return refusal(exc, routing)
    result = await tokens_service(request, ctx).page(
        ObjectQuery(
            module=ModuleId.TOKENS,
            own=True,
            date_from=page.date_from,
            date_to=page.date_to,
            offset=page.offset,
            after_row=page.after,
            limit=page.limit,
        )
    )
    return page_answer(request, ctx, page, result, headers=routing)


@router.post("/{uid}/authorize", summary="Real-time authorization of one of our tokens")
async def authorize(
    uid: str, request: Request, caller: FunctionalCallerDep, ctx: ContextDep
) -> Response:
    routing = answer_routing(request, ctx, caller)
    h = request.headers
    addressed = [(h[TO_CC].upper(), h[TO_PID].upper())] if h.get(TO_CC) and h.get(TO_PID) else None
    try:
        token_type = parse_type(request.query_params.get("type"))
        location = location_references(parse_json(await request.body()))
        assert token_type is not None
        auth = await tokens_service(request, ctx).authorize(
            uid, token_type.value, location, addressed
        )
        if auth is None:
            return json_answer(
                None, headers=routing, http_status=404, status=2004, message="unknown token"
            )
        return json_answer(authorization_info_json(_checked(auth)), headers=routing)
    except LocationRequired as exc:
        return refusal(NotEnoughInformation(str(exc) or "LocationReferences needed"), routing)
    except (OcpiError, DomainError) as exc:
        return refusal(exc, routing)


def _checked(auth: Authorization) -> Authorization:
    """What the operator's hook said must be a valid AllowedType and DisplayText: what the
    node sends is checked like what it receives."""
    try:
        allowed = AllowedType(auth.allowed)
        info = display_text(auth.info)
    except (ValueError, DomainError) as exc:
        log.error("authorization hook answered something invalid: %s", exc)
        raise ServerError("authorization failed") from None
    return Authorization(allowed.value, auth.token_json, auth.location, auth.reference, info)
