"""Building blocks of the OICP 2.3 wire models: the base model, the date-time type that
keeps the text it was given, the constrained string types, StatusCode, the
acknowledgement, InfoText and ActionType.

Reading rules shared by every model (digest §8.12, NOTES.md D4/D5):

* ``null`` reads as absent: optional fields default to ``None`` and real Hubject answers
  carry ``"Description": null`` and the like. A ``null`` where a value is mandatory is
  refused like a missing one.
* Unknown fields are ignored (the files declare no ``additionalProperties: false`` and
  Spring adds fields such as ``sort``), and never emitted: a model only dumps its own.
* Attribute names are the wire names, so ``model_dump(by_alias=True, exclude_none=True)``
  is the wire JSON (:meth:`WireModel.to_wire`). Where Hubject's sources spell a field in
  more than one way the other spellings are accepted through ``validation_alias`` and
  the field's own name is emitted; each such field says which defect it covers.
* Lengths are enforced here (the OpenAPI files put them in ``maximum``, which a string
  validator ignores: D5), patterns are the ones of :mod:`evroam.oicp.v2_3.ids` and run in
  pydantic-core (no per-field Python validator, so a 50,000-record push parses fast).
* Decimal quantities (energy, prices, power) are :class:`~decimal.Decimal` and leave as
  JSON numbers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    StrictBool,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code as OicpCode

ItemT = TypeVar("ItemT")

# --------------------------------------------------------------------------- base model


class WireModel(BaseModel):
    """Base of every OICP wire model (reading rules in the module docstring)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON object to send: wire names, no ``None`` fields, JSON-native values
        (decimals as numbers, date-times as the text received)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


# --------------------------------------------------------------------------- date-time

# ISO 8601 complete date and time with seconds and a mandatory offset (digest §4
# "Date-time"); fractional seconds and ``Z`` as Hubject's own examples use them.
_DATE_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$",
    re.ASCII,
)


