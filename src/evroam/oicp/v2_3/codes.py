"""The OICP 2.3 status codes (the ``StatusCode.Code`` of every answer).

``Code`` travels as a three-character string (``"000"``, never ``0``); automated
processing looks only at it, ``Description`` carries the standard text. The groups are
the specification's, not HTTP's: 3xx are session codes, 5xx-7xx EVSE codes, and 400 is
"Session is invalid" (digest §2). The list is complete: a code outside it is not OICP.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    SUCCESS = "000"
    SYSTEM_ERROR = "001"
    DATABASE_ERROR = "002"
    DATA_TRANSACTION_ERROR = "009"
    UNAUTHORIZED_ACCESS = "017"
    INCONSISTENT_EVSE_ID = "018"
    INCONSISTENT_EVCO_ID = "019"
    GENERAL_SYSTEM_ERROR = "021"
    DATA_ERROR = "022"
    QR_CODE_AUTHENTICATION_FAILED = "101"
    RFID_AUTHENTICATION_FAILED_INVALID_UID = "102"
    RFID_AUTHENTICATION_FAILED_CARD_NOT_READABLE = "103"
    PLC_AUTHENTICATION_FAILED_INVALID_EVCO_ID = "105"
    NO_POSITIVE_AUTHENTICATION_RESPONSE = "106"
    QR_CODE_APP_AUTHENTICATION_TIMEOUT = "110"
    PLC_INVALID_UNDERLYING_EVCO_ID = "120"
    PLC_INVALID_CERTIFICATE = "121"
    PLC_TIMEOUT = "122"
    EVCO_ID_LOCKED = "200"
    NO_VALID_CONTRACT = "210"
    PARTNER_NOT_FOUND = "300"
    PARTNER_DID_NOT_RESPOND = "310"
    SERVICE_NOT_AVAILABLE = "320"
    SESSION_IS_INVALID = "400"
    COMMUNICATION_TO_EVSE_FAILED = "501"
    NO_EV_CONNECTED = "510"
    EVSE_ALREADY_RESERVED = "601"
    EVSE_ALREADY_IN_USE = "602"
    UNKNOWN_EVSE_ID = "603"
    EVSE_NOT_HUBJECT_COMPATIBLE = "604"
    EVSE_OUT_OF_SERVICE = "700"

    @property
    def description(self) -> str:
        """The standard text for ``Description``."""
        return DESCRIPTIONS[self]


DESCRIPTIONS: dict[Code, str] = {
    Code.SUCCESS: "Success",
    Code.SYSTEM_ERROR: "Hub system error",
    Code.DATABASE_ERROR: "Hub database error",
    Code.DATA_TRANSACTION_ERROR: "Data transaction error",
    Code.UNAUTHORIZED_ACCESS: "Unauthorized Access",
    Code.INCONSISTENT_EVSE_ID: "Inconsistent EvseID",
    Code.INCONSISTENT_EVCO_ID: "Inconsistent EvcoID",
    Code.GENERAL_SYSTEM_ERROR: "System error",
    Code.DATA_ERROR: "Data error",
    Code.QR_CODE_AUTHENTICATION_FAILED: "Authentication failed: invalid credentials",
    Code.RFID_AUTHENTICATION_FAILED_INVALID_UID: "Authentication failed: invalid UID",
    Code.RFID_AUTHENTICATION_FAILED_CARD_NOT_READABLE: "Authentication failed: card not readable",
    Code.PLC_AUTHENTICATION_FAILED_INVALID_EVCO_ID: "Authentication failed: invalid EvcoID",
    Code.NO_POSITIVE_AUTHENTICATION_RESPONSE: "No positive authentication response",
    Code.QR_CODE_APP_AUTHENTICATION_TIMEOUT: "Authentication failed: time out",
    Code.PLC_INVALID_UNDERLYING_EVCO_ID: "Authentication failed: invalid underlying EvcoID",
    Code.PLC_INVALID_CERTIFICATE: "Authentication failed: invalid certificate",
    Code.PLC_TIMEOUT: "Authentication failed: time out",
    Code.EVCO_ID_LOCKED: "EvcoID locked",
    Code.NO_VALID_CONTRACT: "No valid contract",
    Code.PARTNER_NOT_FOUND: "Partner not found",
    Code.PARTNER_DID_NOT_RESPOND: "Partner did not respond",
    Code.SERVICE_NOT_AVAILABLE: "Service not available",
    Code.SESSION_IS_INVALID: "Session is invalid",
    Code.COMMUNICATION_TO_EVSE_FAILED: "Communication to EVSE failed",
    Code.NO_EV_CONNECTED: "No EV connected to EVSE",
    Code.EVSE_ALREADY_RESERVED: "EVSE already reserved",
    Code.EVSE_ALREADY_IN_USE: "EVSE already in use",
    Code.UNKNOWN_EVSE_ID: "Unknown EVSE ID",
    Code.EVSE_NOT_HUBJECT_COMPATIBLE: "EVSE ID is not Hubject compatible",
    Code.EVSE_OUT_OF_SERVICE: "EVSE out of service",
}
