"""The server a CPO runs for the hub's calls (digest §1.2 "Partner server surfaces"):
AuthorizeRemoteStart and AuthorizeRemoteStop (mandatory), and the reservation start and
stop (optional: a CPO that offers none answers 320 "Service not available").

The application implements :class:`CpoHandler`; :func:`create_cpo_app` gives the ASGI
app to serve (``uvicorn`` with :func:`evroam.oicp.tls.uvicorn_tls_kwargs`) or to mount
under a prefix of a larger app: the hub then calls ``https://host/<prefix>`` plus its
own paths, so the partner registers ``https://host/<prefix>`` as its base URL.

What the handler gets has been parsed into the wire model, its path ID checked against
the body and its Identification checked against the operation (only
``RemoteIdentification``, digest §4); what it answers, or raises, is turned into the
wire answer by :mod:`.server`.
"""

from __future__ import annotations

from typing import Protocol

from starlette.applications import Starlette

from evroam.oicp.v2_3.errors import ServiceNotAvailable
from evroam.oicp.v2_3.models.authorization import (
    AuthorizeRemoteStartRequest,
    AuthorizeRemoteStopRequest,
)
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.models.reservation import (
    AuthorizeRemoteReservationStartRequest,
    AuthorizeRemoteReservationStopRequest,
)
from evroam.oicp.v2_3.partner.server import MAX_BODY_BYTES, Served, build_app, reader
from evroam.oicp.v2_3.paths import OperationName as N


class CpoHandler(Protocol):
    """What a CPO does when the hub forwards an EMP's request. Answer with an
    Acknowledgement (:func:`~evroam.oicp.v2_3.partner.server.acknowledge` echoes the
    session IDs), or raise an ``OicpError`` to refuse (``UnknownEvseId`` 603, or an
    ``OicpError(code=Code.EVSE_ALREADY_RESERVED)``...). Anything else raised is answered
    500/001, its text kept out of the answer."""

    async def remote_start(self, request: AuthorizeRemoteStartRequest) -> Acknowledgement: ...

    async def remote_stop(self, request: AuthorizeRemoteStopRequest) -> Acknowledgement: ...

    async def reservation_start(
        self, request: AuthorizeRemoteReservationStartRequest
    ) -> Acknowledgement: ...

    async def reservation_stop(
        self, request: AuthorizeRemoteReservationStopRequest
    ) -> Acknowledgement: ...


class NoReservations:
    """Mix into a handler of a CPO that offers no reservations: both answer 320."""

    async def reservation_start(
        self, request: AuthorizeRemoteReservationStartRequest
    ) -> Acknowledgement:
        raise ServiceNotAvailable("reservations are not offered")

    async def reservation_stop(
        self, request: AuthorizeRemoteReservationStopRequest
    ) -> Acknowledgement:
        raise ServiceNotAvailable("reservations are not offered")


def create_cpo_app(handler: CpoHandler, *, max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """The CPO's server app: the four paths at ``/api/oicp/...``."""
    served = (
        Served(
            N.AUTHORIZE_REMOTE_START,
            reader(AuthorizeRemoteStartRequest),
            handler.remote_start,
            Acknowledgement,
        ),
        Served(
            N.AUTHORIZE_REMOTE_STOP,
            reader(AuthorizeRemoteStopRequest),
            handler.remote_stop,
            Acknowledgement,
        ),
        Served(
            N.RESERVATION_START,
            reader(AuthorizeRemoteReservationStartRequest),
            handler.reservation_start,
            Acknowledgement,
        ),
        Served(
            N.RESERVATION_STOP,
            reader(AuthorizeRemoteReservationStopRequest),
            handler.reservation_stop,
            Acknowledgement,
        ),
    )
    return build_app(served, max_body_bytes=max_body_bytes, title="OICP 2.3 CPO server")
