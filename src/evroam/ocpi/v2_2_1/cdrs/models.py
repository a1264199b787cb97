"""OCPI 2.2.1 CDRs wire models (mod_cdrs.asciidoc §"Object description", §"Data types").

CDRs never change after they were sent (mod_cdrs §"Flow and Lifecycle"), so there is no
``CDRPatch``: a correction is a Credit CDR with a new id (§"Credit CDRs"). Embedded
tariffs are validated as the Tariffs module's 2.2.1 :class:`Tariff` (mod_tariffs
§"Tariff Object"): a CDR carries the tariffs as they were at session start. Types
several 2.2.1 modules share come from ``v2_2_1/types.py``.

Two CDR shapes: :class:`CDR` is what evroam itself sends (every field as the tables
say), :class:`ReceivedCDR` what a Receiver accepts: the same, except that the
``cdr_token`` may lack ``country_code``/``party_id``. Those two fields were added in
2.2.1 and the spec's own CDR example (and CPOs built on 2.2) omits them; refusing a CDR
loses a bill, since OCPI has no retries (transport_and_format §"No queuing").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from evroam.ocpi.common.types import CiString, DateTime, String, WireModel
from evroam.ocpi.v2_2_1.credentials.models import CountryCode, PartyId
from evroam.ocpi.v2_2_1.tariffs.models import Tariff
from evroam.ocpi.v2_2_1.types import (
    AuthMethod,
    ChargingPeriod,
    ConnectorFormat,
    ConnectorType,
    Currency,
    GeoLocation,
    PowerType,
    Price,
    TokenType,
)

# JSON number (types §"number"): a string or NaN is a wrong type, an int is a number.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Int = Annotated[int, Field(strict=True)]
Bool = Annotated[bool, Field(strict=True)]


class ReceivedCdrToken(WireModel):
    """A CdrToken as a Receiver accepts it: without ``country_code``/``party_id`` too
    (the module docstring says why); stored and served back as it came."""

    country_code: CountryCode | None = None
    party_id: PartyId | None = None
    uid: Annotated[str, CiString(36)]
    type: TokenType
    contract_id: Annotated[str, CiString(36)]


class CdrToken(ReceivedCdrToken):
    """mod_cdrs §"CdrToken class": the token's owner (the eMSP), then the token."""

    country_code: CountryCode
    party_id: PartyId


class CdrLocation(WireModel):
    id: Annotated[str, CiString(36)]
    name: Annotated[str, String(255)] | None = None
    address: Annotated[str, String(45)]
    city: Annotated[str, String(45)]
    postal_code: Annotated[str, String(10)] | None = None
    state: Annotated[str, String(20)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", strict=True)]
    coordinates: GeoLocation
    evse_uid: Annotated[str, CiString(36)]
    evse_id: Annotated[str, CiString(48)]
    connector_id: Annotated[str, CiString(36)]
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(WireModel):
    nature: Annotated[str, CiString(32)]
    plain_data: Annotated[str, String(512)]
    signed_data: Annotated[str, String(5000)]


class SignedData(WireModel):
    encoding_method: Annotated[str, CiString(36)]
    encoding_method_version: Int | None = None
    public_key: Annotated[str, String(512)] | None = None
    signed_values: Annotated[list[SignedValue], Field(min_length=1)]
    url: Annotated[str, String(512)] | None = None


class ReceivedCDR(WireModel):
    """mod_cdrs §"CDR Object", as a Receiver accepts it (see :class:`ReceivedCdrToken`).

    ``id`` is CiString(39) so that a Credit CDR can append to the original id; a normal
    CDR's id stays within 36, and a Credit CDR names the CDR it credits
    (``credit_reference_id``)."""

    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, CiString(39), StringConstraints(min_length=1)]
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: Annotated[str, CiString(36)] | None = None
    cdr_token: ReceivedCdrToken
    auth_method: AuthMethod
    authorization_reference: Annotated[str, CiString(36)] | None = None
    cdr_location: CdrLocation
    meter_id: Annotated[str, String(255)] | None = None
    currency: Currency
    tariffs: list[Tariff] | None = None
    charging_periods: Annotated[list[ChargingPeriod], Field(min_length=1)]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Number
    total_energy_cost: Price | None = None
    total_time: Number
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: Annotated[str, String(255)] | None = None
    invoice_reference_id: Annotated[str, CiString(39)] | None = None
    credit: Bool | None = None
    credit_reference_id: Annotated[str, CiString(39)] | None = None
    home_charging_compensation: Bool | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _credit_rules(self) -> ReceivedCDR:
        if not self.credit and len(self.id) > 36:
            raise ValueError(
                "id: at most 36 characters unless credit is true (only a Credit CDR may use 39)"
            )
        if self.credit and not self.credit_reference_id:
            raise ValueError("credit_reference_id is required when credit is true")
        return self


class CDR(ReceivedCDR):
    """A CDR as evroam sends it: every field the tables require, the token's owner too."""

    cdr_token: CdrToken
