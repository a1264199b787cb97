"""``evroam sync``: an eMSP node pulls a CPO's Sender lists and fills the gap of what it
missed (issue 8, "Pull to catch up"), on SQLite and PostgreSQL.

``gap``: a CPO node (NL-CPO, Sender pages of at most 2 objects) holds tariffs,
locations, sessions and CDRs made before the eMSP node (DE-MSP) registered with it, so no
push ever carried them: the eMSP missed them all. Its tests leave the registration
alone. ``SenderFake`` is a CPO platform whose Locations Sender serves what a test tells
it to (an invalid object, an object of a party it does not hold, Link across pages):
what real nodes never serve. Object ids start with ``SY-``/``FK-``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.requests import Request
from starlette.responses import Response

from evroam.ocpi.common.timeutil import format_datetime
from tests.integration.fake_partner import FakePartner, read_token, wait_until
from tests.integration.test_cdrs import cdr
from tests.integration.test_cli import on, run
from tests.integration.test_locations import location
from tests.integration.test_sessions import session
from tests.integration.test_tariffs import tariff
from tests.support import NodeProcess, PgDatabases, pg_unavailable_reason

Pair = tuple[NodeProcess, NodeProcess]
OLD, NEW = "2026-11-01T10:00:00Z", "2026-11-20T10:00:00Z"
SINCE = "2026-11-10T00:00:00Z"
LOCATIONS = {"SY-L1": OLD, "SY-L2": OLD, "SY-L3": NEW, "SY-L4": NEW, "SY-L5": NEW}
TARIFFS = {"SY-T1": OLD, "SY-T2": NEW}
SESSIONS = {"SY-S1": OLD, "SY-S2": NEW, "SY-S3": NEW}
CDRS = {"SY-C1": OLD, "SY-C2": NEW}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def gap(
    request: pytest.FixtureRequest,
    pg_databases: PgDatabases | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("sync")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        urls = [pg_databases.create(), pg_databases.create()]
    else:
        urls = [f"sqlite+aiosqlite:///{workdir / name}" for name in ("cpo.db", "emsp.db")]
    cpo = NodeProcess(
        urls[0],
        workdir,
        country_code="NL",
        party_id="CPO",
        roles=("CPO",),
        extra_env={"EVROAM_MAX_PAGE_LIMIT": "2"},
    )
    emsp = None
    try:
        for tid, at in TARIFFS.items():
            load(cpo, "PUT", f"/tariffs/NL/CPO/{tid}", tariff(tid, at))
        for lid, at in LOCATIONS.items():
            load(cpo, "PUT", f"/locations/NL/CPO/{lid}", location(lid, last_updated=at))
        for sid, at in SESSIONS.items():
            load(cpo, "PUT", f"/sessions/NL/CPO/{sid}", session(sid, last_updated=at))
        for cid, at in CDRS.items():
            load(cpo, "POST", "/cdrs", cdr(cid, at))
        emsp = NodeProcess(urls[1], workdir, country_code="DE", party_id="MSP", roles=("EMSP",))
        emsp.register_with(cpo)
        yield cpo, emsp
    finally:
        cpo.stop()
        if emsp is not None:
            emsp.stop()


def load(node: NodeProcess, method: str, path: str, body: Any) -> None:
    """The CPO's operator stores one of its own objects."""
    assert node.api(method, path, body)["status_code"] == 1000, (method, path)


def received(node: NodeProcess, module: str, key: str) -> Any:
    """The object as ``node``'s operator API shows it, or None when it holds none."""
    answer = node.api("GET", f"/{module}/NL/CPO/{key}")
    return answer.get("data") if answer.get("status_code") == 1000 else None


def table_row(out: str, module: str) -> list[str]:
    """The summary table's row of ``module``: pages, received, stored, unchanged, refused."""
    for text_line in out.splitlines():
        cells = text_line.split()
        if cells and cells[0] == module:
            return cells[1:]
    raise AssertionError(f"no row for {module} in:\n{out}")


def test_cli_sync_fills_the_gap_after_the_receiver_missed_changes(gap: Pair) -> None:
    cpo, emsp = gap
    assert received(emsp, "locations", "SY-L1") is None, "the eMSP missed the CPO's data"
    assert received(emsp, "cdrs", "SY-C1") is None

    result = run("sync", "NL-CPO", *on(emsp))

    out = result.stdout
    # pages (of at most 2), received, stored (created + updated), unchanged, refused
    assert table_row(out, "locations") == ["3", "5", "5", "0", "0"]
    assert table_row(out, "tariffs") == ["1", "2", "2", "0", "0"]
    assert table_row(out, "sessions") == ["2", "3", "3", "0", "0"]
    assert table_row(out, "cdrs") == ["1", "2", "2", "0", "0"]
    assert "tokens" not in out, "a CPO sends no tokens to an eMSP"
    assert out.index("tariffs") < out.index("locations"), "tariffs first: locations use them"
    # Stored exactly as the CPO serves them (a push would have carried the same).
    for module, keys in (
        ("locations", LOCATIONS),
        ("tariffs", TARIFFS),
        ("sessions", SESSIONS),
        ("cdrs", CDRS),
    ):
        for key in keys:
            assert received(emsp, module, key) == received(cpo, module, key), (module, key)


