"""A CPO's server app (``create_cpo_app``) in its own uvicorn process with mutual TLS,
for the integration tests: ``python -m tests.integration.oicp_partner.cpo_server_main
PORT CERT KEY CLIENT_CA RECORD_FILE``.

Its handler is the application's part: it writes each request it gets, as the wire JSON
of the parsed model, to RECORD_FILE (one line each), refuses EvseIDs ending in ``E404``
with 603, and acknowledges the rest with its own session ID.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import uvicorn

from evroam.oicp.tls import uvicorn_tls_kwargs
from evroam.oicp.v2_3.errors import UnknownEvseId
from evroam.oicp.v2_3.models.authorization import (
    AuthorizeRemoteStartRequest,
    AuthorizeRemoteStopRequest,
)
from evroam.oicp.v2_3.models.common import Acknowledgement, WireModel
from evroam.oicp.v2_3.partner.cpo_server import NoReservations, create_cpo_app
from evroam.oicp.v2_3.partner.server import acknowledge


class RecordingCpo(NoReservations):
    def __init__(self, record: Path) -> None:
        self.record = record

    def _write(self, operation: str, request: WireModel) -> None:
        with self.record.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"operation": operation, "body": request.to_wire()}) + "\n")

    async def remote_start(self, request: AuthorizeRemoteStartRequest) -> Acknowledgement:
        self._write("remote_start", request)
        if request.EvseID.endswith("E404"):
            raise UnknownEvseId("no such EVSE at this CPO")
        return acknowledge(request, cpo_partner_session_id="cpo-session-1")

    async def remote_stop(self, request: AuthorizeRemoteStopRequest) -> Acknowledgement:
        self._write("remote_stop", request)
        return acknowledge(request)


def main() -> None:
    port, cert, key, client_ca, record = sys.argv[1:6]
    app = create_cpo_app(RecordingCpo(Path(record)))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        **uvicorn_tls_kwargs(Path(cert), Path(key), Path(client_ca)),
    )


if __name__ == "__main__":
    main()
