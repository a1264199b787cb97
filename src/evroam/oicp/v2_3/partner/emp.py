"""The EMP's client: the operations an e-mobility provider calls on the hub
(``paths.OPERATIONS`` served by ``Server.HUB_FOR_EMP``; digest §1.2 rows 3, 4, 6-9,
12-15, 18, 19: ten services, the status pull in its three forms).

Every method sends under the client's own ProviderID, in the path and in the body. The
paged pulls (PullEvseData, GetChargeDetailRecords) are async iterators over pages, up to
2000 records each, until the hub says ``last`` (digest §5); the status pull by ID takes
any number of EvseIDs and asks in chunks of the schema's 100.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.models.authdata import (
    AuthenticationDataRecord,
    ProviderAuthenticationData,
    PushAuthenticationDataRequest,
)
from evroam.oicp.v2_3.models.authorization import (
    AuthorizeRemoteStartRequest,
    AuthorizeRemoteStopRequest,
)
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecordPage, GetChargeDetailRecordsRequest
from evroam.oicp.v2_3.models.common import Acknowledgement, ActionType, DateTime, StatusCode
from evroam.oicp.v2_3.models.evsedata import EvseDataPage, PullEvseDataRequest
from evroam.oicp.v2_3.models.geo import Notation
from evroam.oicp.v2_3.models.identification import Identification, RemoteIdentification
from evroam.oicp.v2_3.models.pricing import (
    EvsePricingResponse,
    PricingProductDataResponse,
    PullEvsePricingRequest,
    PullPricingProductDataRequest,
)
from evroam.oicp.v2_3.models.reservation import (
    AuthorizeRemoteReservationStartRequest,
    AuthorizeRemoteReservationStopRequest,
)
from evroam.oicp.v2_3.models.status import (
    MAX_EVSE_IDS,
    EvseStatus,
    EvseStatusByIdResponse,
    EvseStatusRecords,
    EvseStatusResponse,
    PullEvseStatusByIdRequest,
    PullEvseStatusByOperatorIdRequest,
    PullEvseStatusRequest,
    SearchCenterType,
)
from evroam.oicp.v2_3.pages import MAX_SIZE
from evroam.oicp.v2_3.partner.client import OicpClient, masked
from evroam.oicp.v2_3.paths import OperationName as N

log = logging.getLogger("evroam.oicp.client")


def _time(value: DateTime | str) -> DateTime:
    return value if isinstance(value, DateTime) else DateTime(value)


def _since(value: DateTime | str | None) -> DateTime | None:
    return None if value is None else _time(value)


def _remote(evco_id: str) -> Identification:
    return Identification(RemoteIdentification=RemoteIdentification(EvcoID=evco_id))


class EmpClient(OicpClient):
    """An EMP talking to a hub as ``provider_id`` (``DE-8EO``). Connection options:
    :class:`~evroam.oicp.v2_3.partner.client.OicpClient`."""

    def __init__(self, url: str, provider_id: str, **options: Any) -> None:
        provider_id = provider_id.strip()
        if not ids.is_provider_id(provider_id):
            raise ValueError(f"{provider_id!r} is not a ProviderID (e.g. DE-8EO)")
        super().__init__(url, **options)
        self.provider_id = provider_id

    def _own(self, provider_id: str, where: str) -> None:
        if ids.canonical_provider(provider_id) != ids.canonical_provider(self.provider_id):
            raise ValueError(f"{where} names {provider_id!r}, not this client's {self.provider_id}")

    # ------------------------------------------------------------------ remote authorization

    async def send_remote_start(self, request: AuthorizeRemoteStartRequest) -> Acknowledgement:
        """eRoamingAuthorizeRemoteStart as given (row 3)."""
        self._own(request.ProviderID, "ProviderID")
        ack = await self.call(N.AUTHORIZE_REMOTE_START, self.provider_id, request, Acknowledgement)
        log.info(
            "remote start at %s for %s: session %s",
            request.EvseID,
            masked(request.Identification.evco_id),
            ack.SessionID or "-",
        )
        return ack

    async def remote_start(
        self,
        evse_id: str,
        evco_id: str,
        *,
        partner_product_id: str | None = None,
        emp_partner_session_id: str | None = None,
    ) -> Acknowledgement:
        """Start charging at ``evse_id`` for contract ``evco_id``; the hub's SessionID
        is in the acknowledgement (``SessionID``), for the stop."""
        return await self.send_remote_start(
            AuthorizeRemoteStartRequest(
                ProviderID=self.provider_id,
                EvseID=evse_id,
                Identification=_remote(evco_id),
                PartnerProductID=partner_product_id,
                EMPPartnerSessionID=emp_partner_session_id,
            )
        )

    async def remote_stop(
        self, session_id: str, evse_id: str, *, emp_partner_session_id: str | None = None
    ) -> Acknowledgement:
        """eRoamingAuthorizeRemoteStop (row 4)."""
        request = AuthorizeRemoteStopRequest(
            SessionID=session_id,
            ProviderID=self.provider_id,
            EvseID=evse_id,
            EMPPartnerSessionID=emp_partner_session_id,
        )
        return await self.call(N.AUTHORIZE_REMOTE_STOP, self.provider_id, request, Acknowledgement)

    async def reservation_start(
        self,
        evse_id: str,
        evco_id: str,
        *,
        duration_minutes: int | None = None,
        partner_product_id: str | None = None,
        emp_partner_session_id: str | None = None,
    ) -> Acknowledgement:
        """eRoamingAuthorizeRemoteReservationStart (row 8); ``duration_minutes`` 1-99."""
        request = AuthorizeRemoteReservationStartRequest(
            ProviderID=self.provider_id,
            EvseID=evse_id,
            Identification=_remote(evco_id),
            Duration=duration_minutes,
            PartnerProductID=partner_product_id,
            EMPPartnerSessionID=emp_partner_session_id,
        )
        return await self.call(N.RESERVATION_START, self.provider_id, request, Acknowledgement)

    async def reservation_stop(
        self, session_id: str, evse_id: str, *, emp_partner_session_id: str | None = None
    ) -> Acknowledgement:
        """eRoamingAuthorizeRemoteReservationStop (row 9)."""
        request = AuthorizeRemoteReservationStopRequest(
            SessionID=session_id,
            ProviderID=self.provider_id,
            EvseID=evse_id,
            EMPPartnerSessionID=emp_partner_session_id,
        )
        return await self.call(N.RESERVATION_STOP, self.provider_id, request, Acknowledgement)

    # ------------------------------------------------------------------ CDRs and auth data

    def cdr_pages(
        self,
        start: DateTime | str,
        end: DateTime | str,
        *,
        session_ids: Sequence[str] | None = None,
        operator_id: str | None = None,
        forwarded: bool | None = None,
        size: int = MAX_SIZE,
    ) -> AsyncIterator[ChargeDetailRecordPage]:
        """eRoamingGetChargeDetailRecords (row 6): the CDRs the hub received between
        ``start`` and ``end``, page by page; ``forwarded=False`` asks for those whose
        forward to this EMP failed."""
        request = GetChargeDetailRecordsRequest(
            ProviderID=self.provider_id,
            From=_time(start),
            To=_time(end),
            SessionID=list(session_ids) if session_ids else None,
            OperatorID=operator_id,
            CDRForwarded=forwarded,
        )
        return self.pages(
            N.GET_CHARGE_DETAIL_RECORDS,
            self.provider_id,
            request,
            ChargeDetailRecordPage,
            size=size,
        )

    async def push_authentication_data(
        self,
        identifications: Iterable[Identification],
        action: ActionType = ActionType.FULL_LOAD,
    ) -> Acknowledgement:
        """eRoamingPushAuthenticationData (row 7): the media the hub may authorize for
        this (offline) EMP."""
        request = PushAuthenticationDataRequest(
            ActionType=action,
            ProviderAuthenticationData=ProviderAuthenticationData(
                ProviderID=self.provider_id,
                AuthenticationDataRecord=[
                    AuthenticationDataRecord(Identification=i) for i in identifications
                ],
            ),
        )
        return await self.call(
            N.PUSH_AUTHENTICATION_DATA, self.provider_id, request, Acknowledgement
        )

    # ------------------------------------------------------------------ EVSE data and status

    def evse_data_pages(
        self,
        request: PullEvseDataRequest | None = None,
        *,
        size: int = MAX_SIZE,
        **filters: Any,
    ) -> AsyncIterator[EvseDataPage]:
        """eRoamingPullEvseData (row 12), page by page. Give a request, or its filters
        as keywords (``OperatorIds=[...]``, ``LastCall=...``, ``CountryCodes=[...]``);
        coordinates come as ``GeoCoordinatesResponseFormat`` (DecimalDegree unless
        given)."""
        if request is None:
            body = {
                "ProviderID": self.provider_id,
                "GeoCoordinatesResponseFormat": Notation.DECIMAL_DEGREE,
                **filters,
            }
            request = PullEvseDataRequest.model_validate(body)
        elif filters:
            raise ValueError("give a request or filters, not both")
        self._own(request.ProviderID, "ProviderID")
        return self.pages(N.PULL_EVSE_DATA, self.provider_id, request, EvseDataPage, size=size)

    async def pull_evse_status(
        self, status: EvseStatus | None = None, search_center: SearchCenterType | None = None
    ) -> EvseStatusResponse:
        """eRoamingPullEvseStatus (row 13): every operator's statuses, optionally one
        status or around a point (the AUP allows 6 a minute: prefer the other two)."""
        request = PullEvseStatusRequest(
            ProviderID=self.provider_id, EVSEStatus=status, SearchCenter=search_center
        )
        return await self.call(N.PULL_EVSE_STATUS, self.provider_id, request, EvseStatusResponse)

    async def pull_evse_status_by_id(self, evse_ids: Sequence[str]) -> EvseStatusByIdResponse:
        """eRoamingPullEvseStatusByID (row 14), in chunks of 100, answers joined."""
        if not evse_ids:
            raise ValueError("name at least one EvseID")
        records = []
        status: StatusCode | None = None
        for at in range(0, len(evse_ids), MAX_EVSE_IDS):
            request = PullEvseStatusByIdRequest(
                ProviderID=self.provider_id, EvseID=list(evse_ids[at : at + MAX_EVSE_IDS])
            )
            answer = await self.call(
                N.PULL_EVSE_STATUS_BY_ID, self.provider_id, request, EvseStatusByIdResponse
            )
            records.extend(answer.EVSEStatusRecords.EvseStatusRecord)
            status = answer.StatusCode
        return EvseStatusByIdResponse(
            EVSEStatusRecords=EvseStatusRecords(EvseStatusRecord=records), StatusCode=status
        )

    async def pull_evse_status_by_operator(self, operator_ids: Sequence[str]) -> EvseStatusResponse:
        """eRoamingPullEvseStatusByOperatorID (row 15)."""
        request = PullEvseStatusByOperatorIdRequest(
            ProviderID=self.provider_id, OperatorID=list(operator_ids)
        )
        return await self.call(
            N.PULL_EVSE_STATUS_BY_OPERATOR_ID, self.provider_id, request, EvseStatusResponse
        )

    # ------------------------------------------------------------------ dynamic pricing

    async def pull_pricing_products(
        self, operator_ids: Sequence[str], *, last_call: DateTime | str | None = None
    ) -> PricingProductDataResponse:
        """eRoamingPullPricingProductData (row 18)."""
        request = PullPricingProductDataRequest(
            OperatorIDs=list(operator_ids), LastCall=_since(last_call)
        )
        return await self.call(
            N.PULL_PRICING_PRODUCT_DATA, self.provider_id, request, PricingProductDataResponse
        )

    async def pull_evse_pricing(
        self, operator_ids: Sequence[str], *, last_call: DateTime | str | None = None
    ) -> EvsePricingResponse:
        """eRoamingPullEVSEPricing (row 19)."""
        request = PullEvsePricingRequest(
            ProviderID=self.provider_id, OperatorIDs=list(operator_ids), LastCall=_since(last_call)
        )
        return await self.call(N.PULL_EVSE_PRICING, self.provider_id, request, EvsePricingResponse)
