"""The retry policy of push delivery (``push/retry.py``): which answers are delivered,
retried or dead letters, and the backoff with a driven random source."""

from __future__ import annotations

import pytest

from evroam.push.retry import AUTH_GRACE, Backoff, Verdict, classify


@pytest.mark.parametrize(
    ("http_status", "ocpi_status", "verdict"),
    [
        (200, 1000, Verdict.DELIVERED),
        (201, 1000, Verdict.DELIVERED),
        (200, 1900, Verdict.DELIVERED),
        (None, None, Verdict.RETRY),  # timeout, connection refused
        (500, 3000, Verdict.RETRY),
        (502, None, Verdict.RETRY),
        (503, None, Verdict.RETRY),
        (429, None, Verdict.RETRY),
        (200, None, Verdict.RETRY),  # not an OCPI envelope
        (200, 3001, Verdict.RETRY),
        (200, 4002, Verdict.RETRY),  # a hub: forward timeout
        (200, 4003, Verdict.RETRY),  # a hub: receiver not connected
        (200, 4001, Verdict.DEAD),  # a hub: no such receiver
        (200, 2001, Verdict.DEAD),
        (200, 2003, Verdict.DEAD),
        (400, None, Verdict.DEAD),
        (404, 2003, Verdict.DEAD),
        (405, None, Verdict.DEAD),
        (413, None, Verdict.DEAD),
    ],
)
def test_verdicts(http_status: int | None, ocpi_status: int | None, verdict: Verdict) -> None:
    assert classify(http_status, ocpi_status) == verdict


def test_a_refused_token_is_retried_only_in_a_rotation_window() -> None:
    assert classify(401, 2000, attempts=1) == Verdict.RETRY
    assert classify(401, None, attempts=AUTH_GRACE) == Verdict.DEAD
    assert classify(403, None, attempts=AUTH_GRACE) == Verdict.DEAD
    assert classify(401, None, attempts=50, token_changed=True) == Verdict.RETRY


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    b = Backoff(base=1.0, cap=60.0)
    assert [b.delay(n, lambda: 0.0) for n in range(1, 9)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        30.0,
        30.0,
    ]
    assert [b.delay(n, lambda: 0.999999) for n in (1, 3, 20)] == pytest.approx([1.0, 4.0, 60.0])
    assert b.delay(10_000, lambda: 0.5) == 45.0  # huge attempt counts do not overflow
