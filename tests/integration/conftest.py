"""Fixtures of the end-to-end tests: fake partner platforms, stopped at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.fake_partner import FakeFleet, FakePartner


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
