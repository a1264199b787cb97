"""EVSE data messages: PushEvseData (CPO → hub) and PullEvseData (EMP → hub) with its
paged answer (digest §1.3 rows 10 and 12; CPO/EMP services "eRoamingPushEvseData",
"eRoamingPullEvseData").

PullEvseData's ``LastCall`` must not be combined with ``SearchCenter``,
``CountryCodes`` or ``OperatorIds`` (digest §1.3). The schema does not forbid it, so the
model reads such a body and :meth:`PullEvseDataRequest.last_call_conflicts` names the
clash for the hub to answer 022 (HTTP 200, ``Result: false``), as it would any other
business refusal. The operator filter is spelled ``OperatorIds`` here, unlike every other
operation (digest §8.3); ``OperatorIDs`` is read too.

The pulled record is an EvseDataRecord plus ``OperatorID`` and ``OperatorName`` (2.3
dropped the 2.2 grouping per operator).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field

from evroam.oicp.v2_3.models.common import (
    ActionType,
    Bool,
    CountryCodeType,
    DateTime,
    Number,
    OperatorIDType,
    Page,
    ProviderIDType,
    WireModel,
    text,
)
from evroam.oicp.v2_3.models.evse import (
    Accessibility,
    AuthenticationMode,
    CalibrationLawDataAvailability,
    EvseDataRecord,
)
from evroam.oicp.v2_3.models.geo import GeoCoordinates, Notation

GeoCoordinatesType = GeoCoordinates


class OperatorEvseData(WireModel):
    OperatorID: OperatorIDType
    OperatorName: Annotated[str, text(100)]
    EvseDataRecord: list[EvseDataRecord]


OperatorEvseDataType = OperatorEvseData


class PushEvseDataRequest(WireModel):
    """``eRoamingPushEvseData``: the CPO's EVSE records with how to apply them."""

    ActionType: ActionType
    OperatorEvseData: OperatorEvseDataType


class SearchCenter(WireModel):
    """A circle: ``Radius`` in kilometres around ``GeoCoordinates``."""

    GeoCoordinates: GeoCoordinatesType
    Radius: Annotated[Number, Field(ge=0)]


SearchCenterType = SearchCenter
CalibrationLawDataAvailabilityType = CalibrationLawDataAvailability
AccessibilityType = Accessibility


class PullEvseDataRequest(WireModel):
    """``eRoamingPullEvseData``; ``GeoCoordinatesResponseFormat`` is the notation the
    hub answers in (:meth:`GeoCoordinates.in_notation`)."""

    ProviderID: ProviderIDType
    GeoCoordinatesResponseFormat: Notation
    SearchCenter: SearchCenterType | None = None
    LastCall: DateTime | None = None
    CountryCodes: list[CountryCodeType] | None = None
    OperatorIds: list[OperatorIDType] | None = Field(
        None, validation_alias=AliasChoices("OperatorIds", "OperatorIDs")
    )
    AuthenticationModes: list[AuthenticationMode] | None = None
    Accessibility: list[AccessibilityType] | None = None
    CalibrationLawDataAvailability: list[CalibrationLawDataAvailabilityType] | None = None
    RenewableEnergy: Bool | None = None
    IsHubjectCompatible: Bool | None = None
    IsOpen24Hours: Bool | None = None

    def last_call_conflicts(self) -> list[str]:
        """The filters given together with ``LastCall`` that may not be (empty when
        ``LastCall`` is absent or alone)."""
        if self.LastCall is None:
            return []
        given = {
            "SearchCenter": self.SearchCenter is not None,
            "CountryCodes": bool(self.CountryCodes),
            "OperatorIds": bool(self.OperatorIds),
        }
        return [name for name, present in given.items() if present]


class PullEvseDataRecord(EvseDataRecord):
    """One record of a PullEvseData answer: the EVSE and its operator."""

    OperatorID: OperatorIDType
    OperatorName: Annotated[str, text(100)]


#: ``eRoamingEVSEData``: the paged answer of PullEvseData.
EvseDataPage = Page[PullEvseDataRecord]
