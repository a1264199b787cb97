"""Per test module and backend: a hub process that calls partners with its own client
certificate, a fake CPO server and a fake online EMP server (``fake_partners.py``), all
with certificates of one dev CA, and the partners registered through the operator API:

=========  =====  ================================================================
DE*CPO     CPO    online: its endpoint is the fake CPO
DE*OTH     CPO    another operator, also at the fake CPO (foreign-session tests)
DE*NOE     CPO    registered without an endpoint
DE-ONL     EMP    online: its endpoint is the fake EMP
DE-OFL     EMP    offline: no endpoint; pushes authentication data, fetches CDRs
=========  =====  ================================================================

The hub's call timeout is set low (``CALL_TIMEOUT``) so the tests of a silent partner
wait little.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from evroam.oicp import certs
from evroam.oicp.tls import client_ssl_context
from tests.integration.oicp_hub.support import HubProcess, Pki
from tests.integration.oicp_sessions.fake_partners import FakePartnerServer
from tests.integration.oicp_sessions.messages import (
    CALL_TIMEOUT,
    CPO,
    CPO_WITHOUT_ENDPOINT,
    OFFLINE_EMP,
    ONLINE_EMP,
    OTHER_CPO,
    Roaming,
)
from tests.support import PgDatabases, pg_unavailable_reason


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def roaming(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_databases: PgDatabases | None,
) -> Iterator[Roaming]:
    workdir = tmp_path_factory.mktemp(f"sessions-{request.param}")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        db_url = pg_databases.create()
    else:
        db_url = f"sqlite+aiosqlite:///{workdir / 'hub.db'}"
    pki = Pki(workdir / "pki")
    hub_client = certs.make_partner_cert(pki.ca, workdir / "hub-client", "evroam-hub")
    control = pki.client_cert("fake-control")
    control_http = httpx.Client(
        verify=client_ssl_context(control.cert, control.key, pki.ca.cert),
        timeout=30,
    )
    fakes: list[FakePartnerServer] = []
    hub = None
    try:
        server = pki.server
        for _ in range(2):
            fakes.append(
                FakePartnerServer(workdir, server.cert, server.key, pki.ca.cert, control_http)
            )
        hub = HubProcess(
            db_url,
            workdir,
            pki,
            extra_env={
                "EVROAM_OICP__CLIENT_CERT": str(hub_client.cert),
                "EVROAM_OICP__CLIENT_KEY": str(hub_client.key),
                "EVROAM_OICP__PARTNER_CA": str(pki.ca.cert),
                "EVROAM_OICP__CALL_TIMEOUT": str(CALL_TIMEOUT),
            },
        )
        cpo, emp = fakes
        hub.add_partner(CPO, "CPO", endpoint=cpo.base_url)
        hub.add_partner(OTHER_CPO, "CPO", endpoint=cpo.base_url)
        hub.add_partner(CPO_WITHOUT_ENDPOINT, "CPO")
        hub.add_partner(ONLINE_EMP, "EMP", endpoint=emp.base_url)
        hub.add_partner(OFFLINE_EMP, "EMP")
        yield Roaming(hub, cpo, emp)
    finally:
        if hub is not None:
            hub.stop()
        for fake in fakes:
            fake.stop()
        control_http.close()
