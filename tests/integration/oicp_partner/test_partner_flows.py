"""The partner side against real processes over mutual TLS: a hub (``evroam oicp
serve``), the CLI in its own processes, and a CPO's server app under uvicorn.

* a CPO pushes EVSE data and statuses with ``evroam oicp client``; an EMP pulls them
  with the CLI (pages of 2, so the pull crosses pages) and with ``EmpClient``;
* a refusal of the hub reaches the CLI's user as its code and text;
* an EMP's remote start goes CLI → hub → the CPO's server app → its handler, and the
  handler's answer back; a 603 of the handler comes back as the hub relays it;
* a test acting as the hub (its own client certificate) calls the CPO's server app
  directly; a caller without a certificate of the CA gets no connection.

What arrived is read where it landed: the hub through an EMP's pull, the CPO server
through the file its handler writes, never through the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evroam.oicp import certs
from evroam.oicp.tls import client_ssl_context
from evroam.oicp.v2_3.partner.emp import EmpClient
from tests.integration.oicp_hub.support import HubProcess, Pki
from tests.integration.oicp_partner.support import CpoServerProcess, cli
from tests.unit.oicp.records import complete_record

CPO = "DE*CLI"
EMP = "DE-EMP"
EVCO = "DE-EMP-CAet5e4XY-3"


class World:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pki = Pki(workdir / "pki")
        hub_client = certs.make_partner_cert(self.pki.ca, workdir / "hub-client", "evroam-hub")
        self.cpo_server = CpoServerProcess(workdir, self.pki)
        self.hub = HubProcess(
            f"sqlite+aiosqlite:///{workdir / 'hub.db'}",
            workdir,
            self.pki,
            extra_env={
                "EVROAM_OICP__CLIENT_CERT": str(hub_client.cert),
                "EVROAM_OICP__CLIENT_KEY": str(hub_client.key),
                "EVROAM_OICP__PARTNER_CA": str(self.pki.ca.cert),
            },
        )
        self.hub.add_partner(CPO, "CPO", name="CLI Charging", endpoint=self.cpo_server.base_url)
        self.hub.add_partner(EMP, "EMP", name="CLI Mobility")

    def env(self, identity: str) -> dict[str, str]:
        files = self.pki.client_cert(identity)
        role = "EVROAM_OICP_OPERATOR_ID" if identity == CPO else "EVROAM_OICP_PROVIDER_ID"
        return {
            "EVROAM_OICP_URL": self.hub.url,
            "EVROAM_OICP_CERT": str(files.cert),
            "EVROAM_OICP_KEY": str(files.key),
            "EVROAM_OICP_CA": str(self.pki.ca.cert),
            role: identity,
        }

    def stop(self) -> None:
        self.hub.stop()
        self.cpo_server.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # SQLite only: what is under test is the partner side; the hub's storage is
    # tested on both backends by its own modules.
    w = World(tmp_path_factory.mktemp("partner"))
    yield w
    w.stop()


def ok(result: Any) -> Any:
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def test_a_cpo_pushes_with_the_cli_and_an_emp_pulls_page_by_page(world: World) -> None:
    records = []
    for n in range(1, 4):
        record = complete_record()
        record["EvseID"] = f"{CPO}*E{n}"
        records.append(record)
    data = world.workdir / "records.json"
    data.write_text(json.dumps(records))
    cpo = world.env(CPO)
    ack = ok(cli("push-evse-data", str(data), "--operator-name", "CLI Charging", "--json", env=cpo))
    assert ack["Result"] is True
    ok(cli("push-status", f"{CPO}*E1", "Available", "--action", "fullLoad", env=cpo))
    ok(cli("push-status", f"{CPO}*E2", "Occupied", "--action", "insert", env=cpo))

    emp = world.env(EMP)
    pulled = ok(cli("pull-data", "--operator", CPO, "--size", "2", "--json", env=emp))
    assert sorted(r["EvseID"] for r in pulled) == [f"{CPO}*E1", f"{CPO}*E2", f"{CPO}*E3"]
    assert {r["OperatorName"] for r in pulled} == {"CLI Charging"}

    statuses = ok(cli("pull-status", "--operator", CPO, "--json", env=emp))
    assert {s["EvseID"]: s["EvseStatus"] for s in statuses} == {
        f"{CPO}*E1": "Available",
        f"{CPO}*E2": "Occupied",
    }
    by_id = ok(cli("pull-status", "--evse-id", f"{CPO}*E2", "--json", env=emp))
    assert by_id == [{"EvseID": f"{CPO}*E2", "EvseStatus": "Occupied"}]

    table = cli("pull-data", "--operator", CPO, "--size", "2", env=emp)
    assert table.returncode == 0 and "3 records" in table.stdout


async def test_the_emp_client_walks_the_pages_of_a_real_hub(world: World) -> None:
    files = world.pki.client_cert(EMP)
    for n in range(1, 4):  # the CPO's records, whichever test runs first
        record = complete_record()
        record["EvseID"] = f"{CPO}*E{n}"
        world.workdir.joinpath(f"r{n}.json").write_text(json.dumps([record]))
    ok(
        cli(
            "push-evse-data",
            str(world.workdir / "r1.json"),
            "--action",
            "fullLoad",
            env=world.env(CPO),
        )
    )
    ok(
        cli(
            "push-evse-data",
            str(world.workdir / "r2.json"),
            "--action",
            "insert",
            env=world.env(CPO),
        )
    )
    ok(
        cli(
            "push-evse-data",
            str(world.workdir / "r3.json"),
            "--action",
            "insert",
            env=world.env(CPO),
        )
    )
    async with EmpClient(
        world.hub.url, EMP, cert=files.cert, key=files.key, ca=world.pki.ca.cert
    ) as client:
        pages = [p async for p in client.evse_data_pages(OperatorIds=[CPO], size=2)]
    assert [(p.number, len(p.content), p.last) for p in pages] == [(0, 2, False), (1, 1, True)]


def test_a_hub_refusal_reaches_the_cli_user_as_text(world: World) -> None:
    env = {**world.env(CPO), "EVROAM_OICP_OPERATOR_ID": "DE*ZZZ"}
    result = cli("push-status", "DE*ZZZ*E1", "Available", env=env)
    assert result.returncode == 1
    assert "refused with 017" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_remote_start_goes_through_the_hub_to_the_cpo_servers_handler(world: World) -> None:
    emp = world.env(EMP)
    ack = ok(cli("remote-start", f"{CPO}*E1", EVCO, "--product", "AC1", "--json", env=emp))
    assert ack["Result"] is True and ack["StatusCode"]["Code"] == "000"
    session = ack["SessionID"]
    (got,) = [r for r in world.cpo_server.received() if r["body"]["EvseID"] == f"{CPO}*E1"]
    assert got["operation"] == "remote_start"
    assert got["body"]["SessionID"] == session
    assert got["body"]["ProviderID"] == EMP
    assert got["body"]["Identification"] == {"RemoteIdentification": {"EvcoID": EVCO}}
    assert got["body"]["PartnerProductID"] == "AC1"

    refused = cli("remote-start", f"{CPO}*E404", EVCO, env=emp)
    assert refused.returncode == 1 and "refused with 603" in refused.stderr


def _remote_start(evse: str) -> dict[str, Any]:
    return {
        "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "ProviderID": EMP,
        "EvseID": evse,
        "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
    }


def test_the_cpo_server_answers_a_hub_over_mutual_tls(world: World) -> None:
    hub_files = world.pki.client_cert("acting-hub")
    ctx = client_ssl_context(hub_files.cert, hub_files.key, world.pki.ca.cert)
    path = f"/api/oicp/charging/v21/providers/{EMP}/authorize-remote/start"
    with httpx.Client(verify=ctx, timeout=30) as http:
        r = http.post(world.cpo_server.base_url + path, json=_remote_start(f"{CPO}*E7"))
        bad = http.post(world.cpo_server.base_url + path, content=b"{")
    assert r.status_code == 200
    assert r.json() == {
        "Result": True,
        "StatusCode": {"Code": "000", "Description": "Success"},
        "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "CPOPartnerSessionID": "cpo-session-1",
    }
    assert any(g["body"]["EvseID"] == f"{CPO}*E7" for g in world.cpo_server.received())
    assert bad.status_code == 400 and bad.json()["StatusCode"]["Code"] == "022"

    foreign = world.pki.foreign_cert("acting-hub")
    for verify in (
        client_ssl_context(foreign.cert, foreign.key, world.pki.ca.cert),
        client_ssl_context(None, None, world.pki.ca.cert),
    ):
        with httpx.Client(verify=verify, timeout=10) as http, pytest.raises(httpx.TransportError):
            http.post(world.cpo_server.base_url + path, json=_remote_start(f"{CPO}*E8"))
    assert not any(g["body"]["EvseID"] == f"{CPO}*E8" for g in world.cpo_server.received())
