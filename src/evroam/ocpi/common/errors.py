"""OCPI protocol outcomes as exceptions that carry their wire code.

::

    OcpiError (status_code, http_status=200)
      ClientError 2000: InvalidParameters 2001, NotEnoughInformation 2002,
                        UnknownLocation 2003, UnknownToken 2004
      ServerError 3000: PartnerApiUnavailable 3001, UnsupportedVersion 3002,
                        NoMatchingEndpoints 3003
      HubError 4000:    UnknownReceiver 4001, ForwardTimeout 4002, ReceiverOffline 4003
      Unauthorized (HTTP 401), NotFound (HTTP 404), MethodNotAllowed (HTTP 405),
      MalformedJson (HTTP 400)

One exception handler (``ocpi/common/handlers.py``) turns any of them into the envelope. The HTTP
status follows OCPI 2.2.1 transport_and_format §"Response format" and the digest §1.3:
only authentication, JSON syntax, unknown objects and the credentials 405s are HTTP
errors; everything else is HTTP 200 with the OCPI code.
"""

from __future__ import annotations


class OcpiError(Exception):
    status_code = 3000
    http_status = 200

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class ClientError(OcpiError):
    status_code = 2000


class InvalidParameters(ClientError):
    status_code = 2001


class NotEnoughInformation(ClientError):
    status_code = 2002


class UnknownLocation(ClientError):
    status_code = 2003


class UnknownToken(ClientError):
    status_code = 2004


class ServerError(OcpiError):
    status_code = 3000


class PartnerApiUnavailable(ServerError):
    status_code = 3001


class UnsupportedVersion(ServerError):
    status_code = 3002


class NoMatchingEndpoints(ServerError):
    status_code = 3003


class HubError(OcpiError):
    status_code = 4000


class UnknownReceiver(HubError):
    status_code = 4001


class ForwardTimeout(HubError):
    status_code = 4002


class ReceiverOffline(HubError):
    status_code = 4003


class Unauthorized(ClientError):
    """Missing or unknown credentials token, or token A outside the configuration modules."""

    http_status = 401


class NotFound(ClientError):
    http_status = 404


class MethodNotAllowed(ClientError):
    """Credentials POST when registered, PUT/DELETE when not (OCPI credentials §"Interfaces")."""

    http_status = 405


class MalformedJson(ClientError):
    http_status = 400
