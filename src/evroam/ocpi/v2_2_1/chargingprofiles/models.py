"""OCPI 2.2.1 ChargingProfiles wire models (mod_charging_profiles §"Object description",
§"Data types"; digest §5.7).

Field names and enums are the spec's. The CPO's answer at once is a
ChargingProfileResponse; what the charger did comes later, POSTed to the request's
``response_url`` as one of three results (one per request: GET -> ActiveChargingProfileResult,
PUT -> ChargingProfileResult, DELETE -> ClearProfileResult).

What the spec rules out is refused here, so a profile the node hands its chargers is
sound: ``limit`` and ``min_charging_rate`` are non-negative with at most one decimal
("accepts at most one digit fraction"), ``start_period`` and ``duration`` are
non-negative whole seconds, and the periods' ``start_period`` rise strictly (each one
"also defines the stop time of the previous period", so two equal or falling starts
describe no schedule). Unknown fields are tolerated like in every wire model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, model_validator

from evroam.core.backend import ChargingProfileResponseType, ChargingProfileResultType
from evroam.ocpi.common.types import URL, DateTime, WireModel
from evroam.ocpi.v2_2_1.types import NonNegative

__all__ = [
    "ActiveChargingProfile",
    "ActiveChargingProfileResult",
    "ChargingProfile",
    "ChargingProfilePeriod",
    "ChargingProfileResponse",
    "ChargingProfileResponseType",
    "ChargingProfileResult",
    "ChargingProfileResultType",
    "ChargingRateUnit",
    "ClearProfileResult",
    "SetChargingProfile",
]


def _one_decimal(value: int | float) -> int | float:
    if isinstance(value, float) and round(value, 1) != value:
        raise ValueError("at most one decimal (e.g. 8.1)")
    return value


#: A rate (W or A): a JSON number (kept as sent, int or float), not negative, at most
#: one decimal.
Rate = Annotated[NonNegative, AfterValidator(_one_decimal)]
Seconds = Annotated[int, Strict(), Field(ge=0)]


class ChargingRateUnit(StrEnum):
    """W: total power; A: current per phase."""

    W = "W"
    A = "A"


class ChargingProfilePeriod(WireModel):
    start_period: Seconds
    limit: Rate


class ChargingProfile(WireModel):
    start_date_time: DateTime | None = None
    duration: Seconds | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: Rate | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None

    @model_validator(mode="after")
    def _periods_rise(self) -> ChargingProfile:
        starts = [p.start_period for p in self.charging_profile_period or []]
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise ValueError(
                "charging_profile_period: start_period must rise from period to period"
            )
        return self


class SetChargingProfile(WireModel):
    """The PUT body: the profile, and where the result goes."""

    charging_profile: ChargingProfile
    response_url: URL


class ActiveChargingProfile(WireModel):
    """The schedule as the charger calculated it, from ``start_date_time`` on."""

    start_date_time: DateTime
    charging_profile: ChargingProfile


class ChargingProfileResponse(WireModel):
    """The CPO's answer at once: whether it took the request, and how many seconds to
    wait for the result."""

    result: ChargingProfileResponseType
    timeout: Annotated[int, Strict(), Field(ge=0)]


class ActiveChargingProfileResult(WireModel):
    """The result of a GET: the ActiveChargingProfile when ACCEPTED."""

    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(WireModel):
    """The result of a PUT (SetChargingProfile)."""

    result: ChargingProfileResultType


class ClearProfileResult(WireModel):
    """The result of a DELETE (clear the profile)."""

    result: ChargingProfileResultType
