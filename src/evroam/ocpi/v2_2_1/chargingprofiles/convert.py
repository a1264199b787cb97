"""ChargingProfiles wire models <-> canonical documents and core answers.

Requests and results are stored and handed on as canonical 2.2.1 JSON with absent
optional fields left out (as every module stores its documents). The answer at once is
a core :class:`~evroam.core.callbacks.Reply` on the node's side. Validation failures
become ``InvalidInput`` (OCPI 2001) naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from evroam.core.backend import ProfileRequestType
from evroam.core.callbacks import Reply
from evroam.core.errors import InvalidInput
from evroam.core.objects import Document
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.chargingprofiles.models import (
    ActiveChargingProfile,
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfileResponse,
    ChargingProfileResult,
    ClearProfileResult,
    SetChargingProfile,
)

#: The result object POSTed to ``response_url`` for each request type.
RESULT_MODELS: dict[ProfileRequestType, type[BaseModel]] = {
    ProfileRequestType.GET_ACTIVE: ActiveChargingProfileResult,
    ProfileRequestType.SET: ChargingProfileResult,
    ProfileRequestType.CLEAR: ClearProfileResult,
}


def to_document(model: BaseModel) -> Document:
    """Present fields only: never ``null`` on the wire."""
    return model.model_dump(mode="json", exclude_none=True)


def _parse(model: type[BaseModel], data: Any, what: str) -> Document:
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    try:
        return to_document(model.model_validate(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def parse_set(data: Any) -> Document:
    """A SetChargingProfile (the CPO's PUT body) as a canonical document."""
    return _parse(SetChargingProfile, data, "the body (a SetChargingProfile)")


def parse_profile(data: Any) -> Document:
    """A ChargingProfile (what an operator sets) as a canonical document."""
    return _parse(ChargingProfile, data, "charging_profile")


def parse_active(data: Any) -> Document:
    """An ActiveChargingProfile (a CPO's PUT, or what a charger reports)."""
    return _parse(ActiveChargingProfile, data, "the ActiveChargingProfile")


def parse_request_type(raw: str) -> ProfileRequestType:
    """The ``{type}`` segment of the node's response URLs."""
    try:
        return ProfileRequestType(raw)
    except ValueError:
        raise InvalidInput(f"{raw[:40]!r} is not a charging profile request") from None


def parse_result(request_type: ProfileRequestType, data: Any) -> Document:
    """The result a CPO POSTed for a request of ``request_type``, as a document."""
    if data is None:
        raise InvalidInput("request body is missing")
    return _parse(RESULT_MODELS[request_type], data, "the result")


def result_document(
    request_type: ProfileRequestType, result: str, active_profile: Document | None = None
) -> Document:
    """The result object the CPO POSTs: ``profile`` only for a GET's ACCEPTED result
    (InvalidInput when the reported profile is not an ActiveChargingProfile)."""
    doc: dict[str, Any] = {"result": result}
    if request_type == ProfileRequestType.GET_ACTIVE and active_profile is not None:
        doc["profile"] = active_profile
    return _parse(RESULT_MODELS[request_type], doc, "the result")


def parse_duration(raw: str | None) -> int:
    """The GET's ``duration`` query parameter: whole seconds, required."""
    if raw is None or raw == "":
        raise InvalidInput("duration: required query parameter (seconds)")
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("duration: must be whole seconds") from None
    if value < 0:
        raise InvalidInput("duration: must not be negative")
    return value


def response_json(reply: Reply) -> str:
    """A ChargingProfileResponse as JSON text, from the node's answer."""
    doc = ChargingProfileResponse.model_validate(
        {"result": reply.result, "timeout": reply.timeout or 0}
    ).model_dump(mode="json")
    return json.dumps(doc, separators=(",", ":"))


def reply_from(data: Any, status_code: int = 1000) -> Reply:
    """A partner's ChargingProfileResponse as a :class:`Reply` (InvalidInput when it is
    not one)."""
    try:
        response = ChargingProfileResponse.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            f"not a ChargingProfileResponse: {describe_validation_error(exc)}"
        ) from None
    return Reply(response.result.value, response.timeout, None, status_code)
