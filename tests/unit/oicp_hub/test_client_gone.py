"""A client that disconnects before the hub has read its body (a timeout, a load
generator stopping) is logged as such, without a traceback and not as an error: under
load a traceback per request flooded the log (bench/oicp_status.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.unit.oicp_hub.test_hub_app import PUSH, hub_app, pem, uow, with_peer

__all__ = ["pem", "uow"]  # fixtures used here


async def test_a_client_gone_before_its_body_is_no_error(
    uow: SqlUnitOfWorkFactory, pem: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    app = with_peer(hub_app(uow), pem["DE*ABC"])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": PUSH,
        "raw_path": PUSH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"10")],
        "server": ("127.0.0.1", 443),
    }
    with caplog.at_level(logging.INFO, logger="evroam.oicp"):
        await app(scope, receive, send)
    assert sent and sent[0]["status"] == 400
    ours = [r for r in caplog.records if r.name == "evroam.oicp"]
    assert [r.levelno for r in ours] == [logging.INFO]
    assert "went away" in ours[0].getMessage() and ours[0].exc_info is None
