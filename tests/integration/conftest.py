"""Fixtures of the end-to-end tests: fake partner platforms, stopped at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.fake_partner import FakeFleet, FakePartner
from tests.support import NodeProcess, PgDatabases, pg_unavailable_reason


@pytest.fixture
def fakes() -> Iterator[FakeFleet]:
    fleet = FakeFleet()
    yield fleet
    fleet.close()


@pytest.fixture
def partner_factory(fakes: FakeFleet) -> Callable[..., FakePartner]:
    """Starts fake partners that are the party DE-MAN, an EMSP, unless told otherwise."""

    def start(**kwargs: Any) -> FakePartner:
        party = {"country_code": "DE", "party_id": "MAN", "role": "EMSP", "name": "Manual partner"}
        return fakes.start(**(party | kwargs))

    return start


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def connected_nodes(
    request: pytest.FixtureRequest,
    pg_databases: PgDatabases | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    """Two real nodes registered with each other, shared by the tests of one module (per
    backend): a CPO (NL-CPO) and an eMSP (DE-MSP, which registered with the CPO). Tests
    that share them must use object ids of their own and leave the registration alone."""
    workdir = tmp_path_factory.mktemp("pair")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        urls = [pg_databases.create(), pg_databases.create()]
    else:
        urls = [f"sqlite+aiosqlite:///{workdir / name}" for name in ("cpo.db", "emsp.db")]
    cpo = NodeProcess(urls[0], workdir, country_code="NL", party_id="CPO", roles=("CPO",))
    emsp = NodeProcess(urls[1], workdir, country_code="DE", party_id="MSP", roles=("EMSP",))
    try:
        emsp.register_with(cpo)
        yield cpo, emsp
    finally:
        cpo.stop()
        emsp.stop()
