"""A CPO's or an online EMP's server app (``create_cpo_app``/``create_emp_app``) in its
own uvicorn process with mutual TLS, for the client flow tests:
``python -m tests.integration.oicp_ops.partner_main cpo|emp PORT CERT KEY CLIENT_CA RECORD``.

The handlers are the application's part, written here as a partner would: each writes
the request it got (the parsed model's wire JSON) and the caller's path operation to
RECORD, one JSON line each, so the tests read what arrived where it landed.

* CPO: accepts remote starts and reservations with its own session IDs
  (``cpo-remote-1``, ``cpo-resv-1``) and every stop.
* EMP: authorizes the card ``ONLINE_UID`` (its session ID ``emp-rfid-1``) and the QR
  code of ``ONLINE_EVCO`` with ``ONLINE_PIN`` (the PIN must reach it to be checked),
  refuses anything else with 102; authorizes stops; takes CDRs and notifications.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import uvicorn

from evroam.oicp.tls import uvicorn_tls_kwargs
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.models.authorization import (
    AuthorizationStartResponse,
    AuthorizationStopResponse,
    AuthorizeRemoteStartRequest,
    AuthorizeRemoteStopRequest,
    AuthorizeStartRequest,
    AuthorizeStopRequest,
)
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord
from evroam.oicp.v2_3.models.common import Acknowledgement, StatusCode, WireModel
from evroam.oicp.v2_3.models.notifications import AnyChargingNotification
from evroam.oicp.v2_3.models.reservation import (
    AuthorizeRemoteReservationStartRequest,
    AuthorizeRemoteReservationStopRequest,
)
from evroam.oicp.v2_3.partner.cpo_server import create_cpo_app
from evroam.oicp.v2_3.partner.emp_server import create_emp_app
from evroam.oicp.v2_3.partner.server import acknowledge

ONLINE_PROVIDER = "DE-ONL"
ONLINE_UID = "11223344556677"
ONLINE_EVCO = "DE-ONL-CXYZ98765-4"
ONLINE_PIN = "2468"


class Recorder:
    def __init__(self, record: Path) -> None:
        self.record = record

    def write(self, operation: str, request: WireModel) -> None:
        with self.record.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"operation": operation, "body": request.to_wire()}) + "\n")


class Cpo(Recorder):
    async def remote_start(self, request: AuthorizeRemoteStartRequest) -> Acknowledgement:
        self.write("remote_start", request)
        return acknowledge(request, cpo_partner_session_id="cpo-remote-1")

    async def remote_stop(self, request: AuthorizeRemoteStopRequest) -> Acknowledgement:
        self.write("remote_stop", request)
        return acknowledge(request)

    async def reservation_start(
        self, request: AuthorizeRemoteReservationStartRequest
    ) -> Acknowledgement:
        self.write("reservation_start", request)
        return acknowledge(request, cpo_partner_session_id="cpo-resv-1")

    async def reservation_stop(
        self, request: AuthorizeRemoteReservationStopRequest
    ) -> Acknowledgement:
        self.write("reservation_stop", request)
        return acknowledge(request)


class Emp(Recorder):
    async def authorize_start(self, request: AuthorizeStartRequest) -> AuthorizationStartResponse:
        self.write("authorize_start", request)
        uid = request.Identification.uid
        qr = request.Identification.QRCodeIdentification
        known_card = uid is not None and uid.upper() == ONLINE_UID
        known_qr = qr is not None and (qr.EvcoID, qr.PIN) == (ONLINE_EVCO, ONLINE_PIN)
        if not (known_card or known_qr):
            return AuthorizationStartResponse.model_validate(
                {
                    "SessionID": request.SessionID,
                    "AuthorizationStatus": "NotAuthorized",
                    "StatusCode": StatusCode.of(Code.RFID_AUTHENTICATION_FAILED_INVALID_UID),
                }
            )
        return AuthorizationStartResponse.model_validate(
            {
                "SessionID": request.SessionID,
                "CPOPartnerSessionID": request.CPOPartnerSessionID,
                "EMPPartnerSessionID": "emp-rfid-1",
                "ProviderID": ONLINE_PROVIDER,
                "AuthorizationStatus": "Authorized",
                "StatusCode": StatusCode.of(Code.SUCCESS),
            }
        )

    async def authorize_stop(self, request: AuthorizeStopRequest) -> AuthorizationStopResponse:
        self.write("authorize_stop", request)
        return AuthorizationStopResponse.model_validate(
            {
                "SessionID": request.SessionID,
                "CPOPartnerSessionID": request.CPOPartnerSessionID,
                "EMPPartnerSessionID": request.EMPPartnerSessionID,
                "ProviderID": ONLINE_PROVIDER,
                "AuthorizationStatus": "Authorized",
                "StatusCode": StatusCode.of(Code.SUCCESS),
            }
        )

    async def charge_detail_record(self, cdr: ChargeDetailRecord) -> Acknowledgement:
        self.write("charge_detail_record", cdr)
        return acknowledge(cdr)

    async def charging_notification(self, notification: AnyChargingNotification) -> Acknowledgement:
        self.write("charging_notification", notification)
        return acknowledge(notification)


def main() -> None:
    role, port, cert, key, client_ca, record = sys.argv[1:7]
    app = create_cpo_app(Cpo(Path(record))) if role == "cpo" else create_emp_app(Emp(Path(record)))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        **uvicorn_tls_kwargs(Path(cert), Path(key), Path(client_ca)),
    )


if __name__ == "__main__":
    main()
