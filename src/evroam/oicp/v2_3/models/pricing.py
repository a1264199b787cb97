"""Dynamic pricing (digest §1.3 rows 16-19; CPO/EMP services "eRoamingDynamicPricing"):
the CPO pushes pricing products and which products apply at which EVSE; the EMP pulls
both. Prices are decimals without VAT; ``ProviderID`` ``*`` offers to every EMP.

Spellings (digest §1.3 CONFLICTs): the availability periods of a product are
``Periods`` in the OpenAPI, the 2.2 Swagger and the snippets but ``Period`` in the
document's table (while EVSE opening times use ``Period``): both read, ``Periods``
emitted. The pulled EVSE pricing is under ``EVSEPricing`` in the files and the snippets
but ``OperatorEVSEPricing`` in the document: both read, ``EVSEPricing`` emitted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, Field

from evroam.oicp.v2_3.models.common import (
    ActionType,
    Bool,
    CurrencyIDType,
    DateTime,
    EvseIDType,
    Number,
    OperatorIDType,
    ProductIDType,
    ProviderIDOrAllType,
    ProviderIDType,
    StatusCode,
    WireModel,
    text,
)
from evroam.oicp.v2_3.models.evse import Day, Period

ActionTypeType = ActionType
StatusCodeType = StatusCode
_Price = Annotated[Number, Field(ge=0)]


class ReferenceUnit(StrEnum):
    HOUR = "HOUR"
    KILOWATT_HOUR = "KILOWATT_HOUR"
    MINUTE = "MINUTE"


class AdditionalReferenceType(StrEnum):
    START_FEE = "START FEE"
    FIXED_FEE = "FIXED FEE"
    PARKING_FEE = "PARKING FEE"
    MINIMUM_FEE = "MINIMUM FEE"
    MAXIMUM_FEE = "MAXIMUM FEE"


class ProductAvailabilityTimes(WireModel):
    Periods: list[Period] = Field(validation_alias=AliasChoices("Periods", "Period"))
    on: Day


class AdditionalReference(WireModel):
    AdditionalReference: AdditionalReferenceType
    AdditionalReferenceUnit: ReferenceUnit
    PricePerAdditionalReferenceUnit: _Price


class PricingProductDataRecord(WireModel):
    """One product; ``IsValid24hours`` false means ``ProductAvailabilityTimes`` says when
    it applies. ``MaximumProductChargingPower`` in kW."""

    ProductID: ProductIDType
    ReferenceUnit: ReferenceUnit
    ProductPriceCurrency: CurrencyIDType
    PricePerReferenceUnit: _Price
    MaximumProductChargingPower: Annotated[Number, Field(ge=0)]
    IsValid24hours: Bool
    ProductAvailabilityTimes: list[ProductAvailabilityTimes]
    AdditionalReferences: list[AdditionalReference] | None = None


ReferenceUnitType = ReferenceUnit


class PricingProductData(WireModel):
    """The products of one operator for one EMP (or ``*``)."""

    OperatorID: OperatorIDType
    OperatorName: Annotated[str, text(100)] | None = None
    ProviderID: ProviderIDOrAllType
    PricingDefaultPrice: _Price
    PricingDefaultPriceCurrency: CurrencyIDType
    PricingDefaultReferenceUnit: ReferenceUnitType
    PricingProductDataRecords: list[PricingProductDataRecord]


PricingProductDataType = PricingProductData


class PushPricingProductDataRequest(WireModel):
    """``eRoamingPushPricingProductData``."""

    ActionType: ActionTypeType
    PricingProductData: PricingProductDataType


class EvsePricing(WireModel):
    """``EVSEPricingType``: the products that apply at one EVSE for one EMP (or ``*``);
    ``EvseIDProductList`` is a list of plain product IDs (digest §8.4)."""

    EvseID: EvseIDType
    ProviderID: ProviderIDOrAllType
    EvseIDProductList: Annotated[list[ProductIDType], Field(min_length=1)]


class PushEvsePricingRequest(WireModel):
    """``eRoamingPushEVSEPricing``: one to n EVSE pricings."""

    ActionType: ActionTypeType
    EVSEPricing: Annotated[list[EvsePricing], Field(min_length=1)]


class PullPricingProductDataRequest(WireModel):
    """``eRoamingPullPricingProductData``: the EMP's ProviderID is in the path only."""

    LastCall: DateTime | None = None
    OperatorIDs: list[OperatorIDType]


class PricingProductDataResponse(WireModel):
    """``eRoamingPricingProductData``: the products, grouped per operator."""

    PricingProductData: list[PricingProductDataType]
    StatusCode: StatusCodeType | None = None


class PullEvsePricingRequest(WireModel):
    """``eRoamingPullEVSEPricing``."""

    ProviderID: ProviderIDType
    LastCall: DateTime | None = None
    OperatorIDs: list[OperatorIDType]


class OperatorEvsePricing(WireModel):
    OperatorID: OperatorIDType
    OperatorName: Annotated[str, text(100)] | None = None
    EVSEPricing: list[EvsePricing]


class EvsePricingResponse(WireModel):
    """``eRoamingEVSEPricing``."""

    EVSEPricing: list[OperatorEvsePricing] = Field(
        validation_alias=AliasChoices("EVSEPricing", "OperatorEVSEPricing")
    )
    StatusCode: StatusCodeType | None = None
