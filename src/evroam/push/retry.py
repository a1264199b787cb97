"""What a partner's answer to a push means, and when to try again.

OCPI says failed pushes are not queued (digest §1.1); evroam queues them anyway, because
an idempotent PUT or PATCH sent again costs nothing and the receiver keeps the newer
``last_updated``, while a change the partner never gets is a wrong status on a map until
it next pulls. What is retried is what may succeed later without anyone changing
anything (issue 8):

* no answer (timeout, connection refused or reset), HTTP 5xx, 408, 429, an answer that
  is not an OCPI envelope, OCPI 3xxx (the partner's server) and 4xxx (a hub's: the
  receiver behind it is offline or slow), except 4001 (the hub knows no such receiver);
* HTTP 401/403 while a credentials rotation may be in flight: the partner switched
  tokens and we have not committed its new one yet. Seen as: the token we sent is no
  longer the partner's token, or this is one of the first ``AUTH_GRACE`` attempts.

What the partner refuses (HTTP 4xx, OCPI 2xxx) will be refused again: a dead letter,
kept with the answer for the operator. Everything else is delivered (OCPI 1xxx).

Retries back off exponentially with "equal jitter": the delay is between half and all
of ``min(cap, base * 2**(attempts-1))``, so retries of many entries spread out instead
of hitting a recovering partner together, and never come sooner than half the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

#: 401/403 answers retried before they count as a refusal (a rotation's window).
AUTH_GRACE = 3


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


def classify(
    http_status: int | None,
    ocpi_status: int | None,
    *,
    attempts: int = 1,
    token_changed: bool = False,
) -> Verdict:
    """The verdict on one attempt. ``http_status`` None: no answer at all;
    ``ocpi_status`` None: no OCPI envelope. ``attempts`` counts this one."""
    if http_status is None:
        return Verdict.RETRY
    if http_status in (401, 403):
        return Verdict.RETRY if token_changed or attempts < AUTH_GRACE else Verdict.DEAD
    if http_status >= 500 or http_status in (408, 425, 429):
        return Verdict.RETRY
    if http_status >= 400:
        return Verdict.DEAD
    if ocpi_status is None:
        return Verdict.RETRY
    if 1000 <= ocpi_status < 2000:
        return Verdict.DELIVERED if http_status < 300 else Verdict.RETRY
    if 2000 <= ocpi_status < 3000 or ocpi_status == 4001:
        return Verdict.DEAD
    return Verdict.RETRY


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter; ``rand`` returns a float in [0, 1)."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempts: int, rand: Callable[[], float]) -> float:
        """Seconds before the next try, after ``attempts`` failed ones (1 or more)."""
        step = min(self.cap, self.base * 2.0 ** min(max(attempts - 1, 0), 62))
        return step / 2 + rand() * step / 2
