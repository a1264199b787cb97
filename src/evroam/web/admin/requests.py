"""What the operator APIs of Commands (``commands.py``) and ChargingProfiles
(``chargingprofiles.py``) share: one JSON shape for a kept request, sent or received,
the listing of both directions newest first, one request by id, and the CPO party as
``CC-PID``.

One shape for both kinds, so the CLI (``cli/requests_view.py``) and the operator read
commands and profile requests alike. Refusals are ``{"error", "detail"}``
(``errors.py``).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response

from evroam.core.callbacks import ReceivedRequest, ReceivedState, SentRequest, SentState
from evroam.core.errors import InvalidInput
from evroam.ocpi.common.timeutil import format_datetime
from evroam.services.requests import KeptRequests
from evroam.web.admin.errors import api_error

_PARTY = re.compile(r"([A-Za-z]{2})[-*]([A-Za-z0-9]{3})")
DIRECTIONS = ("sent", "received")


def parse_party(raw: object) -> tuple[str, str] | None:
    """The CPO party an operator named (``CC-PID``), None when none was."""
    if raw is None or raw == "":
        return None
    found = _PARTY.fullmatch(str(raw).strip())
    if found is None:
        raise InvalidInput("party: the CPO party as CC-PID (e.g. NL-CPO)")
    return (found.group(1), found.group(2))


def _time(value: Any) -> str | None:
    return format_datetime(value) if value is not None else None


def _message(doc: dict[str, Any] | None) -> str | None:
    texts = doc.get("message") if doc else None
    if isinstance(texts, list):
        return " / ".join(str(t.get("text", "")) for t in texts if isinstance(t, dict)) or None
    return None


def sent_out(r: SentRequest, *, documents: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "direction": "sent",
        "type": r.type,
        "state": r.state.value,
        "partner_id": r.partner_id,
        "party": r.party,
        "sender": r.sender,
        "session_id": r.session_id,
        "response": r.response,
        "timeout": r.timeout,
        "response_message": r.response_message,
        "result": r.result,
        "result_message": _message(r.result_body),
        "error": r.error,
        "created_at": _time(r.created_at),
        "responded_at": _time(r.responded_at),
        "result_at": _time(r.result_at),
        "expires_at": _time(r.expires_at),
    }
    if documents:
        out["request"] = r.body
        out["result_document"] = r.result_body
    return out


def received_out(r: ReceivedRequest, *, documents: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "direction": "received",
        "type": r.type,
        "state": r.state.value,
        "partner_id": r.partner_id,
        "party": r.party,
        "requester": r.requester,
        "session_id": r.session_id,
        "result": r.result,
        "result_message": r.message,
        "late_result": r.late_result,
        "created_at": _time(r.created_at),
        "timeout_at": _time(r.timeout_at),
        "result_at": _time(r.result_at),
        "late_result_at": _time(r.late_result_at),
    }
    if documents:
        out["request"] = r.body
        out["result_document"] = r.result_body
    return out


def sent_response(sent: SentRequest) -> Response:
    """The answer to sending a request: the kept request with its documents (201)."""
    return JSONResponse(sent_out(sent, documents=True), status_code=201)


async def list_response(
    service: KeptRequests[Any],
    direction: str | None,
    state: list[str] | None,
    limit: int,
    session_id: str | None = None,
) -> Response:
    """Requests of the service's kind, sent and received (or one ``direction``), in the
    ``state``s named (either side's), newest first, at most ``limit``."""
    if direction is not None and direction not in DIRECTIONS:
        return api_error(422, "InvalidInput", "direction: sent or received")
    wanted = [s.upper() for s in state or []]
    sent_states = [SentState(s) for s in wanted if s in SentState.__members__]
    received_states = [ReceivedState(s) for s in wanted if s in ReceivedState.__members__]
    unknown = [s for s in wanted if s not in SentState.__members__ | ReceivedState.__members__]
    if unknown:
        return api_error(422, "InvalidInput", f"state: unknown {', '.join(unknown)}")
    found: list[SentRequest | ReceivedRequest] = []
    if direction in (None, "sent") and (not wanted or sent_states):
        found += await service.list_sent(sent_states, limit, session_id)
    if direction in (None, "received") and (not wanted or received_states):
        found += await service.list_received(received_states, limit, session_id)
    found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return JSONResponse(
        [sent_out(r) if isinstance(r, SentRequest) else received_out(r) for r in found[:limit]]
    )


async def one_response(service: KeptRequests[Any], request_id: str, unknown: str) -> Response:
    """One request of the service's kind, with its documents; 404 ``unknown`` if none."""
    found = await service.get(request_id)
    if found is None:
        return api_error(404, "NotFound", unknown)
    if isinstance(found, SentRequest):
        return JSONResponse(sent_out(found, documents=True))
    return JSONResponse(received_out(found, documents=True))
