"""An in-process stand-in for a hub: an ``httpx.MockTransport`` that records every
request (path, query, JSON body, when it started and ended) and answers from a queue
the test fills, or with a positive acknowledgement."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

OK = {"Result": True, "StatusCode": {"Code": "000", "Description": "Success"}}


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    body: Any
    started: float
    ended: float = 0.0


@dataclass
class StubHub:
    answers: list[httpx.Response | Callable[[httpx.Request], httpx.Response]] = field(
        default_factory=list
    )
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)

    def answer(self, body: Any, status: int = 200, **headers: str) -> None:
        self.answers.append(httpx.Response(status, json=body, headers=headers))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        seen = Seen(
            request.url.path,
            dict(request.url.params),
            json.loads(request.content) if request.content else None,
            time.monotonic(),
        )
        self.seen.append(seen)
        if self.delay:
            await asyncio.sleep(self.delay)
        seen.ended = time.monotonic()
        if not self.answers:
            return httpx.Response(200, json=OK)
        answer = self.answers.pop(0)
        return answer(request) if callable(answer) else answer

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


class Sleeps:
    """A sleep that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
