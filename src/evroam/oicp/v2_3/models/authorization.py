"""Authorization messages (digest §1.3 rows 1-4; CPO/EMP services
"eRoamingAuthorization"): AuthorizeStart/Stop from the CPO (forwarded to online EMPs)
and their answers, AuthorizeRemoteStart/Stop from the EMP (forwarded to the CPO).

Which Identification members each admits is checked by the hub with
:func:`~evroam.oicp.v2_3.models.identification.identification_problem`, not here.
``SessionID`` of AuthorizeRemoteStart is optional: the EMP document says so and best
practice asks the EMP not to set it, while both OpenAPI schemas require it; it is always
present on the hub's forward to the CPO (digest §1.3 CONFLICT).
"""

from __future__ import annotations

from enum import StrEnum

from evroam.oicp.v2_3.models.common import (
    EvseIDType,
    OperatorIDType,
    PartnerSessions,
    ProductIDType,
    ProviderIDType,
    SessionIDType,
    StatusCode,
)
from evroam.oicp.v2_3.models.identification import Identification

StatusCodeType = StatusCode
IdentificationType = Identification


class AuthorizationStatus(StrEnum):
    AUTHORIZED = "Authorized"
    NOT_AUTHORIZED = "NotAuthorized"


AuthorizationStatusType = AuthorizationStatus


class AuthorizeStartRequest(PartnerSessions):
    """``eRoamingAuthorizeStart``: ``SessionID`` is absent from the CPO and set by the
    hub on the forward to the EMP."""

    SessionID: SessionIDType | None = None
    OperatorID: OperatorIDType
    EvseID: EvseIDType | None = None
    Identification: IdentificationType
    PartnerProductID: ProductIDType | None = None


class AuthorizationStartResponse(PartnerSessions):
    """``eRoamingAuthorizationStart``: ``SessionID`` and ``ProviderID`` on success;
    ``AuthorizationStopIdentifications`` lists the media allowed to stop."""

    SessionID: SessionIDType | None = None
    ProviderID: ProviderIDType | None = None
    AuthorizationStatus: AuthorizationStatusType
    StatusCode: StatusCodeType
    AuthorizationStopIdentifications: list[IdentificationType] | None = None


class AuthorizeStopRequest(PartnerSessions):
    """``eRoamingAuthorizeStop`` (the examples' ``PartnerProductID`` is not a field of
    it, NOTES.md D6; it is ignored like any unknown field)."""

    SessionID: SessionIDType
    OperatorID: OperatorIDType
    EvseID: EvseIDType | None = None
    Identification: IdentificationType


class AuthorizationStopResponse(PartnerSessions):
    """``eRoamingAuthorizationStop``."""

    SessionID: SessionIDType | None = None
    ProviderID: ProviderIDType | None = None
    AuthorizationStatus: AuthorizationStatusType
    StatusCode: StatusCodeType


class AuthorizeRemoteStartRequest(PartnerSessions):
    """``eRoamingAuthorizeRemoteStart`` (answered with an Acknowledgement)."""

    SessionID: SessionIDType | None = None
    ProviderID: ProviderIDType
    EvseID: EvseIDType
    Identification: IdentificationType
    PartnerProductID: ProductIDType | None = None


class AuthorizeRemoteStopRequest(PartnerSessions):
    """``eRoamingAuthorizeRemoteStop`` (answered with an Acknowledgement)."""

    SessionID: SessionIDType
    ProviderID: ProviderIDType
    EvseID: EvseIDType
