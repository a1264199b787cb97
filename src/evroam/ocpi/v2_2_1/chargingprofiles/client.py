"""The node's outbound ChargingProfiles calls (mod_charging_profiles §"Receiver
Interface"): an eMSP asks a CPO partner's Receiver, ``{url}/{session_id}``, with routing
headers, and reads its ChargingProfileResponse: GET with ``duration`` and
``response_url`` as query parameters, PUT with a SetChargingProfile, DELETE with
``response_url`` as a query parameter (the spec puts a GET's and a DELETE's parameters in
the URL).

An OCPI error status, or an answer that is not a ChargingProfileResponse, is no answer
to the request: ``PartnerRefused`` / ``PartnerUnreachable``, naming what went wrong for
the operator (``receiver_call.py``, shared with Commands).
"""

from __future__ import annotations

from evroam.core.backend import ProfileRequestType
from evroam.core.callbacks import Reply
from evroam.core.objects import Document
from evroam.core.types import ModuleId, Partner
from evroam.ocpi.common.client import OcpiClient
from evroam.ocpi.v2_2_1.chargingprofiles.convert import reply_from
from evroam.ocpi.v2_2_1.receiver_call import call_receiver

METHODS = {
    ProfileRequestType.GET_ACTIVE: "GET",
    ProfileRequestType.SET: "PUT",
    ProfileRequestType.CLEAR: "DELETE",
}


class ChargingProfilesClient:
    """Stateless: the ``OcpiClient`` and the partner are passed in."""

    async def call(
        self,
        ocpi: OcpiClient,
        partner: Partner,
        request_type: ProfileRequestType,
        session_id: str,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply:
        in_body = request_type == ProfileRequestType.SET
        return await call_receiver(
            ocpi,
            partner,
            ModuleId.CHARGING_PROFILES,
            METHODS[request_type],
            session_id,
            sender,
            receiver,
            reply_from,
            json_body=body if in_body else None,
            params=None if in_body else {k: str(v) for k, v in body.items()},
        )


class OcpiChargingProfilesApi:
    """``ChargingProfilesApi`` (``core/ports.py``) over the node's OCPI
    client."""

    def __init__(self, ocpi: OcpiClient, client: ChargingProfilesClient | None = None) -> None:
        self._ocpi = ocpi
        self._client = client or ChargingProfilesClient()

    async def send(
        self,
        partner: Partner,
        request_type: ProfileRequestType,
        session_id: str,
        body: Document,
        sender: tuple[str, str],
        receiver: tuple[str, str],
    ) -> Reply:
        return await self._client.call(
            self._ocpi, partner, request_type, session_id, body, sender, receiver
        )
