"""Operator API for the hub's charging processes: ``/api/v1/oicp/sessions`` (newest
first, filtered by operator, provider, EVSE and time), ``/api/v1/oicp/sessions/{id}``
(with its CDR and the charging notifications kept for an offline EMP) and
``/api/v1/oicp/cdrs``.

Operators need these to answer a partner's "what happened to session X", which the
partner-facing API cannot (it shows each partner its own part only). What is shown was
written by partners: identifications are masked and PINs left out
(``oicp/v2_3/masking.py``); everything else is data, for the CLI to print as text.
Filters name partners in any spelling of their ID (the canonical form decides); an ID
of no valid form is 422 rather than an empty list, so a typo is not read as "none".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from evroam.core.oicp_sessions import (
    CdrFilter,
    KeptNotification,
    OicpSession,
    SessionFilter,
    StoredCdr,
)
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.masking import mask_identification, masked
from evroam.services.oicp import session_views as service
from evroam.web.admin.errors import api_error
from evroam.web.oicp.admin import ContextDep

router = APIRouter(prefix="/oicp", tags=["oicp sessions"])

DEFAULT_LIMIT = 100

LimitQuery = Annotated[int, Query(ge=1, le=service.MAX_LIMIT)]
SinceQuery = Annotated[datetime | None, Query(description="ISO 8601; without an offset: UTC")]


class BadFilter(ValueError):
    """A filter value of no valid form (answered 422 with what was wrong)."""


def _operator(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not ids.is_operator_id(value):
        raise BadFilter(f"operator: {value!r} is not an OperatorID")
    return ids.canonical_operator(value)


def _provider(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not ids.is_provider_id(value):
        raise BadFilter(f"provider: {value!r} is not a ProviderID")
    return ids.canonical(value)


def _evse(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not ids.is_evse_id(value):
        raise BadFilter(f"evse: {value!r} is not an EvseID")
    return ids.canonical(value)


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _json(stored: str | None) -> Any:
    """Stored JSON text (the hub wrote it, from validated partner input)."""
    if stored is None:
        return None
    try:
        return json.loads(stored)
    except ValueError:
        return None


def session_out(s: OicpSession) -> dict[str, Any]:
    return {
        "session_id": s.session_id,
        "operator_id": s.operator_id,
        "provider_id": s.provider_id,
        "evse_id": s.evse_id,
        "method": s.method.value,
        "state": s.state.value,
        "identification": mask_identification(_json(s.identification)),
        "cpo_partner_session_id": s.cpo_partner_session_id,
        "emp_partner_session_id": s.emp_partner_session_id,
        "session_start": s.session_start,
        "session_end": s.session_end,
        "created_at": s.created_at.isoformat(),
        "updated_at": s.updated_at.isoformat(),
    }


def cdr_out(
    c: StoredCdr, operator_id: str | None = None, provider_id: str | None = None
) -> dict[str, Any]:
    """``operator``/``provider`` canonical as kept; ``operator_id``/``provider_id`` as
    the partners are registered."""
    record = _json(c.record)
    identification = record.get("Identification") if isinstance(record, dict) else None
    return {
        "session_id": c.session_id,
        "operator": c.operator,
        "operator_id": operator_id or c.operator,
        "provider": c.provider,
        "provider_id": provider_id or c.provider,
        "evse_id": c.evse_id,
        "received_at": c.received_at.isoformat(),
        "forwarded": c.forwarded,
        "identification": mask_identification(identification),
        "record": masked(record),
    }


def notification_out(n: KeptNotification) -> dict[str, Any]:
    return {
        "kind": n.kind,
        "received_at": n.received_at.isoformat(),
        "body": masked(_json(n.body)),
    }


@router.get("/sessions", summary="The hub's sessions, newest first", response_model=None)
async def list_sessions(
    ctx: ContextDep,
    operator: str | None = None,
    provider: str | None = None,
    evse: str | None = None,
    since: SinceQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Any:
    try:
        session_filter = SessionFilter(
            operator=_operator(operator),
            provider=_provider(provider),
            evse_id=_evse(evse),
            since=_utc(since),
        )
    except BadFilter as exc:
        return api_error(422, "InvalidInput", str(exc))
    found = await service.list_sessions(ctx.uow, session_filter, limit)
    return [session_out(s) for s in found]


@router.get(
    "/sessions/{session_id}",
    summary="One session with its CDR and kept notifications",
    response_model=None,
)
async def show_session(session_id: str, ctx: ContextDep) -> Any:
    session_id = session_id.strip()
    if not ids.is_session_id(session_id):
        return api_error(422, "InvalidInput", f"{session_id!r} is not a SessionID")
    detail = await service.session_detail(ctx.uow, session_id.lower())
    if detail is None:
        return api_error(404, "NotFound", f"no session {session_id}")
    return session_out(detail.session) | {
        "cdr": (
            cdr_out(detail.cdr, detail.session.operator_id, detail.session.provider_id)
            if detail.cdr is not None
            else None
        ),
        "notifications": [notification_out(n) for n in detail.notifications],
    }


@router.get("/cdrs", summary="The hub's CDRs, newest first", response_model=None)
async def list_cdrs(
    ctx: ContextDep,
    provider: str | None = None,
    operator: str | None = None,
    forwarded: bool | None = None,
    since: SinceQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Any:
    try:
        cdr_filter = CdrFilter(
            provider=_provider(provider),
            operator=_operator(operator),
            forwarded=forwarded,
            since=_utc(since),
        )
    except BadFilter as exc:
        return api_error(422, "InvalidInput", str(exc))
    found = await service.list_cdrs(ctx.uow, cdr_filter, limit)
    return [cdr_out(v.cdr, v.operator_id, v.provider_id) for v in found]
