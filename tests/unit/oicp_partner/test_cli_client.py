"""``evroam oicp client`` in process: the node's Locations read page by page and
converted for ``push-evse-data --from-node``, refusals and partner text shown as text,
missing settings refused before any call."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from evroam.cli import node_api
from evroam.cli.main import app
from evroam.cli.oicp import client as cli_client
from tests.unit.oicp_partner.stub import StubHub

EXAMPLE = "/work/shared/ocpi/examples/2.2.1/location_example_parking_garage_opening_hours.json"
BASE = ["oicp", "client"]
CPO_ENV = {"EVROAM_OICP_URL": "https://hub.example", "EVROAM_OICP_OPERATOR_ID": "SE*EVC"}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> StubHub:
    stub = StubHub()
    monkeypatch.setattr(cli_client, "transport", stub.transport)
    return stub


def node_serving(locations: list[Any], seen: list[str]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        assert request.headers["Authorization"] == "Bearer admin-token"
        offset = int(request.url.params["offset"])
        return httpx.Response(
            200, json={"data": locations[offset : offset + 1], "status_code": 1000}
        )

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_push_from_node_reads_every_page_and_pushes_what_converts(
    hub: StubHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        with open(EXAMPLE, encoding="utf-8") as f:
            good = json.load(f)
    except OSError:
        pytest.skip(f"the OCPI example payloads are not at {EXAMPLE}")
    unpublished = {**good, "id": "HIDDEN", "publish": False}
    seen: list[str] = []
    monkeypatch.setattr(node_api, "make_client", lambda: node_serving([good, unpublished], seen))
    result = CliRunner().invoke(
        app,
        [*BASE, "push-evse-data", "--from-node", "http://node", "--admin-token", "admin-token"]
        + ["--hotline", "+4640123456", "--json"],
        env=CPO_ENV,
    )
    assert result.exit_code == 0, result.output
    assert len(seen) == 3  # two pages of one Location, then the empty page
    (push,) = hub.seen
    assert push.path == "/api/oicp/evsepush/v23/operators/SE*EVC/data-records"
    records = push.body["OperatorEvseData"]["EvseDataRecord"]
    assert [r["EvseID"] for r in records] == ["SE*EVC*E000000123"]
    assert "refused location HIDDEN: not published" in result.stderr
    assert "1 EVSEs converted, 1 refused" in result.stderr


def test_push_from_node_needs_a_hotline(hub: StubHub) -> None:
    result = CliRunner().invoke(
        app,
        [*BASE, "push-evse-data", "--from-node", "http://node", "--admin-token", "t"],
        env=CPO_ENV,
    )
    assert result.exit_code == 2 and "--hotline" in result.stderr
    assert hub.seen == []


def test_partner_text_is_printed_as_text(hub: StubHub) -> None:
    hub.answer(
        {
            "Result": False,
            "StatusCode": {"Code": "022", "AdditionalInfo": "[bold]x[/bold]\x1b[2J"},
        }
    )
    result = CliRunner().invoke(app, [*BASE, "push-status", "SE*EVC*E1", "Available"], env=CPO_ENV)
    assert result.exit_code == 1
    assert "refused with 022: [bold]x[/bold]\\x1b[2J" in result.stderr


def test_a_missing_url_or_id_is_refused_before_any_call(hub: StubHub) -> None:
    result = CliRunner().invoke(app, [*BASE, "push-status", "SE*EVC*E1", "Available"])
    assert result.exit_code == 2 and "--url" in result.stderr
    result = CliRunner().invoke(
        app,
        [*BASE, "remote-start", "SE*EVC*E1", "DE-8EO-CAet5e4XY-3"],
        env={"EVROAM_OICP_URL": "https://hub.example"},
    )
    assert result.exit_code == 2 and "--provider-id" in result.stderr
    assert hub.seen == []


def test_remote_start_prints_the_session(hub: StubHub) -> None:
    hub.answer(
        {
            "Result": True,
            "StatusCode": {"Code": "000", "Description": "Success"},
            "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        }
    )
    result = CliRunner().invoke(
        app,
        [*BASE, "remote-start", "SE*EVC*E1", "DE-8EO-CAet5e4XY-3"],
        env={"EVROAM_OICP_URL": "https://hub.example", "EVROAM_OICP_PROVIDER_ID": "DE-8EO"},
    )
    assert result.exit_code == 0, result.output
    assert "SessionID: b2688855-7f00-0002-6d8e-48d883f6abb6" in result.stdout
