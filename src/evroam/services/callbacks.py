"""Requests answered later by a POST to the caller's ``response_url``: what Commands and
ChargingProfiles share on both sides (``core/callbacks.py``).

CPO side. A request the node accepted is kept WAITING until one of two things moves
it, each in one transaction with the POST it owes queued in the outbox (so a result,
once recorded, is never lost, and the partner gets it even if it is down a while):

* a result from the chargers (:meth:`Callbacks.answer`): DONE, the result POSTed;
* its ``timeout_at`` passing (:meth:`Callbacks.tick`, the watchdog): TIMEOUT, the
  kind's timeout result POSTed (for a command: CommandResult TIMEOUT, digest §5.6).

Both move the request with a conditional UPDATE (``WHERE state = 'WAITING'``), so of a
watchdog and a result racing, in one process or two, exactly one queues a POST. A result
that loses to the watchdog is kept as ``late_result`` for the operator and not sent (the
caller was told TIMEOUT already, and OCPI has no second result); a second result is
ignored. The watchdog reads first and writes only when something is due, so an idle
node does not take SQLite's write lock every tick.

eMSP side. A sent request waits for its result until ``expires_at`` (the CPO's timeout
plus ``expire_after``); the same tick marks those past it EXPIRED.

What a kind contributes: its module (for the outbox) and its timeout result, in the two
tables below; adding ChargingProfiles is an entry in each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Literal

from evroam.core.callbacks import (
    ReceivedRequest,
    ReceivedState,
    RequestKind,
    UnknownRequest,
    party_of,
)
from evroam.core.objects import Document, ObjectKey
from evroam.core.ports import UnitOfWork
from evroam.core.push import PushChange, PushMethod
from evroam.core.types import ModuleId
from evroam.services.context import PartnerContext

log = logging.getLogger("evroam.callbacks")

#: DisplayText.text is string(512) (types §"DisplayText class").
MAX_TEXT = 512
#: Most requests the watchdog times out in one transaction.
BATCH = 200

AnswerOutcome = Literal["sent", "late", "ignored"]
#: A kind's timeout result: (result, document POSTed to the response_url).
TimeoutResult = Callable[[ReceivedRequest], tuple[str, Document]]


def result_body(result: str, message: str | None = None) -> Document:
    """A result document (CommandResult and the ChargingProfiles results share the
    shape): ``result``, and the message as one English DisplayText."""
    body: Document = {"result": result}
    if message:
        body["message"] = [{"language": "en", "text": message[:MAX_TEXT]}]
    return body


def _command_timeout(request: ReceivedRequest) -> tuple[str, Document]:
    return "TIMEOUT", result_body("TIMEOUT", "the charge point did not answer in time")


def _profile_timeout(request: ReceivedRequest) -> tuple[str, Document]:
    # ChargingProfiles has no TIMEOUT result: UNKNOWN is the one value that claims
    # nothing about the charger (services/chargingprofiles.py says why).
    return "UNKNOWN", {"result": "UNKNOWN"}


#: The module whose outbox entries carry a kind's results.
MODULES: Mapping[RequestKind, ModuleId] = MappingProxyType(
    {RequestKind.COMMAND: ModuleId.COMMANDS, RequestKind.PROFILE: ModuleId.CHARGING_PROFILES}
)

#: What the node POSTs itself when a kind's request times out: (result, document).
TIMEOUT_RESULTS: Mapping[RequestKind, TimeoutResult] = MappingProxyType(
    {RequestKind.COMMAND: _command_timeout, RequestKind.PROFILE: _profile_timeout}
)


def result_change(request: ReceivedRequest, body: Document) -> PushChange:
    """The POST of ``body`` to the request's ``response_url``, for the partner holding
    the party that sent it, FROM the node's party it was addressed to."""
    cc, pid = party_of(request.party)
    return PushChange(
        MODULES[request.kind],
        ObjectKey(cc, pid, request.id),
        PushMethod.POST,
        (),
        body,
        audience=party_of(request.requester),
        url=request.response_url,
    )


