"""eRoamingDynamicPricing: PushPricingProductData and PushEVSEPricing (CPO),
PullPricingProductData and PullEVSEPricing (EMP); digest §1.3 rows 16-19, paths from
the operation table. What each does with the data: ``services/oicp/pricing.py``.

The pricing product pull has no ProviderID in its body (the path carries it); the EVSE
pricing pull has one, and it must be the caller's like the path's (017).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from evroam.core.oicp import ALL_PROVIDERS, EvsePricingEntry
from evroam.core.oicp import ActionType as CoreAction
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import CallerDep, HubDep, acting_operator, acting_provider, parse_body
from evroam.oicp.v2_3.models.common import Acknowledgement, StatusCode
from evroam.oicp.v2_3.models.pricing import (
    EvsePricing,
    EvsePricingResponse,
    OperatorEvsePricing,
    PricingProductData,
    PricingProductDataResponse,
    PullEvsePricingRequest,
    PullPricingProductDataRequest,
    PushEvsePricingRequest,
    PushPricingProductDataRequest,
)
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import pricing as service

PUSH_PRODUCTS_PATH = operation(N.PUSH_PRICING_PRODUCT_DATA).template
PUSH_EVSE_PRICING_PATH = operation(N.PUSH_EVSE_PRICING).template
PULL_PRODUCTS_PATH = operation(N.PULL_PRICING_PRODUCT_DATA).template
PULL_EVSE_PRICING_PATH = operation(N.PULL_EVSE_PRICING).template

router = APIRouter(tags=["eRoamingDynamicPricing"])

Answer = dict[str, Any]


def _success() -> StatusCode:
    return StatusCode.of(Code.SUCCESS)


def _ack() -> Answer:
    return Acknowledgement.model_validate({"Result": True, "StatusCode": _success()}).to_wire()


def provider_key(provider_id: str) -> str:
    """A ProviderID (or ``*``) as offers are keyed."""
    return ALL_PROVIDERS if provider_id == ALL_PROVIDERS else ids.canonical_provider(provider_id)


@router.post(PUSH_PRODUCTS_PATH, summary="eRoamingPushPricingProductData")
async def push_pricing_product_data(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    acting_operator(caller, operatorID)
    push = await parse_body(request, PushPricingProductDataRequest)
    data = push.PricingProductData
    operator = acting_operator(caller, operatorID, data.OperatorID)
    await service.push_pricing_products(
        hub.uow,
        operator,
        CoreAction(push.ActionType.value),
        provider_key(data.ProviderID),
        data.to_wire(),
        datetime.now(UTC),
    )
    return _ack()


@router.post(PUSH_EVSE_PRICING_PATH, summary="eRoamingPushEVSEPricing")
async def push_evse_pricing(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    operator = acting_operator(caller, operatorID)
    push = await parse_body(request, PushEvsePricingRequest)
    entries = [
        EvsePricingEntry(
            operator=ids.operator_of_evse(p.EvseID),
            evse_id=p.EvseID,
            canonical_evse_id=ids.canonical(p.EvseID),
            provider=provider_key(p.ProviderID),
            provider_id=p.ProviderID,
            products=tuple(p.EvseIDProductList),
        )
        for p in push.EVSEPricing
    ]
    await service.push_evse_pricing(
        hub.uow, operator, CoreAction(push.ActionType.value), entries, datetime.now(UTC)
    )
    return _ack()


@router.post(PULL_PRODUCTS_PATH, summary="eRoamingPullPricingProductData")
async def pull_pricing_product_data(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    provider = acting_provider(caller, providerID)
    pull = await parse_body(request, PullPricingProductDataRequest)
    offers = await service.pull_pricing_products(
        hub.uow,
        provider,
        [ids.canonical_operator(o) for o in pull.OperatorIDs],
        None if pull.LastCall is None else pull.LastCall.value,
    )
    return PricingProductDataResponse(
        PricingProductData=[PricingProductData.model_validate(o) for o in offers],
        StatusCode=_success(),
    ).to_wire()


@router.post(PULL_EVSE_PRICING_PATH, summary="eRoamingPullEVSEPricing")
async def pull_evse_pricing(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Answer:
    acting_provider(caller, providerID)
    pull = await parse_body(request, PullEvsePricingRequest)
    provider = acting_provider(caller, providerID, pull.ProviderID)
    groups = await service.pull_evse_pricing(
        hub.uow,
        provider,
        [ids.canonical_operator(o) for o in pull.OperatorIDs],
        None if pull.LastCall is None else pull.LastCall.value,
    )
    return EvsePricingResponse(
        EVSEPricing=[
            OperatorEvsePricing(
                OperatorID=partner.partner_id,
                OperatorName=partner.name,
                EVSEPricing=[
                    EvsePricing(
                        EvseID=e.evse_id,
                        ProviderID=e.provider_id,
                        EvseIDProductList=list(e.products),
                    )
                    for e in entries
                ],
            )
            for partner, entries in groups
        ],
        StatusCode=_success(),
    ).to_wire()
