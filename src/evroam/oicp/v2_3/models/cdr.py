"""Charge detail records (digest §1.3 rows 5-6; CPO/EMP services
"eRoamingChargeDetailRecord"): the CPO sends one CDR per session to the hub, which
forwards it to online EMPs; offline EMPs fetch them with GetChargeDetailRecords, a paged
query on the date the hub *received* them.

Spellings (NOTES.md D4): the EMP schema writes ``HubProviderId`` and ``CDRForwarder``,
while its own examples, the CPO file and the specification write ``HubProviderID`` and
``CDRForwarded``: both are read, the latter emitted. GetChargeDetailRecords'
``OperatorID`` is one OperatorID in the document and the schema but a list in a code
snippet (digest §1.3 CONFLICT): a list is read as well and kept as given.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, Field

from evroam.oicp.v2_3.models.common import (
    Bool,
    DateTime,
    EvseIDType,
    MeterValues,
    Number,
    OperatorIDType,
    Page,
    PartnerSessions,
    ProductIDType,
    ProviderIDType,
    SessionIDType,
    WireModel,
    text,
)
from evroam.oicp.v2_3.models.identification import Identification

IdentificationType = Identification
MeterValuesType = MeterValues


class MeteringStatus(StrEnum):
    START = "Start"
    PROGRESS = "Progress"
    END = "End"


MeteringStatusType = MeteringStatus


class SignedMeteringValue(WireModel):
    """Required in a CDR when the EVSE's ``CalibrationLawDataAvailability`` is
    ``External`` (the hub checks that against the EVSE data, not the model)."""

    SignedMeteringValue: Annotated[str, text(3000)] | None = None
    MeteringStatus: MeteringStatusType | None = None


class CalibrationLawVerificationInfo(WireModel):
    CalibrationLawCertificateID: Annotated[str, text(100)] | None = None
    PublicKey: Annotated[str, text(1000)] | None = None
    MeteringSignatureUrl: Annotated[str, text(200)] | None = None
    MeteringSignatureEncodingFormat: Annotated[str, text(50)] | None = None
    SignedMeteringValuesVerificationInstruction: Annotated[str, text(400)] | None = None


CalibrationLawVerificationInfoType = CalibrationLawVerificationInfo
_Energy = Annotated[Number, Field(ge=0)]


class ChargeDetailRecord(PartnerSessions):
    """``eRoamingChargeDetailRecord``: ``ConsumedEnergy`` in kWh (a decimal, three
    places in the specification); at most ten signed metering values."""

    SessionID: SessionIDType
    PartnerProductID: ProductIDType | None = None
    EvseID: EvseIDType
    Identification: IdentificationType
    ChargingStart: DateTime
    ChargingEnd: DateTime
    SessionStart: DateTime
    SessionEnd: DateTime
    MeterValueStart: _Energy | None = None
    MeterValueEnd: _Energy | None = None
    MeterValueInBetween: MeterValuesType | None = None
    ConsumedEnergy: _Energy
    SignedMeteringValues: Annotated[list[SignedMeteringValue], Field(max_length=10)] | None = None
    CalibrationLawVerificationInfo: CalibrationLawVerificationInfoType | None = None
    HubOperatorID: OperatorIDType | None = None
    HubProviderID: ProviderIDType | None = Field(
        None, validation_alias=AliasChoices("HubProviderID", "HubProviderId")
    )


class GetChargeDetailRecordsRequest(WireModel):
    """``eRoamingGetChargeDetailRecords``: ``From``/``To`` bound the hub's receipt
    time; ``CDRForwarded`` false asks for the CDRs whose forward failed."""

    ProviderID: ProviderIDType
    From: DateTime
    To: DateTime
    SessionID: list[SessionIDType] | None = None
    OperatorID: OperatorIDType | list[OperatorIDType] | None = None
    CDRForwarded: Bool | None = Field(
        None, validation_alias=AliasChoices("CDRForwarded", "CDRForwarder")
    )

    def operator_ids(self) -> list[str]:
        """The operator filter as a list, whichever form it came in."""
        if self.OperatorID is None:
            return []
        return [self.OperatorID] if isinstance(self.OperatorID, str) else list(self.OperatorID)


#: ``eRoamingChargeDetailRecords``: the paged answer of GetChargeDetailRecords.
ChargeDetailRecordPage = Page[ChargeDetailRecord]
