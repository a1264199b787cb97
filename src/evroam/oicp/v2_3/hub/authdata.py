"""eRoamingAuthenticationData: PushAuthenticationData from EMPs (digest §1.2 row 7;
``services/oicp/authdata.py``): the media the hub may authorize offline for the EMP.

Every medium of the push is allowed in uploads (any of the five; a QR code with a PIN
or a HashedPIN, not both: 022); every EvcoID must be the pushing provider's (019);
nothing is stored when any record is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from evroam.core.oicp import ActionType as CoreAction
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import CallerDep, HubDep, acting_provider, parse_body
from evroam.oicp.v2_3.hub.session_support import (
    acknowledgement,
    checked_identification,
    status,
    translated,
)
from evroam.oicp.v2_3.models.authdata import PushAuthenticationDataRequest
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import authdata as service

PUSH_PATH = operation(N.PUSH_AUTHENTICATION_DATA).template

router = APIRouter(tags=["eRoamingAuthenticationData"])


@router.post(PUSH_PATH, summary="eRoamingPushAuthenticationData")
async def push_authentication_data(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> dict[str, Any]:
    acting_provider(caller, providerID)
    push = await parse_body(request, PushAuthenticationDataRequest)
    data = push.ProviderAuthenticationData
    provider = acting_provider(caller, providerID, data.ProviderID)
    items = []
    for record in data.AuthenticationDataRecord:
        medium = checked_identification(N.PUSH_AUTHENTICATION_DATA, record.Identification)
        qr = record.Identification.QRCodeIdentification
        hashed = qr.HashedPIN.Value if qr is not None and qr.HashedPIN is not None else None
        items.append(service.AuthDataItem(medium, hashed))
    with translated():
        await service.push_authentication_data(
            hub.uow, provider, CoreAction(push.ActionType.value), items
        )
    return acknowledgement(True, status(Code.SUCCESS))
