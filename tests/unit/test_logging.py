"""What the node logs, in-process: the public-URL warning at start, and the X-Request-ID
and calling partner on every record of a request (``core/logctx.py``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from evroam.config import Settings
from evroam.core.logctx import RequestIdFilter
from evroam.web.app import create_app
from tests.unit.partner_store import add_partner, open_store

TOKEN = "token-of-DE-ABC-0123456789"
PUBLIC_URL_WARNING = "no public URL set"


def settings(tmp_path: Path, **kw: object) -> Settings:
    base: dict[str, object] = dict(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", liveness_interval=0
    )
    return Settings(**(base | kw))  # type: ignore[arg-type]


async def start_and_stop(s: Settings) -> None:
    app = create_app(s)
    async with app.router.lifespan_context(app):
        pass


def warnings_about_public_url(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "evroam"
        and r.levelno == logging.WARNING
        and PUBLIC_URL_WARNING in r.getMessage()
    ]


async def test_a_node_on_all_interfaces_without_public_url_warns_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="evroam"):
        await start_and_stop(settings(tmp_path, host="0.0.0.0", port=8443))
    [warning] = warnings_about_public_url(caplog)
    assert "http://127.0.0.1:8443" in warning.getMessage()


@pytest.mark.parametrize(
    "kw",
    [
        {"host": "0.0.0.0", "public_url": "https://ocpi.example.com"},
        {"host": "127.0.0.1"},
    ],
    ids=["public-url-set", "loopback"],
)
async def test_no_public_url_warning_when_set_or_on_loopback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kw: dict[str, str]
) -> None:
    with caplog.at_level(logging.INFO, logger="evroam"):
        await start_and_stop(settings(tmp_path, **kw))
    assert any(r.name == "evroam" for r in caplog.records), "start-up was not logged at all"
    assert warnings_about_public_url(caplog) == []


class Collect(logging.Handler):
    """Keeps records after the filter the node's log handler carries has run on them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected() -> Iterator[Collect]:
    handler = Collect()
    logger = logging.getLogger("evroam")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for uow in open_store(tmp_path / "n.db"):
        await add_partner(uow, token=TOKEN)
    app = create_app(settings(tmp_path, max_body_bytes=2048))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as c:
            yield c


async def test_records_of_an_authenticated_request_carry_its_request_id_and_partner(
    client: httpx.AsyncClient, collected: Collect
) -> None:
    # The partner unregisters itself: the node logs it while answering.
    r = await client.delete(
        "/ocpi/2.2.1/credentials",
        headers={"Authorization": f"Token {TOKEN}", "X-Request-ID": "req-log-1"},
    )
    assert r.json()["status_code"] == 1000, r.text
    during = [r for r in collected.records if "unregistered itself" in r.getMessage()]
    assert len(during) == 1
    assert during[0].request_id == "req-log-1"  # type: ignore[attr-defined]
    assert during[0].partner == "DE-ABC"  # type: ignore[attr-defined]


async def test_the_next_request_does_not_inherit_the_previous_partner(
    client: httpx.AsyncClient, collected: Collect
) -> None:
    r = await client.get(
        "/ocpi/versions", headers={"Authorization": f"Token {TOKEN}", "X-Request-ID": "req-a"}
    )
    assert r.status_code == 200
    # Refused before any token is read: logged with its own id and no partner.
    r = await client.post(
        "/ocpi/2.2.1/credentials",
        content=b"x" * 3000,
        headers={"X-Request-ID": "req-b", "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    [refused] = [r for r in collected.records if "refused" in r.getMessage()]
    assert refused.request_id == "req-b"  # type: ignore[attr-defined]
    assert refused.partner == "-"  # type: ignore[attr-defined]


def test_records_outside_a_request_carry_placeholders() -> None:
    record = logging.LogRecord("evroam", logging.INFO, __file__, 1, "start", None, None)
    assert RequestIdFilter().filter(record)
    assert (record.request_id, record.partner) == ("-", "-")  # type: ignore[attr-defined]