def test_api_sync_since_pulls_only_newer_objects(gap: Pair) -> None:
    _, emsp = gap
    job = emsp.api(
        "POST",
        "/partners/NL-CPO/sync?wait=30",
        {"modules": ["locations", "TARIFFS"], "since": SINCE},
        expect=200,
    )
    assert job["state"] == "done" and job["trigger"] == "operator"
    assert job["since"] == SINCE
    by_module = {m["module"]: m for m in job["modules"]}
    assert list(by_module) == ["tariffs", "locations"]
    newer = [k for k, at in LOCATIONS.items() if at == NEW]
    assert by_module["locations"]["received"] == len(newer) == 3
    assert by_module["locations"]["pages"] == 2
    assert by_module["locations"]["total"] == 3, "the partner's X-Total-Count"
    assert by_module["tariffs"]["received"] == 1
    assert by_module["locations"]["stored"] + by_module["locations"]["unchanged"] == 3
    for lid in newer:
        assert received(emsp, "locations", lid)["last_updated"] == NEW
    # The job is kept for the operator (and the CLI's progress).
    again = emsp.api("GET", f"/partners/NL-CPO/sync/{job['id']}", expect=200)
    assert again["id"] == job["id"] and again["state"] == "done"
    assert job["id"] in [j["id"] for j in emsp.api("GET", "/partners/NL-CPO/sync", expect=200)]


def test_cli_sync_since_pulls_only_newer_objects(gap: Pair) -> None:
    _, emsp = gap
    result = run("sync", "NL-CPO", "sessions", "Tariffs", "--since", SINCE, "--json", *on(emsp))
    job = json.loads(result.stdout)
    assert job["since"] == SINCE and job["state"] == "done"
    counts = {m["module"]: m["received"] for m in job["modules"]}
    assert counts == {"tariffs": 1, "sessions": 2}, "only what changed at or after --since"


def test_a_module_the_partner_offers_no_sender_for_is_a_clear_error(gap: Pair) -> None:
    _, emsp = gap
    answer = emsp.api("POST", "/partners/NL-CPO/sync", {"modules": ["tokens"]}, expect=422)
    assert "offers no tokens Sender" in answer["detail"]
    answer = emsp.api("POST", "/partners/NL-CPO/sync", {"modules": ["commands"]}, expect=422)
    assert "not a module with a Sender list" in answer["detail"]
    result = run("sync", "NL-CPO", "tokens", *on(emsp), ok=False)
    assert result.returncode == 1
    assert "offers no tokens Sender" in result.stderr
    unknown = emsp.api("POST", "/partners/XX-NOP/sync", {}, expect=404)
    assert unknown["error"] == "PartnerNotFound"


# --------------------------------------------------------------------- a hostile Sender