class DateTime:
    """An OICP date-time: the exact text received (offset, ``Z`` and fractional digits
    kept, digest §4 and §8.9: the hub stores and forwards it unchanged) and the aware
    :class:`datetime` it denotes, for comparisons (``.value``).

    Equality is on the text, so a round trip is byte for byte; order by ``.value``.
    """

    __slots__ = ("text", "value")

    text: str
    value: datetime

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or _DATE_TIME.fullmatch(text) is None:
            raise ValueError(
                "must be an ISO 8601 date-time with seconds and an offset, "
                "e.g. 2014-02-01T15:45:00+02:00 or 2020-09-23T14:17:53.038Z"
            )
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not a valid date-time (a field out of range)") from None
        self.text = text
        self.value = value

    @classmethod
    def of(cls, moment: datetime) -> Self:
        """The date-time of an aware ``moment`` (UTC as ``Z``, milliseconds)."""
        if moment.tzinfo is None:
            raise ValueError("a naive datetime has no offset")
        if moment.utcoffset() == UTC.utcoffset(None):
            text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
            return cls(text.replace("+00:00", "Z"))
        return cls(moment.isoformat(timespec="milliseconds"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateTime) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"DateTime({self.text!r})"

    @classmethod
    def _validate(cls, value: Any) -> DateTime:
        if isinstance(value, DateTime):
            return value
        if isinstance(value, datetime):
            return cls.of(value)
        if isinstance(value, str):
            return cls(value)
        raise ValueError("must be a date-time string")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.text, when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time"}


# --------------------------------------------------------------------------- numbers


def _number(value: Decimal) -> int | float:
    """A decimal as a JSON number: integral values as integers (``10``, not ``10.0``)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _not_text(value: Any) -> Any:
    """A quantity is a JSON number: ``"22"`` is refused like any other type error (the
    decimal parser alone would take it)."""
    if isinstance(value, str):
        raise ValueError("must be a number, not a string")
    return value


#: A decimal quantity; a JSON number on the wire, a Decimal in Python.
Number = Annotated[
    Decimal,
    BeforeValidator(_not_text),
    PlainSerializer(_number, return_type=int | float, when_used="json-unless-none"),
]


# --------------------------------------------------------------------------- strings


def text(max_length: int, min_length: int = 0) -> StringConstraints:
    """A string of ``min_length``..``max_length`` characters (digest §1.3 lengths)."""
    return StringConstraints(strict=True, max_length=max_length, min_length=min_length)


def pattern(regex: re.Pattern[str]) -> StringConstraints:
    """A string matching one of :mod:`ids`' patterns (checked in pydantic-core)."""
    return StringConstraints(strict=True, pattern=regex.pattern)


OperatorIDType = Annotated[str, pattern(ids.OPERATOR_ID)]
ProviderIDType = Annotated[str, pattern(ids.PROVIDER_ID)]
ProviderIDOrAllType = Annotated[str, pattern(ids.PROVIDER_ID_OR_ALL)]
EvseIDType = Annotated[str, pattern(ids.EVSE_ID)]
EvcoIDType = Annotated[str, pattern(ids.EVCO_ID)]
UIDType = Annotated[str, pattern(ids.UID_ANY_CASE)]
SessionIDType = Annotated[str, pattern(ids.SESSION_ID)]
ChargingPoolIDType = Annotated[str, pattern(ids.CHARGING_POOL_ID)]
HashValueType = Annotated[str, pattern(ids.HASH_VALUE)]
PhoneNumberType = Annotated[str, pattern(ids.PHONE_NUMBER)]
LanguageCodeType = Annotated[str, pattern(ids.LANGUAGE_CODE)]
#: ``CPOPartnerSessionID``/``EMPPartnerSessionID``: the partners' own session keys.
PartnerSessionIDType = Annotated[str, text(250)]
#: ``ProductID``: a free string of at most 50 (``AC1``, ``Standard Price``, custom).
ProductIDType = Annotated[str, text(50)]
#: ISO 3166-1 alpha-3 (addresses and filters, unlike the alpha-2 inside IDs).
CountryCodeType = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")]
#: ISO 4217.
CurrencyIDType = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")]
#: ``HH:MM`` (the published pattern is unanchored; a 24:00 end of day is allowed).
HourMinuteType = Annotated[
    str, StringConstraints(strict=True, pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")
]
Bool = StrictBool


# --------------------------------------------------------------------------- common types


class ActionType(StrEnum):
    """How a push applies to the partner's current set (digest §1.3 "ActionType")."""

    FULL_LOAD = "fullLoad"
    UPDATE = "update"
    INSERT = "insert"
    DELETE = "delete"


class StatusCode(WireModel):
    """``Code`` is the three-character string (``"000"``), never a number (§8.2); a
    partner's code outside the table still parses (``known`` says whether it is one)."""

    Code: Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{3}$")]
    Description: Annotated[str, text(200)] | None = None
    AdditionalInfo: Annotated[str, text(1000)] | None = None

    KNOWN: ClassVar[frozenset[str]] = frozenset(c.value for c in OicpCode)

    @property
    def known(self) -> bool:
        return self.Code in self.KNOWN

    @classmethod
    def of(cls, code: OicpCode, additional_info: str | None = None) -> StatusCode:
        """The status for one of our codes, with its standard description."""
        info = additional_info[:1000] if additional_info else None
        return cls(Code=code.value, Description=code.description, AdditionalInfo=info)


StatusCodeType = StatusCode


class PartnerSessions(WireModel):
    """The partners' own session keys, echoed on every message of a session (digest
    §3). ``EMPPartnerSessionId`` is the reservation schemas' misspelling (NOTES.md D4:
    their examples and the specification write ``...ID``): read, never emitted."""

    CPOPartnerSessionID: PartnerSessionIDType | None = None
    EMPPartnerSessionID: PartnerSessionIDType | None = Field(
        None, validation_alias=AliasChoices("EMPPartnerSessionID", "EMPPartnerSessionId")
    )


class Acknowledgement(PartnerSessions):
    """``eRoamingAcknowledgement`` (spelled ``eRoamingAcknowledgment`` in the files):
    ``Result`` true means received *and* performed (digest §2)."""

    Result: Bool
    StatusCode: StatusCodeType
    SessionID: SessionIDType | None = None


class InfoText(WireModel):
    """``InfoTextType``: a text in a language (names, additional info)."""

    lang: LanguageCodeType
    value: Annotated[str, text(150)]


class MeterValues(WireModel):
    """``MeterValueInBetween`` is an object holding the list, not a bare list (§8.4)."""

    meterValues: list[Number]


# --------------------------------------------------------------------------- paged answers


class PageSort(WireModel):
    sorted: Bool | None = None
    unsorted: Bool | None = None
    empty: Bool | None = None


class Pageable(WireModel):
    """Spring's ``pageable`` block, present in real answers and in the CDR page schema."""

    sort: PageSort | None = None
    pageNumber: Annotated[int, Field(ge=0, strict=True)] | None = None
    pageSize: Annotated[int, Field(ge=0, strict=True)] | None = None
    offset: Annotated[int, Field(ge=0, strict=True)] | None = None
    paged: Bool | None = None
    unpaged: Bool | None = None


_Count = Annotated[int, Field(ge=0, strict=True)]


class Page(WireModel, Generic[ItemT]):
    """A Spring Data ``Page`` (digest §5): the answer of PullEvseData and
    GetChargeDetailRecords. ``content`` and the counters are mandatory; ``empty`` and
    ``pageable`` are read when present (build one with :mod:`evroam.oicp.v2_3.pages`)."""

    content: list[ItemT]
    number: _Count
    size: _Count
    totalElements: _Count
    totalPages: _Count
    numberOfElements: _Count
    first: Bool
    last: Bool
    empty: Bool | None = None
    pageable: Pageable | None = None
    StatusCode: StatusCodeType
