"""Reservation messages (digest §1.3 rows 8-9; CPO/EMP services "eRoamingReservation"):
the EMP asks the hub, which forwards to the CPO; both answer with an Acknowledgement.

The reservation schemas misspell ``EMPPartnerSessionId`` (NOTES.md D4); the shared
:class:`~evroam.oicp.v2_3.models.common.PartnerSessions` reads it and emits
``EMPPartnerSessionID``. ``Duration`` is in minutes, 1 to 99. A reservation product goes
in ``PartnerProductID``. After a reservation stop the CPO sends a CDR.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from evroam.oicp.v2_3.models.common import (
    EvseIDType,
    PartnerSessions,
    ProductIDType,
    ProviderIDType,
    SessionIDType,
)
from evroam.oicp.v2_3.models.identification import Identification

IdentificationType = Identification


class AuthorizeRemoteReservationStartRequest(PartnerSessions):
    """``eRoamingAuthorizeRemoteReservationStart``: ``SessionID`` as for remote start
    (absent from the EMP, set by the hub on the forward)."""

    SessionID: SessionIDType | None = None
    ProviderID: ProviderIDType
    EvseID: EvseIDType
    Identification: IdentificationType
    PartnerProductID: ProductIDType | None = None
    Duration: Annotated[int, Field(ge=1, le=99, strict=True)] | None = None


class AuthorizeRemoteReservationStopRequest(PartnerSessions):
    """``eRoamingAuthorizeRemoteReservationStop``."""

    SessionID: SessionIDType
    ProviderID: ProviderIDType
    EvseID: EvseIDType
