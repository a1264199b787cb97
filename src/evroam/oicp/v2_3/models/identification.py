"""``Identification``: how a driver identified itself, one of five media (CPO/EMP data
types "IdentificationType"; digest §4, §8.5, §8.6).

The model holds exactly one member: Hubject's own examples fill all five at once, which
no real message does (digest §8.5). Which members an *operation* admits is a rule of the
process, not of the shape, so the model accepts any one member and the hub asks
:func:`identification_problem` with the operation's :class:`IdentificationUse`:

* authorization (AuthorizeStart/Stop): RFID as ``RFIDMifareFamilyIdentification`` (never
  ``RFIDIdentification``), QR code with the clear ``PIN`` and no ``HashedPIN``, or
  Plug&Charge; ``RemoteIdentification`` belongs to remote authorization only;
* remote authorization (remote start, reservation start): ``RemoteIdentification`` only;
* authentication data uploads: any medium; a QR code carries a ``PIN`` or a
  ``HashedPIN``, not both;
* records (CDR, charging notifications, stop identifications): whatever was used.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import model_validator

from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.models.common import (
    DateTime,
    EvcoIDType,
    HashValueType,
    UIDType,
    WireModel,
    text,
)


class RFIDType(StrEnum):
    MIFARE_CLASSIC = "mifareCls"
    MIFARE_DESFIRE = "mifareDes"
    CALYPSO = "calypso"
    NFC = "nfc"
    MIFARE_FAMILY = "mifareFamily"


class HashFunction(StrEnum):
    BCRYPT = "Bcrypt"


class LegacyHashFunction(StrEnum):
    MD5 = "MD5"
    SHA_1 = "SHA-1"


class RFIDMifareFamilyIdentification(WireModel):
    """The medium for RFID *authorization*. The UID is accepted in either case
    (Hubject upper-cases it); compare with :func:`ids.canonical_uid`."""

    UID: UIDType


class RFIDIdentification(WireModel):
    """An RFID card with its details, for authentication data uploads only."""

    UID: UIDType
    RFID: RFIDType
    EvcoID: EvcoIDType | None = None
    PrintedNumber: Annotated[str, text(150)] | None = None
    ExpiryDate: DateTime | None = None


class LegacyHashData(WireModel):
    """OICP 2.1 hashing data, unused since; kept so such uploads still parse."""

    Function: LegacyHashFunction
    Salt: Annotated[str, text(100)] | None = None
    Value: Annotated[str, text(20)] | None = None


LegacyHashDataType = LegacyHashData


class HashedPIN(WireModel):
    Value: HashValueType
    Function: HashFunction
    LegacyHashData: LegacyHashDataType | None = None


HashedPINType = HashedPIN


class QRCodeIdentification(WireModel):
    EvcoID: EvcoIDType
    HashedPIN: HashedPINType | None = None
    PIN: Annotated[str, text(20)] | None = None


class PlugAndChargeIdentification(WireModel):
    """ISO 15118 contract (EMAID)."""

    EvcoID: EvcoIDType


class RemoteIdentification(WireModel):
    EvcoID: EvcoIDType


RFIDMifareFamilyIdentificationType = RFIDMifareFamilyIdentification
RFIDIdentificationType = RFIDIdentification
QRCodeIdentificationType = QRCodeIdentification
PlugAndChargeIdentificationType = PlugAndChargeIdentification
RemoteIdentificationType = RemoteIdentification


class Member(StrEnum):
    """The five members, by wire name."""

    RFID_MIFARE_FAMILY = "RFIDMifareFamilyIdentification"
    RFID = "RFIDIdentification"
    QR_CODE = "QRCodeIdentification"
    PLUG_AND_CHARGE = "PlugAndChargeIdentification"
    REMOTE = "RemoteIdentification"


class Identification(WireModel):
    """Exactly one of the five members (CPO data types "IdentificationType")."""

    RFIDMifareFamilyIdentification: RFIDMifareFamilyIdentificationType | None = None
    RFIDIdentification: RFIDIdentificationType | None = None
    QRCodeIdentification: QRCodeIdentificationType | None = None
    PlugAndChargeIdentification: PlugAndChargeIdentificationType | None = None
    RemoteIdentification: RemoteIdentificationType | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Identification:
        given = [name for name in Member if getattr(self, name.value) is not None]
        if len(given) != 1:
            raise ValueError(
                "Identification must hold exactly one of "
                + ", ".join(m.value for m in Member)
                + (f"; got {', '.join(given)}" if given else "; got none")
            )
        return self

    @property
    def member(self) -> Member:
        """Which medium this is."""
        for name in Member:
            if getattr(self, name.value) is not None:
                return name
        raise AssertionError("validated to hold one member")  # pragma: no cover

    @property
    def evco_id(self) -> str | None:
        """The contract ID it carries, if any (QR, Plug&Charge, remote; an RFID card
        record may name one too)."""
        medium = getattr(self, self.member.value)
        value = getattr(medium, "EvcoID", None)
        return value if isinstance(value, str) else None

    @property
    def uid(self) -> str | None:
        medium = getattr(self, self.member.value)
        value = getattr(medium, "UID", None)
        return value if isinstance(value, str) else None

    def provider(self) -> str | None:
        """The canonical ProviderID the medium routes to: the EvcoID's prefix for QR,
        Plug&Charge and remote identifications; ``None`` for an RFID card, whose UID
        names no provider (offline lookup or broadcast, digest §1.3)."""
        if self.member in (Member.RFID_MIFARE_FAMILY, Member.RFID):
            return None
        evco = self.evco_id
        return ids.provider_of_evco(evco) if evco else None


class IdentificationUse(StrEnum):
    """The process an Identification travels in; each admits its own members."""

    AUTHORIZATION = "authorization"
    REMOTE_AUTHORIZATION = "remote authorization"
    AUTHENTICATION_DATA = "authentication data"
    RECORD = "record"


_ALLOWED: dict[IdentificationUse, frozenset[Member]] = {
    IdentificationUse.AUTHORIZATION: frozenset(
        {Member.RFID_MIFARE_FAMILY, Member.QR_CODE, Member.PLUG_AND_CHARGE}
    ),
    IdentificationUse.REMOTE_AUTHORIZATION: frozenset({Member.REMOTE}),
    IdentificationUse.AUTHENTICATION_DATA: frozenset(Member),
    IdentificationUse.RECORD: frozenset(Member),
}


def allowed_members(use: IdentificationUse) -> frozenset[Member]:
    return _ALLOWED[use]


def identification_problem(use: IdentificationUse, identification: Identification) -> str | None:
    """What is wrong with ``identification`` for ``use``, in words for the partner (the
    hub answers it with 022), or ``None`` when it is allowed."""
    member = identification.member
    if member not in _ALLOWED[use]:
        allowed = ", ".join(sorted(m.value for m in _ALLOWED[use]))
        return f"{member.value} is not allowed in {use.value}; use {allowed}"
    qr = identification.QRCodeIdentification
    if qr is not None:
        if use is IdentificationUse.AUTHORIZATION:
            if qr.HashedPIN is not None:
                return "QRCodeIdentification in authorization carries the PIN, not HashedPIN"
            if qr.PIN is None:
                return "QRCodeIdentification in authorization needs the PIN"
        elif use is IdentificationUse.AUTHENTICATION_DATA:
            if qr.HashedPIN is not None and qr.PIN is not None:
                return "QRCodeIdentification carries either PIN or HashedPIN, not both"
    return None
