"""The hub's calls to partners (``hub/calls.py``) over an in-process transport: the URL
is the partner's endpoint plus the hub's own path, and every way a partner can fail is
told apart as 310 (no answer) or 320 (no OICP answer), within the timeout."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from evroam.core.oicp import OicpPartner, OicpRole
from evroam.core.oicp_sessions import (
    AuthorizationMethod,
    CallFailure,
    NoSuchPartner,
    OicpSession,
    PartnerCallFailed,
    SessionState,
)
from evroam.oicp.v2_3.hub.calls import (
    MAX_ANSWER_BYTES,
    PartnerCalls,
    ack_answer,
    forwarder,
    with_session,
)
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.paths import OperationName as N
from tests.storage.factories import NOW

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
CPO = OicpPartner(
    "DE*CPO", "DECPO", frozenset({OicpRole.CPO}), "DE*CPO", endpoint="https://cpo.test/base"
)
SESSION = OicpSession(
    session_id="b2688855-7f00-0002-6d8e-48d883f6abb6",
    operator="DECPO",
    operator_id="DE*CPO",
    method=AuthorizationMethod.REMOTE,
    state=SessionState.PENDING,
    created_at=NOW,
    updated_at=NOW,
    cpo_partner_session_id="cpo-1",
    emp_partner_session_id="emp-1",
)
ACK = {"Result": True, "StatusCode": {"Code": "000"}, "SessionID": SESSION.session_id}


def calls(handler: Handler, timeout: float = 0.5) -> PartnerCalls:
    return PartnerCalls(timeout=timeout, transport=httpx.MockTransport(handler))


async def remote_start(c: PartnerCalls) -> Acknowledgement:
    body = {"ProviderID": "DE-EMP", "EvseID": "DE*CPO*E1"}
    return await c.call(CPO, N.AUTHORIZE_REMOTE_START, "DE-EMP", body, Acknowledgement)


async def test_the_call_goes_to_the_endpoint_plus_the_hubs_own_path() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ACK)

    c = calls(handler)
    answer = await remote_start(c)
    await c.aclose()
    assert answer.Result is True
    (request,) = seen
    assert str(request.url) == (
        "https://cpo.test/base/api/oicp/charging/v21/providers/DE-EMP/authorize-remote/start"
    )
    assert request.method == "POST" and request.headers["content-type"] == "application/json"


async def test_a_partner_without_endpoint_is_not_called() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("called")

    offline = OicpPartner("DE*OFF", "DEOFF", frozenset({OicpRole.CPO}), "DE*OFF")
    with pytest.raises(NoSuchPartner):
        await calls(handler).call(offline, N.AUTHORIZE_REMOTE_START, "X", {}, Acknowledgement)


async def test_a_silent_partner_is_no_answer_within_the_timeout() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=ACK)

    started = time.monotonic()
    with pytest.raises(PartnerCallFailed) as raised:
        await remote_start(calls(handler, timeout=0.2))
    assert time.monotonic() - started < 1.0
    assert raised.value.failure is CallFailure.NO_ANSWER


async def test_a_refused_connection_is_no_answer() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(PartnerCallFailed) as raised:
        await remote_start(calls(handler))
    assert raised.value.failure is CallFailure.NO_ANSWER


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>hello</html>"),
        httpx.Response(404, json={"error": "not found"}),
        httpx.Response(200, json={"Result": "yes", "StatusCode": {"Code": 0}}),
        httpx.Response(200, json=[ACK]),
        httpx.Response(200, content=b"[" * 100_000),
        httpx.Response(200, content=b" " * (MAX_ANSWER_BYTES + 1)),
    ],
    ids=["html", "404", "wrong types", "list", "deep", "too large"],
)
async def test_an_answer_that_is_not_the_operations_is_not_oicp(response: httpx.Response) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return response

    with pytest.raises(PartnerCallFailed) as raised:
        await remote_start(calls(handler))
    assert raised.value.failure is CallFailure.NOT_OICP


async def test_an_acknowledgement_with_an_error_status_is_an_answer() -> None:
    refusal = {"Result": False, "StatusCode": {"Code": "022", "AdditionalInfo": "x"}}

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=refusal)

    answer = ack_answer(await remote_start(calls(handler)))
    assert (answer.accepted, answer.code) == (False, "022")


async def test_the_forwarded_body_carries_the_hubs_session_ids() -> None:
    bodies: list[dict[str, object]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={**ACK, "CPOPartnerSessionID": "cpo-9"})

    forward = forwarder(
        calls(handler),
        N.AUTHORIZE_REMOTE_START,
        "DE-EMP",
        {"SessionID": "ffffffff-ffff-ffff-ffff-ffffffffffff", "EMPPartnerSessionID": "own"},
        Acknowledgement,
        ack_answer,
    )
    answer = await forward(CPO, SESSION)
    assert bodies == [
        {
            "SessionID": SESSION.session_id,
            "EMPPartnerSessionID": "own",
            "CPOPartnerSessionID": "cpo-1",
        }
    ]
    assert answer.accepted and answer.cpo_partner_session_id == "cpo-9"


def test_with_session_keeps_the_messages_own_partner_ids() -> None:
    out = with_session({"CPOPartnerSessionID": "mine"}, SESSION)
    assert out == {
        "CPOPartnerSessionID": "mine",
        "SessionID": SESSION.session_id,
        "EMPPartnerSessionID": "emp-1",
    }


async def test_the_partner_app_carries_the_calls_made_from_its_settings(tmp_path: Path) -> None:
    """The wiring (``web/oicp/app.py``) gives the partner app the hub's client, made
    from ``settings.oicp`` (timeout included) unless one is handed in; an app without
    one is a wiring fault, said so, not a client made behind the settings' back."""
    from fastapi import FastAPI
    from starlette.requests import Request

    from evroam.config import OicpSettings, Settings
    from evroam.oicp.v2_3.hub.calls import get_calls
    from evroam.storage.db import create_engine, session_factory
    from evroam.storage.uow import SqlUnitOfWorkFactory
    from evroam.web.oicp.app import build_partner_app

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    settings = Settings(oicp=OicpSettings(call_timeout=2.5))
    app = build_partner_app(settings, uow)
    made = await get_calls(Request({"type": "http", "app": app, "headers": []}))
    assert made.timeout == 2.5
    wired = PartnerCalls(timeout=7)
    other = build_partner_app(settings, uow, wired)
    assert await get_calls(Request({"type": "http", "app": other, "headers": []})) is wired
    with pytest.raises(RuntimeError, match="without its PartnerCalls"):
        await get_calls(Request({"type": "http", "app": FastAPI(), "headers": []}))
    await made.aclose()
    await wired.aclose()
    await engine.dispose()
