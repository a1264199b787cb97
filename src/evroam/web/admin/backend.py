"""``POST /api/v1/backend/reports``: where a webhook charge-point backend reports what its
chargers did (the contract: ``backends/webhook.py``).

Authenticated by the backend's shared secret (``EVROAM_BACKEND__SECRET``, compared in
constant time), never by the admin token: the system driving the chargers may report,
not manage the node. Each body is one report, validated here (pydantic, by ``type``),
and handed to the node's :class:`~evroam.services.backend_reports.NodeReports`, the same
service calls as the operator API. A refused report stores nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.responses import JSONResponse, Response

from evroam.core.backend import ChargingProfileResultType, CommandResultType
from evroam.core.callbacks import UnknownRequest
from evroam.core.credentials_tokens import secrets_equal
from evroam.core.errors import DomainError, InvalidInput
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.jsonbody import parse_json
from evroam.services.backend_reports import NodeReports, NotWired, UnknownReportObject
from evroam.web.admin.context import AdminContext, get_admin_context
from evroam.web.admin.errors import api_error

router = APIRouter(prefix="/backend", tags=["backend"])

_bearer = HTTPBearer(auto_error=False, description="The charge-point backend's shared secret")

Id = Annotated[str, Field(min_length=1, max_length=36)]
CountryCode = Annotated[str, Field(min_length=2, max_length=2)]
PartyId = Annotated[str, Field(min_length=3, max_length=3)]


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommandResultReport(_Report):
    type: Literal["command_result"]
    command_id: Id
    result: CommandResultType
    message: Annotated[str, Field(max_length=512)] | None = None


class ProfileResultReport(_Report):
    type: Literal["profile_result"]
    request_id: Id
    result: ChargingProfileResultType
    active_profile: dict[str, Any] | None = None


class _SessionRef(_Report):
    country_code: CountryCode
    party_id: PartyId
    session_id: Id


class ActiveProfileReport(_SessionRef):
    type: Literal["active_profile"]
    active_profile: dict[str, Any]


class EvseStatusReport(_Report):
    type: Literal["evse_status"]
    country_code: CountryCode
    party_id: PartyId
    location_id: Id
    evse_uid: Id
    status: Literal[
        "AVAILABLE",
        "BLOCKED",
        "CHARGING",
        "INOPERATIVE",
        "OUTOFORDER",
        "PLANNED",
        "REMOVED",
        "RESERVED",
        "UNKNOWN",
    ]
    at: datetime | None = None


class SessionStartedReport(_Report):
    type: Literal["session_started"]
    session: dict[str, Any]


class SessionPatchReport(_SessionRef):
    type: Literal["session_updated", "session_ended"]
    patch: dict[str, Any]


class CdrReport(_Report):
    type: Literal["cdr"]
    cdr: dict[str, Any]


Report = Annotated[
    CommandResultReport
    | ProfileResultReport
    | ActiveProfileReport
    | EvseStatusReport
    | SessionStartedReport
    | SessionPatchReport
    | CdrReport,
    Field(discriminator="type"),
]
_REPORT: TypeAdapter[Report] = TypeAdapter(Report)


def reports_of(request: Request, admin: AdminContext) -> NodeReports:
    """The node's NodeReports as ``web/app.py`` set it on the admin app's state (wired to
    the Commands and ChargingProfiles services); else one over the services alone, which
    takes what the chargers did and refuses results as not wired."""
    wired = getattr(request.app.state, "backend_reports", None)
    if isinstance(wired, NodeReports):
        return wired
    from evroam.backends import node_reports

    return node_reports(admin.partners)


async def _dispatch(reports: NodeReports, report: Report) -> None:
    if isinstance(report, CommandResultReport):
        await reports.command_result(report.command_id, report.result, report.message)
    elif isinstance(report, ProfileResultReport):
        await reports.profile_result(report.request_id, report.result, report.active_profile)
    elif isinstance(report, ActiveProfileReport):
        party = (report.country_code, report.party_id)
        await reports.active_profile_changed(party, report.session_id, report.active_profile)
    elif isinstance(report, EvseStatusReport):
        at = report.at or datetime.now(UTC)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        await reports.evse_status(
            (report.country_code, report.party_id),
            report.location_id,
            report.evse_uid,
            report.status,
            at,
        )
    elif isinstance(report, SessionStartedReport):
        await reports.session_started(report.session)
    elif isinstance(report, SessionPatchReport):
        party = (report.country_code, report.party_id)
        if report.type == "session_updated":
            await reports.session_updated(party, report.session_id, report.patch)
        else:
            await reports.session_ended(party, report.session_id, report.patch)
    else:
        await reports.cdr(report.cdr)


@router.post("/reports", summary="A webhook charge-point backend reports what its chargers did")
async def post_report(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Response:
    admin = get_admin_context(request)
    backend = admin.settings.backend
    if backend.kind != "webhook" or backend.secret is None:
        return api_error(404, "NotFound", "this node has no webhook charge-point backend")
    if credentials is None or not secrets_equal(
        credentials.credentials, backend.secret.get_secret_value()
    ):
        response = api_error(401, "Unauthorized", "missing or wrong backend secret (Bearer)")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    data = parse_json(await request.body())
    if data is None:
        return api_error(422, "InvalidInput", "request body is missing")
    try:
        report = _REPORT.validate_python(data)
    except ValidationError as exc:
        return api_error(422, "InvalidInput", describe_validation_error(exc))
    try:
        await _dispatch(reports_of(request, admin), report)
    except (UnknownReportObject, UnknownRequest) as exc:
        return api_error(404, "UnknownObject", str(exc))
    except NotWired as exc:
        return api_error(501, "NotSupported", str(exc))
    except InvalidInput as exc:
        return api_error(422, "InvalidInput", str(exc))
    except DomainError as exc:
        return api_error(409, type(exc).__name__, str(exc))
    return JSONResponse({"accepted": report.type})
