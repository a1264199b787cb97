"""Charging notifications (digest §1.3 row 20; CPO/EMP services
"eRoamingChargingNotifications"): Start, Progress, End and Error, sent by the CPO to the
hub and forwarded to the EMP, all on one path.

The OpenAPI ``oneOf`` over the four bodies is broken: every variant accepts every
``Type`` value, so a Progress body also matches Start and a strict validator refuses the
files' own examples (NOTES.md D2). The variant is chosen by ``Type`` instead
(:class:`ChargingNotification`, a discriminated union).

``ErrorType``: the OpenAPI and EMP document write ``ConnectorError``/``CriticalError``,
the CPO document and a snippet ``Connector Error``/``Critical Error`` (digest §1.3
CONFLICT); both are read, the former emitted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, RootModel, model_validator

from evroam.oicp.v2_3.models.common import (
    DateTime,
    EvseIDType,
    MeterValues,
    Number,
    OperatorIDType,
    PartnerSessions,
    ProductIDType,
    SessionIDType,
    text,
)
from evroam.oicp.v2_3.models.identification import Identification

IdentificationType = Identification
MeterValuesType = MeterValues
_Energy = Annotated[Number, Field(ge=0)]


class ChargingNotificationType(StrEnum):
    START = "Start"
    PROGRESS = "Progress"
    END = "End"
    ERROR = "Error"


class ErrorClass(StrEnum):
    CONNECTOR_ERROR = "ConnectorError"
    CRITICAL_ERROR = "CriticalError"


def _error_class(value: Any) -> Any:
    """``Connector Error`` → ``ConnectorError`` (the CPO document's spelling)."""
    if isinstance(value, str) and value in ("Connector Error", "Critical Error"):
        return value.replace(" ", "")
    return value


class _Notification(PartnerSessions):
    """What the four have in common; ``OperatorID`` is mandatory (CPO document and
    OpenAPI; the EMP document says optional, and the hub checks it against the
    certificate, digest §6)."""

    SessionID: SessionIDType
    Identification: IdentificationType | None = None
    EvseID: EvseIDType
    OperatorID: OperatorIDType


class ChargingNotificationStart(_Notification):
    """Energy started flowing."""

    Type: Literal["Start"]
    ChargingStart: DateTime
    SessionStart: DateTime | None = None
    MeterValueStart: _Energy | None = None
    PartnerProductID: ProductIDType | None = None


class ChargingNotificationProgress(_Notification):
    """Progress, at least five minutes apart; ``ChargingDuration`` in milliseconds
    and/or ``ConsumedEnergyProgress`` in kWh, at least one of them."""

    Type: Literal["Progress"]
    ChargingStart: DateTime
    EventOccurred: DateTime
    ChargingDuration: Annotated[int, Field(ge=0, strict=True)] | None = None
    SessionStart: DateTime | None = None
    ConsumedEnergyProgress: _Energy | None = None
    MeterValueStart: _Energy | None = None
    MeterValueInBetween: MeterValuesType | None = None
    PartnerProductID: ProductIDType | None = None

    @model_validator(mode="after")
    def _duration_or_energy(self) -> ChargingNotificationProgress:
        if self.ChargingDuration is None and self.ConsumedEnergyProgress is None:
            raise ValueError(
                "a Progress notification needs ChargingDuration or ConsumedEnergyProgress"
            )
        return self


class ChargingNotificationEnd(_Notification):
    """Energy stopped flowing; the session may go on (car still plugged in)."""

    Type: Literal["End"]
    ChargingStart: DateTime | None = None
    ChargingEnd: DateTime
    SessionStart: DateTime | None = None
    SessionEnd: DateTime | None = None
    ConsumedEnergy: _Energy | None = None
    MeterValueStart: _Energy | None = None
    MeterValueEnd: _Energy | None = None
    MeterValueInBetween: MeterValuesType | None = None
    PartnerProductID: ProductIDType | None = None
    PenaltyTimeStart: DateTime | None = None


class ChargingNotificationError(_Notification):
    Type: Literal["Error"]
    ErrorType: Annotated[ErrorClass, BeforeValidator(_error_class)]
    ErrorAdditionalInfo: Annotated[str, text(250)] | None = None


AnyChargingNotification = Annotated[
    ChargingNotificationStart
    | ChargingNotificationProgress
    | ChargingNotificationEnd
    | ChargingNotificationError,
    Field(discriminator="Type"),
]


class ChargingNotification(RootModel[AnyChargingNotification]):
    """The request body of the notifications path: one of the four, chosen by ``Type``
    (``ChargingNotification.model_validate(body).root``)."""

    def to_wire(self) -> dict[str, Any]:
        return self.root.to_wire()
