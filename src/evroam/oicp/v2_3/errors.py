"""OICP outcomes as exceptions carrying their status code.

::

    OicpError (code, additional_info, http_status=200)
      UnauthorizedAccess 017   the certificate's identity is not the ID the request names
      InconsistentEvseId 018   an EvseID not of the pushing operator
      InconsistentEvcoId 019   an EvcoID not of the pushing provider
      DataError 022            the body breaks the spec (http_status 400 when it is not
                               even the operation's shape: malformed JSON, wrong types)
      NoValidContract 210, PartnerNotFound 300, PartnerDidNotRespond 310,
      ServiceNotAvailable 320, SessionIsInvalid 400, UnknownEvseId 603,
      EvseNotHubjectCompatible 604

Business refusals are HTTP 200 with ``Result: false`` and the code (digest §2, §7.3: a
schema-valid body refused with HTTP 400 breaks clients and schemathesis'
``positive_data_acceptance``); only a body that is not the operation's shape gets HTTP
400, still with an acknowledgement carrying 022. ``additional_info`` tells the partner
what was wrong with *its* input, never what happened inside the hub.

A partner's negative answer to a call the hub or a client made is ``OicpPartnerError``
(with the partner's code), never one of ours.
"""

from __future__ import annotations

from typing import Any

from evroam.oicp.v2_3.codes import Code


class OicpError(Exception):
    code: Code = Code.GENERAL_SYSTEM_ERROR
    http_status = 200

    def __init__(
        self,
        additional_info: str | None = None,
        *,
        code: Code | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(additional_info or "")
        self.additional_info = additional_info
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status

    def status_code(self) -> dict[str, Any]:
        """The wire ``StatusCode`` object."""
        body: dict[str, Any] = {"Code": self.code.value, "Description": self.code.description}
        if self.additional_info:
            body["AdditionalInfo"] = self.additional_info[:1000]
        return body

    def acknowledgement(self, **extra: Any) -> dict[str, Any]:
        """An ``eRoamingAcknowledgement`` refusing the request (``Result: false``);
        ``extra`` adds ``SessionID`` and the partner session IDs where known."""
        return {"Result": False, "StatusCode": self.status_code(), **extra}


class UnauthorizedAccess(OicpError):
    code = Code.UNAUTHORIZED_ACCESS


class InconsistentEvseId(OicpError):
    code = Code.INCONSISTENT_EVSE_ID


class InconsistentEvcoId(OicpError):
    code = Code.INCONSISTENT_EVCO_ID


class DataError(OicpError):
    code = Code.DATA_ERROR


class NoValidContract(OicpError):
    code = Code.NO_VALID_CONTRACT


class PartnerNotFound(OicpError):
    code = Code.PARTNER_NOT_FOUND


class PartnerDidNotRespond(OicpError):
    code = Code.PARTNER_DID_NOT_RESPOND


class ServiceNotAvailable(OicpError):
    code = Code.SERVICE_NOT_AVAILABLE


class SessionIsInvalid(OicpError):
    code = Code.SESSION_IS_INVALID


class UnknownEvseId(OicpError):
    code = Code.UNKNOWN_EVSE_ID


class EvseNotHubjectCompatible(OicpError):
    code = Code.EVSE_NOT_HUBJECT_COMPATIBLE


class OicpPartnerError(Exception):
    """A partner (or the hub, seen from a client) answered a call negatively: its code
    and texts as it sent them (text from outside: print it as text, never markup)."""

    def __init__(
        self,
        code: str,
        description: str | None = None,
        additional_info: str | None = None,
        *,
        http_status: int = 200,
    ) -> None:
        super().__init__(f"OICP {code}: {description or ''}".strip())
        self.code = code
        self.description = description
        self.additional_info = additional_info
        self.http_status = http_status