class SenderFake(FakePartner):
    """A CPO platform whose Locations Sender serves ``pages``: page i at ``?offset=i``,
    with ``Link`` to the next and ``X-Total-Count`` of all items. It records the query of
    each list request in ``list_queries``."""

    def __init__(self, pages: list[list[Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pages = pages
        self.list_queries: list[dict[str, list[str]]] = []

    @property
    def sender_url(self) -> str:
        return f"{self.base_url}/ocpi/2.2.1/sender/locations"

    def version_details(self) -> dict[str, Any]:
        details = super().version_details()
        details["endpoints"].append(
            {"identifier": "locations", "role": "SENDER", "url": self.sender_url}
        )
        return details

    async def _handle(self, request: Request) -> Response:
        if request.url.path.rstrip("/") != "/ocpi/2.2.1/sender/locations":
            return await super()._handle(request)
        if read_token(request.headers.get("authorization")) not in self.accepted:
            return self._refuse(request)
        query = parse_qs(request.url.query)
        self.list_queries.append(query)
        index = int(query.get("offset", ["0"])[0])
        headers = {"X-Total-Count": str(sum(len(p) for p in self.pages)), "X-Limit": "2"}
        if index + 1 < len(self.pages):
            headers["Link"] = f'<{self.sender_url}?offset={index + 1}>; rel="next"'
        body = {"data": self.pages[index], "status_code": 1000, "timestamp": NEW}
        return Response(json.dumps(body), headers=headers, media_type="application/json")


def fake_location(lid: str, country_code: str = "NL", party_id: str = "FAK") -> dict[str, Any]:
    return location(lid, country_code=country_code, party_id=party_id, last_updated=NEW)


def test_invalid_and_foreign_objects_are_refused_and_the_rest_stored(
    node_factory: Any,
) -> None:
    bad = fake_location("FK-\x1b[2J")
    del bad["address"]
    fake = SenderFake(
        [
            [fake_location("FK-1"), bad],
            [fake_location("FK-OTHER", "XX", "OTH"), "not an object"],
            [fake_location("FK-2")],
        ],
        country_code="NL",
        party_id="FAK",
        role="CPO",
    ).start()
    try:
        emsp = node_factory("DE", "MSP", roles=("EMSP",))
        emsp.api(
            "POST",
            "/partners/register",
            {"versions_url": fake.versions_url, "token": fake.issue_token_a()},
            expect=201,
        )
        job = emsp.api("POST", "/partners/NL-FAK/sync?wait=30", {}, expect=200)
        assert job["state"] == "done"
        [locations] = job["modules"]  # the only Sender it offers
        assert locations["module"] == "locations"
        assert locations["pages"] == 3 and locations["total"] == 5
        assert locations["received"] == 5
        assert locations["created"] == 2 and locations["refused"] == 3
        reasons = locations["reasons"]
        assert any("item 1 (id 'FK-\\x1b[2J')" in r and "address" in r for r in reasons), reasons
        assert any(
            "XX-OTH/FK-OTHER" in r and "not one of the partner's parties (NL-FAK)" in r
            for r in reasons
        ), reasons
        assert any(r.startswith("item 3: ") for r in reasons), reasons
        assert fake.list_queries[0] == {}, "no date_from asked for, none sent"
        assert emsp.api("GET", "/locations/NL/FAK/FK-1")["status_code"] == 1000
        assert emsp.api("GET", "/locations/NL/FAK/FK-2")["status_code"] == 1000
        assert emsp.api("GET", "/locations/XX/OTH/FK-OTHER")["status_code"] != 1000

        # The CLI shows the partner's text escaped, never as terminal controls.
        result = run("sync", "NL-FAK", "--since", "2026-11-10", *on(emsp))
        assert "\x1b" not in result.stdout
        assert "FK-\\x1b[2J" in result.stdout
        assert table_row(result.stdout, "locations") == ["3", "5", "2", "0", "3"]
        assert fake.list_queries[-3]["date_from"] == ["2026-11-10T00:00:00Z"]
    finally:
        fake.stop()


def test_a_partner_back_from_offline_is_caught_up_by_the_schedule(node_factory: Any) -> None:
    """The liveness loop finds the partner OFFLINE, then back: one sync of its modules
    runs by itself, since its last contact minus the margin (``EVROAM_SYNC__MARGIN``)."""
    fake = SenderFake([[fake_location("FK-BEFORE")]], country_code="NL", party_id="FAK").start()
    try:
        emsp = node_factory(
            "DE",
            "MSP",
            roles=("EMSP",),
            extra_args=("--liveness-interval", "1"),
            extra_env={"EVROAM_SYNC__MARGIN": "60"},
        )
        emsp.api(
            "POST",
            "/partners/register",
            {"versions_url": fake.versions_url, "token": fake.issue_token_a()},
            expect=201,
        )
        fake.stop()
        wait_until(lambda: emsp.api("GET", "/partners/NL-FAK")["status"] == "OFFLINE")
        before = emsp.api("GET", "/partners/NL-FAK")
        assert emsp.api("GET", "/partners/NL-FAK/sync", expect=200) == []

        fake.pages = [[fake_location("FK-BEFORE"), fake_location("FK-MISSED")]]
        fake.start()
        [job] = wait_until(lambda: emsp.api("GET", "/partners/NL-FAK/sync", expect=200))
        job = wait_until(
            lambda: (
                (j := emsp.api("GET", f"/partners/NL-FAK/sync/{job['id']}"))["state"] != "running"
                and j
            )
        )
        assert job["trigger"] == "after-offline" and job["state"] == "done", job
        last_contact = datetime.fromisoformat(before["last_connection"].replace("Z", "+00:00"))
        assert job["since"] == format_datetime(last_contact - timedelta(seconds=60))
        assert fake.list_queries[-1]["date_from"] == [job["since"]]
        assert emsp.api("GET", "/locations/NL/FAK/FK-MISSED")["status_code"] == 1000
        assert wait_until(lambda: emsp.api("GET", "/partners/NL-FAK")["status"] == "CONNECTED")
        assert len(emsp.api("GET", "/partners/NL-FAK/sync", expect=200)) == 1, "once"
    finally:
        fake.stop()
