"""The node's outbound ChargingProfiles calls (mod_charging_profiles §"Receiver
Interface"): an eMSP asks a CPO partner's Receiver, ``{url}/{session_id}``, with routing
headers, and reads its ChargingProfileResponse: GET with ``duration`` and
``response_url`` as query parameters, PUT with a SetChargingProfile, DELETE with
``response_url`` as a query parameter (the spec puts a GET's and a DELETE's parameters in
the URL).

An OCPI error status, or an answer that is not a ChargingProfileResponse, is no answer
to the request: ``PartnerRefused`` / ``PartnerUnreachable``, naming what went wrong for
the operator.
"""

from __future__ import annotations

from urllib.parse import quote

from evroam.core.backend import ProfileRequestType
from evroam.core.callbacks import Reply
from evroam.core.errors import InvalidInput, PartnerRefused, PartnerUnreachable
from evroam.core.objects import Document
from evroam.core.types import InterfaceRole, ModuleId, Partner
from evroam.ocpi.common.client import OcpiClient, PartnerError
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.v2_2_1.chargingprofiles.convert import reply_from
from evroam.ocpi.v2_2_1.meta import TOKEN_BASE64

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
        endpoint = partner.endpoint(ModuleId.CHARGING_PROFILES.value, InterfaceRole.RECEIVER)
        if endpoint is None or not partner.token_out:
            raise PartnerUnreachable(f"partner {partner.label} offers no chargingprofiles Receiver")
        url = endpoint.url.rstrip("/") + "/" + quote(session_id, safe="")
        method = METHODS[request_type]
        routing = {FROM_CC: sender[0], FROM_PID: sender[1], TO_CC: receiver[0], TO_PID: receiver[1]}
        params: dict[str, str] | None = None
        json_body: Document | None = None
        if request_type == ProfileRequestType.SET:
            json_body = body
        else:
            params = {k: str(v) for k, v in body.items()}
        try:
            answer = await ocpi.request(
                method,
                url,
                partner.token_out,
                partner=partner.label,
                json_body=json_body,
                params=params,
                routing=routing,
                encode=TOKEN_BASE64,
            )
        except PartnerError as exc:
            if exc.ocpi_status is not None:
                raise PartnerRefused(str(exc)) from None
            raise PartnerUnreachable(str(exc)) from None
        try:
            return reply_from(answer.data, answer.status_code)
        except InvalidInput as exc:
            raise PartnerUnreachable(f"{method} {url}: {exc}") from None


class OcpiChargingProfilesApi:
    """``ChargingProfilesApi`` (``services/chargingprofiles.py``) over the node's OCPI
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
