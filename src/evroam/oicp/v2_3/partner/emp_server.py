"""The server an online EMP runs for the hub's calls (digest §1.2 "Partner server
surfaces"): AuthorizeStart and ChargeDetailRecord (mandatory), AuthorizeStop and the
charging notifications (optional: an EMP that takes none answers 320 "Service not
available").

The application implements :class:`EmpHandler`; :func:`create_emp_app` gives the ASGI
app (served or mounted as for the CPO, :mod:`.cpo_server`). A refused authorization is
an answer, not an exception: return ``AuthorizationStatus: NotAuthorized`` with the
reason's code (102 unknown card, 210 no contract...), or raise an ``OicpError``, which
is answered in that same shape.
"""

from __future__ import annotations

from typing import Protocol

from starlette.applications import Starlette

from evroam.oicp.v2_3.errors import ServiceNotAvailable
from evroam.oicp.v2_3.models.authorization import (
    AuthorizationStartResponse,
    AuthorizationStopResponse,
    AuthorizeStartRequest,
    AuthorizeStopRequest,
)
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.models.notifications import AnyChargingNotification, ChargingNotification
from evroam.oicp.v2_3.partner.server import MAX_BODY_BYTES, Served, build_app, reader
from evroam.oicp.v2_3.paths import OperationName as N


class EmpHandler(Protocol):
    """What an online EMP does with the hub's forwards (the hub's SessionID is in every
    request; keep it for the session's later messages)."""

    async def authorize_start(
        self, request: AuthorizeStartRequest
    ) -> AuthorizationStartResponse: ...

    async def authorize_stop(self, request: AuthorizeStopRequest) -> AuthorizationStopResponse: ...

    async def charge_detail_record(self, cdr: ChargeDetailRecord) -> Acknowledgement: ...

    async def charging_notification(
        self, notification: AnyChargingNotification
    ) -> Acknowledgement: ...


class NoAuthorizeStop:
    """Mix in when the EMP does not authorize stops (the hub then decides alone)."""

    async def authorize_stop(self, request: AuthorizeStopRequest) -> AuthorizationStopResponse:
        raise ServiceNotAvailable("AuthorizeStop is not offered")


class NoNotifications:
    """Mix in when the EMP takes no charging notifications."""

    async def charging_notification(self, notification: AnyChargingNotification) -> Acknowledgement:
        raise ServiceNotAvailable("charging notifications are not offered")


def _notification(data: object) -> AnyChargingNotification:
    return reader(ChargingNotification)(data).root  # type: ignore[no-any-return]


def create_emp_app(handler: EmpHandler, *, max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """The EMP's server app: the four paths at ``/api/oicp/...``."""
    served = (
        Served(
            N.AUTHORIZE_START,
            reader(AuthorizeStartRequest),
            handler.authorize_start,
            AuthorizationStartResponse,
            authorization=True,
        ),
        Served(
            N.AUTHORIZE_STOP,
            reader(AuthorizeStopRequest),
            handler.authorize_stop,
            AuthorizationStopResponse,
            authorization=True,
        ),
        Served(
            N.CHARGE_DETAIL_RECORD,
            reader(ChargeDetailRecord),
            handler.charge_detail_record,
            Acknowledgement,
        ),
        Served(
            N.CHARGING_NOTIFICATION, _notification, handler.charging_notification, Acknowledgement
        ),
    )
    return build_app(served, max_body_bytes=max_body_bytes, title="OICP 2.3 EMP server")
