"""The hub's calls to its partners: forwarded authorizations to online EMPs, remote
starts and reservations to CPOs, CDRs and charging notifications to online EMPs.

Where: the partner's registered endpoint (its base URL) followed by the *same path* the
hub serves for the operation (digest §1.1 "Hub → partner calls use the same path";
``paths.operation(...).url``), with the ID of the party that originated the message in
the path. How: POST, JSON, the hub's own client certificate (``client_cert``/``client_key``
of ``OicpSettings``), the partner's server certificate verified against ``partner_ca``
(the system store when unset), no redirects, no proxy from the environment.

What can go wrong, and the status the hub reports for it (``core.CallFailure``):

* no answer within ``call_timeout`` (the whole call, however slowly a partner drips
  its answer), connection refused or reset, TLS refused: **310** "Partner did not
  respond". To the hub, a partner it cannot reach and one that keeps silent look the
  same, and both may work again on the next try;
* an answer that is not the operation's OICP answer (not JSON, not its shape, larger
  than ``MAX_ANSWER_BYTES``, an HTML error page): **320** "Service not available": the
  partner is there but does not offer the operation at that URL. The HTTP status alone
  decides nothing: a partner answering HTTP 400 with a valid acknowledgement has
  answered.
* a partner without an endpoint is not called: ``NoSuchPartner`` (300); the services
  decide where an offline partner is fine (CDRs and notifications are kept for it).

Log lines name the partner, the operation and the outcome, never a body: bodies carry
identifications (contract IDs, card UIDs).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import Request
from pydantic import BaseModel, ValidationError

from evroam.config import OicpSettings
from evroam.core.oicp import OicpPartner
from evroam.core.oicp_sessions import (
    CallFailure,
    NoSuchPartner,
    OicpSession,
    PartnerAnswer,
    PartnerCallFailed,
)
from evroam.core.ports import OicpForward
from evroam.oicp import tls
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.models.authorization import (
    AuthorizationStartResponse,
    AuthorizationStatus,
    AuthorizationStopResponse,
)
from evroam.oicp.v2_3.models.common import Acknowledgement
from evroam.oicp.v2_3.paths import OperationName, operation

log = logging.getLogger("evroam.oicp")

AnswerT = TypeVar("AnswerT", bound=BaseModel)

#: Largest answer read from a partner; an acknowledgement is a few hundred bytes.
MAX_ANSWER_BYTES = 1_000_000


class _TooLarge(Exception):
    pass


class PartnerCalls:
    """One HTTP client (one connection pool) for every call of the hub to partners."""

    def __init__(
        self,
        *,
        timeout: float,
        client_cert: Path | None = None,
        client_key: Path | None = None,
        partner_ca: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        verify = tls.client_ssl_context(client_cert, client_key, partner_ca)
        self._client = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    @classmethod
    def from_settings(cls, oicp: OicpSettings) -> PartnerCalls:
        return cls(
            timeout=oicp.call_timeout,
            client_cert=oicp.client_cert,
            client_key=oicp.client_key,
            partner_ca=oicp.partner_ca,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def url(self, partner: OicpPartner, name: OperationName, path_id: str | None) -> str:
        if not partner.endpoint:
            raise NoSuchPartner(f"{partner.partner_id} has no endpoint the hub could call")
        op = operation(name)
        path = op.url(**{op.id_param: path_id}) if op.id_param and path_id else op.path
        return partner.endpoint + path

    async def _post(self, url: str, body: Mapping[str, Any]) -> tuple[int, bytes]:
        content = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        async with self._client.stream("POST", url, content=content, headers=headers) as r:
            chunks: list[bytes] = []
            size = 0
            # Decoded bytes: a small compressed answer that inflates is bounded too.
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise _TooLarge
                chunks.append(chunk)
            return r.status_code, b"".join(chunks)

    async def call(
        self,
        partner: OicpPartner,
        name: OperationName,
        path_id: str | None,
        body: Mapping[str, Any],
        answer: type[AnswerT],
    ) -> AnswerT:
        """POST ``body`` as operation ``name`` to ``partner``; its answer as ``answer``.
        Raises ``PartnerCallFailed`` (module docstring) or ``NoSuchPartner``."""
        url = self.url(partner, name, path_id)
        who = partner.partner_id
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(self.timeout):
                status, raw = await self._post(url, body)
        except (TimeoutError, httpx.TimeoutException):
            log.warning("call %s to %s: no answer within %g s", name, who, self.timeout)
            raise PartnerCallFailed(
                who, CallFailure.NO_ANSWER, f"no answer within {self.timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            log.warning("call %s to %s: %s", name, who, type(exc).__name__)
            raise PartnerCallFailed(who, CallFailure.NO_ANSWER, "not reachable") from None
        except _TooLarge:
            log.warning("call %s to %s: answer over %d bytes", name, who, MAX_ANSWER_BYTES)
            raise PartnerCallFailed(who, CallFailure.NOT_OICP, "answer too large") from None
        millis = (loop.time() - started) * 1000
        try:
            parsed = answer.model_validate(json.loads(raw))
        except (ValueError, ValidationError, RecursionError):
            log.warning("call %s to %s: HTTP %d, not an OICP answer", name, who, status)
            raise PartnerCallFailed(
                who, CallFailure.NOT_OICP, f"HTTP {status}, not an OICP {name} answer"
            ) from None
        log.info("call %s to %s: HTTP %d in %.0f ms", name, who, status, millis)
        return parsed


# ------------------------------------------------------------------- answers as core


def ack_answer(ack: Acknowledgement) -> PartnerAnswer:
    return PartnerAnswer(
        accepted=ack.Result,
        code=ack.StatusCode.Code,
        body=ack.to_wire(),
        cpo_partner_session_id=ack.CPOPartnerSessionID,
        emp_partner_session_id=ack.EMPPartnerSessionID,
    )


def authorization_answer(
    response: AuthorizationStartResponse | AuthorizationStopResponse,
) -> PartnerAnswer:
    return PartnerAnswer(
        accepted=response.AuthorizationStatus is AuthorizationStatus.AUTHORIZED,
        code=response.StatusCode.Code,
        body=response.to_wire(),
        cpo_partner_session_id=response.CPOPartnerSessionID,
        emp_partner_session_id=response.EMPPartnerSessionID,
    )


def with_session(body: Mapping[str, Any], session: OicpSession) -> dict[str, Any]:
    """``body`` carrying the hub's SessionID and the partners' session IDs (the
    message's own when it has them, else the session's): digest §3."""
    out = dict(body)
    out["SessionID"] = session.session_id
    if session.cpo_partner_session_id and not out.get("CPOPartnerSessionID"):
        out["CPOPartnerSessionID"] = session.cpo_partner_session_id
    if session.emp_partner_session_id and not out.get("EMPPartnerSessionID"):
        out["EMPPartnerSessionID"] = session.emp_partner_session_id
    return out


def forwarder(
    calls: PartnerCalls,
    name: OperationName,
    path_id: str | None,
    body: Mapping[str, Any],
    answer: type[AnswerT],
    judge: Callable[[AnswerT], PartnerAnswer],
) -> OicpForward:
    """The ``OicpForward`` a service calls: ``body`` with the session's IDs, sent as
    ``name`` with ``path_id`` (the originating party's ID), the answer judged."""

    async def forward(partner: OicpPartner, session: OicpSession) -> PartnerAnswer:
        parsed = await calls.call(partner, name, path_id, with_session(body, session), answer)
        return judge(parsed)

    return forward


def failure_code(failure: CallFailure) -> Code:
    return (
        Code.PARTNER_DID_NOT_RESPOND
        if failure is CallFailure.NO_ANSWER
        else Code.SERVICE_NOT_AVAILABLE
    )


async def get_calls(request: Request) -> PartnerCalls:
    """The app's ``PartnerCalls`` (``app.state.oicp_calls``), set by the wiring when it
    builds the app from the settings (``web/oicp/app.py``). Async: FastAPI runs a plain
    ``def`` dependency on a worker thread, a hand-off per request for an attribute read."""
    calls = getattr(request.app.state, "oicp_calls", None)
    if not isinstance(calls, PartnerCalls):
        raise RuntimeError("the hub app was built without its PartnerCalls")
    return calls
