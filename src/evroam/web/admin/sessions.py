"""Operator API for Sessions (issue 7 "The node's own data, in and out"): the node's own
sessions in, mirroring the Receiver paths, and both sides out.

``PUT|PATCH /sessions/{country_code}/{party_id}/{session_id}`` write the node's own
sessions (a party that is not the node's is refused), with the Receiver's rules (PUT
replaces charging_periods, PATCH appends them and needs ``last_updated``, an older update
changes nothing). ``GET`` of that path reads an own or a received Session, and
``GET /sessions?party=CC-PID&own=true|false`` pages either side. Answers are OCPI
envelopes; refusals carry OCPI 2001 with HTTP 400 (404 for an unknown session).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from evroam.core.errors import InvalidInput
from evroam.core.objects import ObjectKey
from evroam.core.types import ModuleId
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.functional import json_answer
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.v2_2_1.sessions.convert import to_document, validate_session
from evroam.ocpi.v2_2_1.sessions.models import Session, SessionPatch
from evroam.services.sessions import SessionsService
from evroam.web.admin.batch import batch_answer
from evroam.web.admin.context import AdminDep
from evroam.web.admin.pages import list_answer

M = TypeVar("M", bound=BaseModel)

router = APIRouter(prefix="/sessions", tags=["sessions"])

PATH = "/{country_code}/{party_id}/{session_id}"


def _refused(message: str, http_status: int = 400, status: int = 2001) -> Response:
    return json_answer(None, http_status=http_status, status=status, message=message)


async def _body(request: Request, model: type[M]) -> M:
    """The body as the wire model, or InvalidInput naming the bad field (OCPI 2001)."""
    data = parse_json(await request.body())
    if data is None:
        raise InvalidInput("request body is missing")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


@router.post("/batch", summary="Create or replace many of the node's own Sessions at once")
async def put_sessions_batch(request: Request, node: AdminDep) -> Response:
    """A JSON list of whole Sessions, each stored as ``PUT`` of its own path would store
    it (``web/admin/batch.py``)."""
    service = SessionsService(node.partners.ctx)

    async def store(raw: Any) -> str:
        body = Session.model_validate(raw)
        key = ObjectKey(body.country_code, body.party_id, body.id)
        return await service.put_own(key, to_document(body))

    return await batch_answer(request, "Sessions", store)


@router.put(PATH, summary="Create or replace one of the node's own Sessions")
async def put_session(
    country_code: str, party_id: str, session_id: str, request: Request, node: AdminDep
) -> Response:
    try:
        body = await _body(request, Session)
        outcome = await SessionsService(node.partners.ctx).put_own(
            ObjectKey(country_code, party_id, session_id), to_document(body)
        )
    except InvalidInput as exc:
        return _refused(str(exc))
    except OcpiError as exc:
        return _refused(exc.message, http_status=400, status=exc.status_code)
    return json_answer(
        None,
        http_status=201 if outcome == "created" else 200,
        message="older than the stored session: unchanged" if outcome == "stale" else None,
    )


@router.patch(PATH, summary="Update one of the node's own Sessions (charging_periods appended)")
async def patch_session(
    country_code: str, party_id: str, session_id: str, request: Request, node: AdminDep
) -> Response:
    key = ObjectKey(country_code, party_id, session_id)
    try:
        body = await _body(request, SessionPatch)
        outcome = await SessionsService(node.partners.ctx).patch_own(
            key, to_document(body), validate_session
        )
    except InvalidInput as exc:
        return _refused(str(exc))
    except OcpiError as exc:
        return _refused(exc.message, http_status=400, status=exc.status_code)
    if outcome == "unknown":
        return _refused(f"unknown session {key.label}: PUT it first", http_status=404)
    message = "older than the stored session: unchanged" if outcome == "stale" else None
    return json_answer(None, message=message)


@router.get(PATH, summary="One Session, own or received")
async def get_session(
    country_code: str, party_id: str, session_id: str, node: AdminDep
) -> Response:
    key = ObjectKey(country_code, party_id, session_id)
    stored = await SessionsService(node.partners.ctx).get(key)
    if stored is None:
        return _refused(f"unknown session {key.label}", http_status=404, status=2000)
    return json_answer(stored.document_json)


@router.get(
    PATH + "/charging_preferences",
    summary="The Charging Preferences a partner set on one of our Sessions (last accepted)",
)
async def get_preferences(
    country_code: str, party_id: str, session_id: str, node: AdminDep
) -> Response:
    key = ObjectKey(country_code, party_id, session_id)
    stored = await SessionsService(node.partners.ctx).get_preferences(key)
    if stored is None:
        return _refused(f"no charging preferences for {key.label}", http_status=404, status=2000)
    return json_answer(stored.document_json)


@router.get("", summary="A page of own (own=true) or received (own=false) Sessions")
async def list_sessions(request: Request, node: AdminDep) -> Response:
    # Stored charging preferences are kept beside the sessions but are not sessions.
    service = SessionsService(node.partners.ctx)
    return await list_answer(request, node, ModuleId.SESSIONS, service.page, shared_only=True)
