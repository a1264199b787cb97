"""The CPO's client: the eight operations a charge point operator calls on the hub
(``paths.OPERATIONS`` served by ``Server.HUB_FOR_CPO``; digest §1.2 rows 1, 2, 5, 10, 11,
16, 17, 20).

Every method sends under the client's own OperatorID, in the path and in the body; a
request model naming another operator is refused here (``ValueError``) before anything
is sent, since the hub would only answer 017 (digest §6). Pushes take the wire records
(:class:`~evroam.oicp.v2_3.models.evse.EvseDataRecord` and the like) or a whole request
(``send_*``); they are sequential per operation (:mod:`.client`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.models.authorization import (
    AuthorizationStartResponse,
    AuthorizationStopResponse,
    AuthorizeStartRequest,
    AuthorizeStopRequest,
)
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord
from evroam.oicp.v2_3.models.common import Acknowledgement, ActionType
from evroam.oicp.v2_3.models.evse import EvseDataRecord
from evroam.oicp.v2_3.models.evsedata import OperatorEvseData, PushEvseDataRequest
from evroam.oicp.v2_3.models.notifications import ChargingNotification
from evroam.oicp.v2_3.models.pricing import (
    EvsePricing,
    PricingProductData,
    PushEvsePricingRequest,
    PushPricingProductDataRequest,
)
from evroam.oicp.v2_3.models.status import (
    EvseStatus,
    EvseStatusRecord,
    OperatorEvseStatus,
    PushEvseStatusRequest,
)
from evroam.oicp.v2_3.partner.client import OicpClient, masked
from evroam.oicp.v2_3.paths import OperationName as N

log = logging.getLogger("evroam.oicp.client")


class CpoClient(OicpClient):
    """A CPO talking to a hub as ``operator_id`` (``DE*ABC``); ``operator_name`` goes
    into EVSE data pushes (``OperatorName`` is mandatory there). Connection options:
    :class:`~evroam.oicp.v2_3.partner.client.OicpClient`."""

    def __init__(
        self, url: str, operator_id: str, *, operator_name: str | None = None, **options: Any
    ) -> None:
        operator_id = operator_id.strip()
        if not ids.is_operator_id(operator_id):
            raise ValueError(f"{operator_id!r} is not an OperatorID (e.g. DE*ABC)")
        super().__init__(url, **options)
        self.operator_id = operator_id
        self.operator_name = operator_name or operator_id

    def _own(self, operator_id: str, where: str) -> None:
        if ids.canonical_operator(operator_id) != ids.canonical_operator(self.operator_id):
            raise ValueError(f"{where} names {operator_id!r}, not this client's {self.operator_id}")

    # ------------------------------------------------------------------ EVSE data and status

    async def send_evse_data(self, request: PushEvseDataRequest) -> Acknowledgement:
        """eRoamingPushEvseData as given (row 10)."""
        self._own(request.OperatorEvseData.OperatorID, "OperatorEvseData.OperatorID")
        return await self.call(N.PUSH_EVSE_DATA, self.operator_id, request, Acknowledgement)

    async def push_evse_data(
        self,
        records: Iterable[EvseDataRecord],
        action: ActionType = ActionType.FULL_LOAD,
        *,
        operator_name: str | None = None,
    ) -> Acknowledgement:
        """Push ``records``: ``fullLoad`` replaces the operator's whole set at the hub,
        ``insert``/``update``/``delete`` change single records."""
        request = PushEvseDataRequest(
            ActionType=action,
            OperatorEvseData=OperatorEvseData(
                OperatorID=self.operator_id,
                OperatorName=operator_name or self.operator_name,
                EvseDataRecord=list(records),
            ),
        )
        return await self.send_evse_data(request)

    async def send_evse_status(self, request: PushEvseStatusRequest) -> Acknowledgement:
        """eRoamingPushEvseStatus as given (row 11)."""
        self._own(request.OperatorEvseStatus.OperatorID, "OperatorEvseStatus.OperatorID")
        return await self.call(N.PUSH_EVSE_STATUS, self.operator_id, request, Acknowledgement)

    async def push_evse_status(
        self,
        statuses: Mapping[str, EvseStatus | str],
        action: ActionType = ActionType.UPDATE,
    ) -> Acknowledgement:
        """Push ``{EvseID: status}``; ``update`` by default (a status change),
        ``fullLoad`` to replace every status of the operator."""
        request = PushEvseStatusRequest(
            ActionType=action,
            OperatorEvseStatus=OperatorEvseStatus(
                OperatorID=self.operator_id,
                OperatorName=self.operator_name,
                EvseStatusRecord=[
                    EvseStatusRecord(EvseID=evse, EvseStatus=EvseStatus(status))
                    for evse, status in statuses.items()
                ],
            ),
        )
        return await self.send_evse_status(request)

    # ------------------------------------------------------------------ dynamic pricing

    async def push_pricing_products(
        self, data: PricingProductData, action: ActionType = ActionType.FULL_LOAD
    ) -> Acknowledgement:
        """eRoamingPushPricingProductData (row 16)."""
        self._own(data.OperatorID, "PricingProductData.OperatorID")
        request = PushPricingProductDataRequest(ActionType=action, PricingProductData=data)
        return await self.call(
            N.PUSH_PRICING_PRODUCT_DATA, self.operator_id, request, Acknowledgement
        )

    async def push_evse_pricing(
        self, pricing: Iterable[EvsePricing], action: ActionType = ActionType.FULL_LOAD
    ) -> Acknowledgement:
        """eRoamingPushEVSEPricing (row 17): which products apply at which EVSE."""
        request = PushEvsePricingRequest(ActionType=action, EVSEPricing=list(pricing))
        for item in request.EVSEPricing:
            self._own(ids.operator_of_evse(item.EvseID), f"EvseID {item.EvseID}")
        return await self.call(N.PUSH_EVSE_PRICING, self.operator_id, request, Acknowledgement)

    # ------------------------------------------------------------------ sessions

    async def authorize_start(self, request: AuthorizeStartRequest) -> AuthorizationStartResponse:
        """eRoamingAuthorizeStart (row 1). ``NotAuthorized`` is an answer, not an error:
        read ``AuthorizationStatus`` and ``StatusCode``."""
        self._own(request.OperatorID, "OperatorID")
        answer = await self.call(
            N.AUTHORIZE_START, self.operator_id, request, AuthorizationStartResponse
        )
        log.info(
            "authorize start %s at %s: %s",
            masked(request.Identification.evco_id or request.Identification.uid),
            request.EvseID or "-",
            answer.AuthorizationStatus,
        )
        return answer

    async def authorize_stop(self, request: AuthorizeStopRequest) -> AuthorizationStopResponse:
        """eRoamingAuthorizeStop (row 2)."""
        self._own(request.OperatorID, "OperatorID")
        return await self.call(
            N.AUTHORIZE_STOP, self.operator_id, request, AuthorizationStopResponse
        )

    async def send_cdr(self, cdr: ChargeDetailRecord) -> Acknowledgement:
        """eRoamingChargeDetailRecord (row 5): one per session, after it ended."""
        self._own(ids.operator_of_evse(cdr.EvseID), f"EvseID {cdr.EvseID}")
        return await self.call(N.CHARGE_DETAIL_RECORD, self.operator_id, cdr, Acknowledgement)

    async def send_notification(self, notification: ChargingNotification) -> Acknowledgement:
        """eRoamingChargingNotification (row 20): Start, Progress, End or Error."""
        self._own(notification.root.OperatorID, "OperatorID")
        return await self.call(N.CHARGING_NOTIFICATION, None, notification, Acknowledgement)
