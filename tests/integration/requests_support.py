"""What the Commands and ChargingProfiles end-to-end tests share: an eMSP node (DE-MSP)
and CPO nodes behind a charge-point backend, started side by side on SQLite or
PostgreSQL for a module's tests and stopped at its end, and the routing headers of a
raw request from that eMSP to NL-CPO."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import NodeProcess, PgDatabases, pg_unavailable_reason

#: A request from the eMSP node's party to NL-CPO.
ROUTE = {
    "OCPI-from-country-code": "DE",
    "OCPI-from-party-id": "MSP",
    "OCPI-to-country-code": "NL",
    "OCPI-to-party-id": "CPO",
}

Start = Callable[[], NodeProcess]


def database_urls(
    backend: str, pg_databases: PgDatabases | None, workdir: Path, count: int
) -> list[str]:
    """``count`` fresh databases on ``backend`` (sqlite or postgres; skips without one)."""
    if backend == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        return [pg_databases.create() for _ in range(count)]
    return [f"sqlite+aiosqlite:///{workdir / f'n{i}.db'}" for i in range(count)]


def emsp_node(url: str, workdir: Path) -> Start:
    return lambda: NodeProcess(url, workdir, country_code="DE", party_id="MSP", roles=("EMSP",))


def cpo_node(url: str, workdir: Path, party_id: str, env: dict[str, str]) -> Start:
    """A CPO node NL-``party_id`` whose backend ``env`` configures."""
    return lambda: NodeProcess(url, workdir, country_code="NL", party_id=party_id, extra_env=env)


@contextmanager
def running(starts: Sequence[Start]) -> Iterator[list[NodeProcess]]:
    """The nodes started at once (each takes a few seconds to come up), stopped after."""
    with ThreadPoolExecutor(len(starts)) as pool:
        started = [f.result() for f in [pool.submit(start) for start in starts]]
    try:
        yield started
    finally:
        for node in started:
            node.stop()