class Callbacks:
    """The shared mechanics; one per node."""

    def __init__(
        self,
        ctx: PartnerContext,
        timeout_results: Mapping[RequestKind, TimeoutResult] = TIMEOUT_RESULTS,
    ) -> None:
        self.ctx = ctx
        self.timeout_results = timeout_results

    async def _queue(self, uow: UnitOfWork, changes: list[PushChange]) -> None:
        if self.ctx.outbox is None:
            log.warning("no push outbox: %d result(s) will not reach the partner", len(changes))
            return
        await self.ctx.outbox.enqueue(uow, changes)

    def _wake(self) -> None:
        if self.ctx.outbox is not None:
            self.ctx.outbox.wake()

    async def answer(
        self,
        request_id: str,
        result: str,
        body: Document,
        *,
        again: Callable[[ReceivedRequest], bool] | None = None,
    ) -> AnswerOutcome:
        """Record the chargers' result of a kept request and queue its POST, in one
        transaction: "sent". After TIMEOUT: kept as the late result, not sent ("late");
        a second result: "ignored", unless ``again`` allows it for the request as it is
        stored (a reservation the CPO cancels after accepting it: OCPI 2.2.1 has the
        CPO POST CANCELED_RESERVATION to the ReserveNow's response_url).
        UnknownRequest for an id the node does not keep."""
        now = self.ctx.now()
        message = body.get("message")
        text = None
        if isinstance(message, list) and message and isinstance(message[0], dict):
            text = str(message[0].get("text", ""))[:1000] or None
        async with self.ctx.uow() as uow:
            request = await uow.received_requests.get(request_id)
            if request is None:
                raise UnknownRequest(f"unknown request {request_id!r}")
            repo = uow.received_requests
            expected = ReceivedState.WAITING
            if request.state == ReceivedState.DONE and again is not None and again(request):
                expected = ReceivedState.DONE
            if await repo.finish(request_id, expected, ReceivedState.DONE, result, text, body, now):
                await self._queue(uow, [result_change(request, body)])
                await uow.commit()
                self._wake()
                return "sent"
            # Timed out (maybe a moment ago, by another process), or answered already.
            late = await repo.keep_late(request_id, result, now)
            await uow.commit()
        if late:
            log.info(
                "request %s: result %s came after its timeout: kept, not sent", request_id, result
            )
            return "late"
        log.info("request %s: a second result (%s) ignored", request_id, result)
        return "ignored"

    async def refuse(self, request_id: str, result: str, message: str | None) -> bool:
        """The backend could not take a WAITING request: REFUSED, nothing queued (the
        caller is answered so at once). False when it had moved on already."""
        async with self.ctx.uow() as uow:
            done = await uow.received_requests.finish(
                request_id,
                ReceivedState.WAITING,
                ReceivedState.REFUSED,
                result,
                message,
                None,
                self.ctx.now(),
            )
            await uow.commit()
        return done

    async def tick(self) -> tuple[int, int]:
        """One round of the watchdog: WAITING requests past their timeout answered by
        the node (TIMEOUT queued), sent requests past ``expires_at`` EXPIRED; how many of
        each. Reads first; a write only when something is due."""
        now = self.ctx.now()
        async with self.ctx.uow(read_only=True) as uow:
            overdue = await uow.received_requests.overdue(now, BATCH)
            expiring = await uow.sent_requests.overdue(now, 1)
        timed_out = expired = 0
        if overdue:
            async with self.ctx.uow() as uow:
                changes = []
                for request in overdue:
                    # A kind without a timeout result (none defined yet) still leaves
                    # WAITING, so it is not read again every tick; nothing is sent.
                    make = self.timeout_results.get(request.kind)
                    result, body = make(request) if make is not None else ("TIMEOUT", None)
                    text = "no answer from the charge point in time"
                    if (
                        await uow.received_requests.finish(
                            request.id,
                            ReceivedState.WAITING,
                            ReceivedState.TIMEOUT,
                            result,
                            text,
                            body,
                            now,
                        )
                        and body is not None
                    ):
                        changes.append(result_change(request, body))
                await self._queue(uow, changes)
                await uow.commit()
            timed_out = len(changes)
            if changes:
                self._wake()
                log.info("%d request(s) timed out: TIMEOUT sent", timed_out)
        if expiring:
            async with self.ctx.uow() as uow:
                expired = await uow.sent_requests.expire(now)
                await uow.commit()
            if expired:
                log.info("%d sent request(s) expired without a result", expired)
        return timed_out, expired

    async def run(self, interval: float) -> None:
        """Tick every ``interval`` seconds until cancelled (a lifespan task)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except Exception:  # the database may be away a moment: next tick
                log.exception("request watchdog failed")
