"""eRoamingEVSEStatus messages: the push (CPO → hub), the three pulls (EMP → hub) and
their answers (OICP 2.3 CPO/EMP "eRoamingEVSEStatus"; digest §1.3 rows 11, 13-15).

Spellings (reading rules in :mod:`.common`): the plain pull's status filter is
``EVSEStatus`` in the schema and ``EvseStatus`` in its own example (NOTES.md D4): both
are read, ``EVSEStatus`` is written. The answers keep the schema's mixed names:
``EvseStatuses``/``OperatorEvseStatus`` for the plain and by-operator pulls,
``EVSEStatusRecords``/``EvseStatusRecord`` for the pull by ID.

The three pull bodies overlap (every by-ID or by-operator body is also a valid plain
body, NOTES.md D2), so a body on the shared ``status-records`` path is told apart by its
keys (:func:`pull_request_model`), never by trying the schemas in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AliasChoices, Field

from evroam.core.oicp import EvseStatus
from evroam.oicp.v2_3.models.common import (
    ActionType,
    EvseIDType,
    Number,
    OperatorIDType,
    ProviderIDType,
    StatusCode,
    WireModel,
    text,
)
from evroam.oicp.v2_3.models.geo import GeoCoordinates

__all__ = [
    "ActionType",
    "EvseStatus",
    "EvseStatusByIdResponse",
    "EvseStatusRecord",
    "EvseStatusResponse",
    "OperatorEvseStatus",
    "PullEvseStatusByIdRequest",
    "PullEvseStatusByOperatorIdRequest",
    "PullEvseStatusRequest",
    "PushEvseStatusRequest",
    "pull_request_model",
]

#: Most EvseIDs one pull by ID may name (the schema's ``maxItems``).
MAX_EVSE_IDS = 100

# Field names equal to type names (``EvseStatus: EvseStatus``) would make the annotation
# refer to the field; these aliases keep them apart.
_Status = EvseStatus
_Action = ActionType
_StatusCode = StatusCode


class EvseStatusRecord(WireModel):
    """One EVSE's status; pushed, and answered by every pull."""

    EvseID: EvseIDType
    EvseStatus: _Status


class OperatorEvseStatus(WireModel):
    """One operator's statuses: the push's payload and one block of a pull's answer."""

    OperatorID: OperatorIDType
    OperatorName: Annotated[str, text(100)] | None = None
    EvseStatusRecord: list[EvseStatusRecord]


class PushEvseStatusRequest(WireModel):
    """``eRoamingPushEvseStatus``."""

    ActionType: _Action
    OperatorEvseStatus: OperatorEvseStatus


class SearchCenterType(WireModel):
    """A point and a radius in km (``SearchCenter``)."""

    GeoCoordinates: GeoCoordinates
    Radius: Annotated[Number, Field(ge=Decimal(0))]


class PullEvseStatusRequest(WireModel):
    """``eRoamingPullEvseStatus``: every operator's statuses, optionally one status
    (``EVSEStatus``, read as ``EvseStatus`` too) or around a point (``SearchCenter``)."""

    ProviderID: ProviderIDType
    SearchCenter: SearchCenterType | None = None
    EVSEStatus: _Status | None = Field(
        default=None, validation_alias=AliasChoices("EVSEStatus", "EvseStatus")
    )


class PullEvseStatusByIdRequest(WireModel):
    """``eRoamingPullEvseStatusByID``: up to 100 EvseIDs."""

    ProviderID: ProviderIDType
    EvseID: Annotated[list[EvseIDType], Field(max_length=MAX_EVSE_IDS)]


class PullEvseStatusByOperatorIdRequest(WireModel):
    """``eRoamingPullEvseStatusByOperatorID``: ``OperatorID`` is a list here."""

    ProviderID: ProviderIDType
    OperatorID: list[OperatorIDType]


class EvseStatuses(WireModel):
    OperatorEvseStatus: list[OperatorEvseStatus]


class EvseStatusResponse(WireModel):
    """``eRoamingEvseStatus``: the answer to the plain and the by-operator pull."""

    EvseStatuses: EvseStatuses
    StatusCode: _StatusCode | None = None


class EvseStatusRecords(WireModel):
    EvseStatusRecord: list[EvseStatusRecord]


class EvseStatusByIdResponse(WireModel):
    """``eRoamingEvseStatusByID``: the answer to the pull by ID."""

    EVSEStatusRecords: EvseStatusRecords
    StatusCode: _StatusCode | None = None


PullRequest = PullEvseStatusRequest | PullEvseStatusByIdRequest | PullEvseStatusByOperatorIdRequest


def pull_request_model(
    body: Mapping[str, Any],
) -> type[PullEvseStatusRequest | PullEvseStatusByIdRequest | PullEvseStatusByOperatorIdRequest]:
    """Which pull a body on the shared path is: ``EvseID`` makes it by ID,
    ``OperatorID`` by operator, neither the plain pull. A body with both is refused
    (``ValueError``): guessing would answer a question the partner did not ask."""
    by_id, by_operator = "EvseID" in body, "OperatorID" in body
    if by_id and by_operator:
        raise ValueError("give EvseID or OperatorID, not both")
    if by_id:
        return PullEvseStatusByIdRequest
    if by_operator:
        return PullEvseStatusByOperatorIdRequest
    return PullEvseStatusRequest
