"""OCPI 2.2.1 Commands wire models (mod_commands.asciidoc §"Object description", §"Data
types"; digest §5.6).

Field names, lengths and enums are the spec's: one request object per CommandType, each
with the ``response_url`` the CPO POSTs the CommandResult to, and the two answers. The
request objects tolerate unknown fields like every wire model, and refuse what the spec
rules out: a StartSession naming a connector without its EVSE (``evse_uid`` "required
when connector_id is set").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, model_validator

from evroam.core.backend import CommandResponseType, CommandResultType, CommandType
from evroam.ocpi.common.types import URL, CiString, DateTime, WireModel
from evroam.ocpi.v2_2_1.tokens.models import Token
from evroam.ocpi.v2_2_1.types import DisplayText

__all__ = [
    "REQUEST_MODELS",
    "CancelReservation",
    "CommandRequest",
    "CommandResponse",
    "CommandResponseType",
    "CommandResult",
    "CommandResultType",
    "CommandType",
    "ReserveNow",
    "StartSession",
    "StopSession",
    "UnlockConnector",
]

Id36 = Annotated[str, CiString(36)]


class CancelReservation(WireModel):
    response_url: URL
    reservation_id: Id36


class ReserveNow(WireModel):
    response_url: URL
    token: Token
    expiry_date: DateTime
    reservation_id: Id36
    location_id: Id36
    evse_uid: Id36 | None = None
    authorization_reference: Id36 | None = None


class StartSession(WireModel):
    response_url: URL
    token: Token
    location_id: Id36
    evse_uid: Id36 | None = None
    connector_id: Id36 | None = None
    authorization_reference: Id36 | None = None

    @model_validator(mode="after")
    def _connector_needs_evse(self) -> StartSession:
        if self.connector_id is not None and self.evse_uid is None:
            raise ValueError("evse_uid: required when connector_id is given")
        return self


class StopSession(WireModel):
    response_url: URL
    session_id: Id36


class UnlockConnector(WireModel):
    response_url: URL
    location_id: Id36
    evse_uid: Id36
    connector_id: Id36


CommandRequest = CancelReservation | ReserveNow | StartSession | StopSession | UnlockConnector

#: The request object of each command (mod_commands §"POST Method" request body).
REQUEST_MODELS: dict[CommandType, type[CommandRequest]] = {
    CommandType.CANCEL_RESERVATION: CancelReservation,
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
}


class CommandResponse(WireModel):
    """The CPO's answer at once: whether it took the command, and how long the eMSP
    should wait for the result (``timeout`` in seconds)."""

    result: CommandResponseType
    timeout: Annotated[int, Strict(), Field(ge=0)]
    message: list[DisplayText] | None = None


class CommandResult(WireModel):
    """What the charger did, POSTed to the command's ``response_url``."""

    result: CommandResultType
    message: list[DisplayText] | None = None
