"""PushAuthenticationData (digest §1.3 row 7; EMP services
"eRoamingPushAuthenticationData"): an offline EMP uploads the media the hub may
authorize on its behalf.

Every EvcoID must belong to the pushing provider or one of its sub-providers, else 019
(the hub's check, with :func:`evroam.oicp.v2_3.ids.provider_of_evco`). A QR code record
carries a clear ``PIN`` (the hub stores only its hash) or a ``HashedPIN``
(:func:`~evroam.oicp.v2_3.models.identification.identification_problem` with
``AUTHENTICATION_DATA`` refuses both at once).
"""

from __future__ import annotations

from evroam.oicp.v2_3.models.common import ActionType, ProviderIDType, WireModel
from evroam.oicp.v2_3.models.identification import Identification

IdentificationType = Identification
ActionTypeType = ActionType


class AuthenticationDataRecord(WireModel):
    Identification: IdentificationType


class ProviderAuthenticationData(WireModel):
    ProviderID: ProviderIDType
    AuthenticationDataRecord: list[AuthenticationDataRecord]


ProviderAuthenticationDataType = ProviderAuthenticationData


class PushAuthenticationDataRequest(WireModel):
    """``eRoamingPushAuthenticationData``."""

    ActionType: ActionTypeType
    ProviderAuthenticationData: ProviderAuthenticationDataType
