"""``evroam data import|export|show``: the real console script, run as a subprocess
against real nodes, on SQLite and PostgreSQL.

One node per backend is shared by the module (``node``). It holds three CPO parties and
an eMSP party, and each test writes under a party of its own (or a module of its own),
so a test's ``export --party`` shows exactly the objects that test imported:

- NL-CPO: locations of the round trip, tariffs with a refusal;
- NL-BLK: the import of more than one batch of locations;
- NL-AUX: the progress bar and the over-sized object;
- DE-MSP: tokens with a refusal.

A party that is not the node's own is BE-XXX. Only the body limit test starts a node of
its own (SQLite: the 413 is decided before storage is reached).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cdrs import cdr
from tests.integration.test_cli import run
from tests.integration.test_sessions import session
from tests.support import NodeProcess, PgDatabases, free_port, pg_unavailable_reason

ADMIN_TOKEN = "data-admin-secret-0123456789"
STAMP = "2026-11-20T10:00:00Z"
#: Parties the shared node holds (country code, party id, role), after its first, NL-CPO.
MORE_PARTIES = (("NL", "BLK", "CPO"), ("NL", "AUX", "CPO"), ("DE", "MSP", "EMSP"))
#: What the node says of a write for a party that is not its own.
NOT_OURS = "BE-XXX is not one of this node's "
#: A refusal line of the text report: ``  #index CC-PID/ID: reason``.
REFUSAL = re.compile(r"^  #(\d+) (\S+): (.*)$")


# --------------------------------------------------------------------------- objects


def connector(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "last_updated": STAMP,
    }


def evse(uid: str, status: str = "AVAILABLE") -> dict[str, Any]:
    return {"uid": uid, "status": status, "connectors": [connector("1")], "last_updated": STAMP}


def location(party: str, lid: str, **over: Any) -> dict[str, Any]:
    """A small valid Location (no EVSE unless ``evses`` is given)."""
    cc, _, pid = party.partition("-")
    doc: dict[str, Any] = {
        "country_code": cc,
        "party_id": pid,
        "id": lid,
        "publish": True,
        "address": "Street 1",
        "city": "Town",
        "country": "NLD",
        "coordinates": {"latitude": "52.123456", "longitude": "4.123456"},
        "time_zone": "Europe/Amsterdam",
        "last_updated": STAMP,
    }
    doc.update(over)
    return doc


def tariff(party: str, tid: str, currency: str = "EUR") -> dict[str, Any]:
    cc, _, pid = party.partition("-")
    return {
        "country_code": cc,
        "party_id": pid,
        "id": tid,
        "currency": currency,
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1}]}
        ],
        "last_updated": STAMP,
    }


def token(party: str, uid: str, token_type: str = "RFID") -> dict[str, Any]:
    cc, _, pid = party.partition("-")
    return {
        "country_code": cc,
        "party_id": pid,
        "uid": uid,
        "type": token_type,
        "contract_id": f"DE-MSP-{uid}",
        "issuer": "evroam tests",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": STAMP,
    }


def json_lines(objects: list[Any]) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


# --------------------------------------------------------------------------- the CLI


def evroam(
    *args: str,
    node: NodeProcess | None = None,
    stdin: str | None = None,
    env: dict[str, str | None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``evroam args`` (with ``--node``/``--admin-token`` of ``node``) as ``test_cli.run``
    runs it, whatever its exit status; ``stdin`` is fed to the command."""
    target = ["--node", node.url, "--admin-token", node.admin_token] if node else []
    return run(*args, *target, env=env, ok=False, stdin=stdin)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a command that must succeed."""
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}{result.stderr}"
    return result.stdout


def exported(node: NodeProcess, module: str, party: str) -> list[dict[str, Any]]:
    """``evroam data export MODULE --party PARTY``, checked to be JSON lines: one compact
    object a line, nothing else on stdout."""
    out = ok(evroam("data", "export", module, "--party", party, node=node))
    objects = []
    for raw in out.splitlines():
        obj = json.loads(raw)
        assert isinstance(obj, dict), raw
        objects.append(obj)
    assert out == "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objects)
    return objects


def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(o.get("id", o.get("uid"))): o for o in objects}


def refusals(text: str) -> list[tuple[int, str, str]]:
    """The refusal lines of a text report as (index, object, reason)."""
    found = [REFUSAL.match(raw) for raw in text.splitlines()]
    return [(int(m[1]), m[2], m[3]) for m in found if m]


def log_count(node: NodeProcess, needle: str) -> int:
    return node.log().count(needle)


def wait_log_count(node: NodeProcess, needle: str, expected: int) -> int:
    """The node's access log line may land a moment after the CLI has its answer."""
    deadline = time.monotonic() + 3
    while (count := log_count(node, needle)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


# --------------------------------------------------------------------------- nodes


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def node(
    request: pytest.FixtureRequest,
    pg_databases: PgDatabases | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NodeProcess]:
    """One node per backend for the whole module: NL-CPO plus ``MORE_PARTIES``."""
    workdir = tmp_path_factory.mktemp("data-cli")
    if request.param == "postgres":
        if pg_databases is None:
            pytest.skip(pg_unavailable_reason() or "PostgreSQL unavailable")
        url = pg_databases.create()
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'node.db'}"
    extra: list[str] = []
    for cc, pid, role in MORE_PARTIES:
        extra += ["--country-code", cc, "--party-id", pid, "--role", role]
    started = NodeProcess(
        url,
        workdir,
        country_code="NL",
        party_id="CPO",
        roles=("CPO",),
        admin_token=ADMIN_TOKEN,
        extra_args=tuple(extra),
    )
    try:
        yield started
    finally:
        started.stop()


# --------------------------------------------------------------------------- 1. round trip


def test_import_list_lines_object_and_stdin_then_show_and_export_give_them_back(
    node: NodeProcess, tmp_path: Path
) -> None:
    """Each input shape the README promises reaches the node whole, and what ``show`` and
    ``export`` print is what was imported: an operator can export, edit and re-import."""
    full = location("NL-CPO", "RT-LIST-1", evses=[evse("E1"), evse("E2", "CHARGING")])
    as_list = [full, location("NL-CPO", "RT-LIST-2", name="Garage")]
    as_lines = [location("NL-CPO", f"RT-LINES-{i}") for i in range(3)]
    single = location("NL-CPO", "RT-ONE", evses=[evse("E9")], postal_code="1234AB")
    piped = [location("NL-CPO", "RT-STDIN-1"), location("NL-CPO", "RT-STDIN-2")]

    list_file = tmp_path / "list.json"
    list_file.write_text(json.dumps(as_list, indent=2))
    lines_file = tmp_path / "lines.jsonl"
    lines_file.write_text(json_lines(as_lines) + "\n\n")  # blank lines at the end are no objects
    one_file = tmp_path / "one.json"
    one_file.write_text(json.dumps(single, indent=2))  # several lines, yet one object

    runs = [
        (str(list_file), None, as_list),
        (str(lines_file), None, as_lines),
        (str(one_file), None, [single]),
        ("-", json_lines(piped), piped),
    ]
    for source, stdin, objects in runs:
        out = ok(evroam("data", "import", "locations", source, node=node, stdin=stdin))
        assert f"imported {len(objects)} of {len(objects)} locations" in out, out
        assert refusals(out) == []
    answer = json.loads(
        ok(evroam("data", "import", "locations", "-", "--json", node=node, stdin=json_lines(piped)))
    )
    assert answer == {"module": "locations", "imported": len(piped), "failed": []}

    everything = as_list + as_lines + [single] + piped
    for obj in (full, as_lines[2], single, piped[1]):  # one of each input shape
        shown = json.loads(ok(evroam("data", "show", "locations", "NL-CPO", obj["id"], node=node)))
        assert shown == obj
    assert by_id(exported(node, "locations", "NL-CPO")) == by_id(everything)


# --------------------------------------------------------------------------- 2. batches


#: Positions of the refused objects among the 1,200 of the bulk file, and why. Batches are
#: 0-499, 500-999 and 1000-1199: refusals sit at batch edges, and in the second batch an
#: unreadable line comes before a refused object (it is not sent, so the node's positions
#: in that batch are shifted by one from the file's).
BULK_SIZE = 1200
BULK_REFUSED = {
    3: "foreign",
    499: "status",
    600: "not json",
    650: "foreign",
    1000: "status",
    1199: "not json",
}


def bulk_file(path: Path) -> Path:
    lines = []
    for i in range(BULK_SIZE):
        kind = BULK_REFUSED.get(i)
        if kind == "foreign":
            lines.append(json.dumps(location("BE-XXX", f"B{i}")))
        elif kind == "status":
            lines.append(json.dumps(location("NL-BLK", f"B{i}", evses=[evse("E1", "BROKEN")])))
        elif kind == "not json":
            lines.append('{"country_code": "NL", "id": ')
        else:
            lines.append(json.dumps(location("NL-BLK", f"B{i}")))
    path.write_text("\n".join(lines) + "\n")
    return path


def check_bulk_reason(index: int, label: str, reason: str) -> None:
    kind = BULK_REFUSED[index]
    if kind == "foreign":
        assert label == f"BE-XXX/B{index}"
        assert reason.startswith("2001: ") and NOT_OURS in reason, reason
    elif kind == "status":
        assert label == f"NL-BLK/B{index}"
        assert reason.startswith("2001: ") and "evses[0].status" in reason, reason
    else:
        assert label == "?"
        assert reason.startswith(f"line {index + 1}: not JSON"), reason


def test_import_of_several_batches_reports_each_refusal_and_stores_the_rest(
    node: NodeProcess, tmp_path: Path
) -> None:
    """1,200 locations go in three batch requests; a refused object (by the node, or
    unreadable) is reported at its own position with its reason, in text and in JSON,
    and does not keep any other object of its batch out."""
    path = bulk_file(tmp_path / "bulk.jsonl")
    batch_line = '"POST /api/v1/locations/batch '
    before = log_count(node, batch_line)

    text = evroam("data", "import", "locations", str(path), node=node)
    assert text.returncode == 1, text.stdout + text.stderr
    stored = BULK_SIZE - len(BULK_REFUSED)
    assert f"imported {stored} of {BULK_SIZE} locations" in text.stdout, text.stdout
    reported = refusals(text.stdout)
    assert [index for index, _, _ in reported] == sorted(BULK_REFUSED)
    for index, label, reason in reported:
        check_bulk_reason(index, label, reason)
    # Three batches (500, 500, 200), no request per object.
    assert wait_log_count(node, batch_line, before + 3) == before + 3
    assert '"PUT /api/v1/locations/NL/BLK/' not in node.log()

    again = evroam("data", "import", "locations", str(path), "--json", node=node)
    assert again.returncode == 1, again.stdout + again.stderr
    answer = json.loads(again.stdout)
    assert answer["module"] == "locations" and answer["imported"] == stored
    assert [f["index"] for f in answer["failed"]] == sorted(BULK_REFUSED)
    for failure in answer["failed"]:
        assert set(failure) == {"index", "object", "error"}
        check_bulk_reason(failure["index"], failure["object"], failure["error"])

    expected = {f"B{i}" for i in range(BULK_SIZE) if i not in BULK_REFUSED}
    assert set(by_id(exported(node, "locations", "NL-BLK"))) == expected
    refused = evroam("data", "show", "locations", "NL-BLK", "B499", node=node)
    assert refused.returncode == 1 and "404" in refused.stderr, refused.stderr


# --------------------------------------------------------------------------- 3. per object


def test_import_of_tariffs_reports_the_refused_one_and_stores_the_others(
    node: NodeProcess, tmp_path: Path
) -> None:
    """Tariffs go in a batch too; an invalid one is reported with the node's reason."""
    tariffs = [tariff("NL-CPO", "TA-1"), tariff("NL-CPO", "TA-2", "EURO"), tariff("NL-CPO", "TA-3")]
    path = tmp_path / "tariffs.json"
    path.write_text(json.dumps(tariffs))

    text = evroam("data", "import", "tariffs", str(path), node=node)
    assert text.returncode == 1, text.stdout + text.stderr
    assert "imported 2 of 3 tariffs" in text.stdout, text.stdout
    [(index, label, reason)] = refusals(text.stdout)
    assert (index, label) == (1, "NL-CPO/TA-2")
    assert reason.startswith("2001: ") and "currency" in reason, reason

    answer = json.loads(evroam("data", "import", "tariffs", str(path), "--json", node=node).stdout)
    assert answer["module"] == "tariffs" and answer["imported"] == 2
    [failure] = answer["failed"]
    assert (failure["index"], failure["object"]) == (1, "NL-CPO/TA-2")
    assert "currency" in failure["error"]

    assert by_id(exported(node, "tariffs", "NL-CPO")) == by_id([tariffs[0], tariffs[2]])
    shown = json.loads(ok(evroam("data", "show", "tariffs", "NL-CPO", "TA-3", node=node)))
    assert shown == tariffs[2]


def test_import_of_tokens_refuses_a_foreign_party_and_stores_the_others(
    node: NodeProcess, tmp_path: Path
) -> None:
    """Tokens go in a batch, each on its uid and type; a token of a party that is not
    the node's own is reported with the node's reason, the others are stored."""
    tokens = [
        token("DE-MSP", "TK-1"),
        token("DE-MSP", "TK-2", "APP_USER"),
        token("BE-XXX", "TK-3"),
        token("DE-MSP", "TK-4"),
    ]
    path = tmp_path / "tokens.jsonl"
    path.write_text(json_lines(tokens))

    answer = json.loads(evroam("data", "import", "tokens", str(path), "--json", node=node).stdout)
    assert answer["module"] == "tokens" and answer["imported"] == 3
    [failure] = answer["failed"]
    assert (failure["index"], failure["object"]) == (2, "BE-XXX/TK-3")
    assert failure["error"].startswith("2001: ") and NOT_OURS in failure["error"]

    text = evroam("data", "import", "tokens", str(path), node=node)
    assert text.returncode == 1
    assert "imported 3 of 4 tokens" in text.stdout, text.stdout
    assert [(i, label) for i, label, _ in refusals(text.stdout)] == [(2, "BE-XXX/TK-3")]

    assert by_id(exported(node, "tokens", "DE-MSP")) == by_id([tokens[0], tokens[1], tokens[3]])
    shown = evroam("data", "show", "tokens", "DE-MSP", "TK-2", "--type", "APP_USER", node=node)
    assert json.loads(ok(shown)) == tokens[1]


# --------------------------------------------------------------------------- 4. progress


def test_progress_bar_stays_off_json_stdout(node: NodeProcess, tmp_path: Path) -> None:
    """With a terminal forced, the bar is drawn (on stderr) while stdout stays one JSON
    document a script can parse: on both paths, batched (locations) and per object."""
    terminal: dict[str, str | None] = {
        "FORCE_COLOR": "1",
        "TTY_COMPATIBLE": "1",
        "NO_COLOR": None,
        "TERM": "xterm",
    }
    cases = {
        "locations": [location("NL-AUX", f"PG-{i}") for i in range(30)],
        "tariffs": [tariff("NL-AUX", f"PG-{i}") for i in range(5)] + [{"id": "PG-x"}],
    }
    for module, objects in cases.items():
        path = tmp_path / f"{module}.json"
        path.write_text(json.dumps(objects))
        result = evroam("data", "import", module, str(path), "--json", node=node, env=terminal)
        assert f"importing {module}" in result.stderr, "no progress bar was drawn"
        answer = json.loads(result.stdout)
        refused = 1 if module == "tariffs" else 0
        assert result.returncode == refused, result.stdout + result.stderr
        assert answer["imported"] == len(objects) - refused
        assert [f["index"] for f in answer["failed"]] == ([5] if refused else [])


# --------------------------------------------------------------------------- 5. body limit


def test_an_object_over_the_body_limit_is_refused_alone(node: NodeProcess, tmp_path: Path) -> None:
    """A Location larger than the node's default body limit (1 MB) travels in a batch of
    its own: it alone is reported, with the node's 413 (the node reads and drops a body
    this size first, so the answer arrives instead of a reset); its neighbours, before
    and after, are stored."""
    objects = [location("NL-AUX", f"BIG-{i}") for i in range(10)]
    objects[5] = location("NL-AUX", "BIG-5", name="x" * 1_100_000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(objects))

    result = evroam("data", "import", "locations", str(path), "--json", node=node)
    assert result.returncode == 1, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["imported"] == 9
    [failure] = answer["failed"]
    assert (failure["index"], failure["object"]) == (5, "NL-AUX/BIG-5")
    error = failure["error"]
    # The node reads and drops a body this size before answering, so the 413 arrives
    # (not a reset connection).
    assert error == "HTTP 413: request body larger than 1000000 bytes", error

    stored = {k for k in by_id(exported(node, "locations", "NL-AUX")) if k.startswith("BIG-")}
    assert stored == {f"BIG-{i}" for i in range(10) if i != 5}


def test_batches_over_a_small_body_limit_are_reported_not_a_crash(tmp_path: Path) -> None:
    """``serve`` has no ``--max-body-bytes`` flag; its setting ``EVROAM_MAX_BODY_BYTES``
    gives a node a 20 kB limit. A batch within it is stored; a batch over it is refused
    by the node (413) and every one of its objects is reported at its position, with the
    node's reason, and the command ends with status 1, not a traceback."""
    limited = NodeProcess(
        f"sqlite+aiosqlite:///{tmp_path / f'limited-{free_port()}.db'}",
        tmp_path,
        country_code="NL",
        party_id="CPO",
        admin_token=ADMIN_TOKEN,
        extra_env={"EVROAM_MAX_BODY_BYTES": "20000"},
    )
    try:
        small = [location("NL-CPO", f"S-{i}") for i in range(20)]  # about 6 kB
        path = tmp_path / "small.json"
        path.write_text(json.dumps(small))
        answer = json.loads(
            ok(evroam("data", "import", "locations", str(path), "--json", node=limited))
        )
        assert answer == {"module": "locations", "imported": 20, "failed": []}

        large = [location("NL-CPO", f"L-{i}") for i in range(300)]  # about 90 kB, one batch
        path = tmp_path / "large.json"
        path.write_text(json.dumps(large))
        result = evroam("data", "import", "locations", str(path), "--json", node=limited)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        answer = json.loads(result.stdout)
        assert answer["imported"] == 0
        assert [f["index"] for f in answer["failed"]] == list(range(300))
        assert [f["object"] for f in answer["failed"]] == [f"NL-CPO/L-{i}" for i in range(300)]
        for failure in answer["failed"]:
            assert failure["error"].startswith("HTTP 413"), failure["error"]
            assert "request body larger than 20000 bytes" in failure["error"]

        text = evroam("data", "import", "locations", str(path), node=limited)
        assert text.returncode == 1 and "Traceback" not in text.stderr, text.stderr
        assert "imported 0 of 300 locations" in text.stdout
        assert "... and 250 more refused" in text.stdout  # the text report lists 50
        assert set(by_id(exported(limited, "locations", "NL-CPO"))) == {f"S-{i}" for i in range(20)}
    finally:
        limited.stop()


def test_import_of_sessions_and_cdrs_goes_in_batches_too(node: NodeProcess, tmp_path: Path) -> None:
    """Sessions (one with a bad status refused) and CDRs; a second import of the same
    CDRs is refused object by object, since CDRs never change after receipt."""
    sessions = [session("DC-S1"), session("DC-S2", status="SLEEPING"), session("DC-S3")]
    path = tmp_path / "sessions.json"
    path.write_text(json.dumps(sessions))
    answer = json.loads(evroam("data", "import", "sessions", str(path), "--json", node=node).stdout)
    assert answer["imported"] == 2
    [failure] = answer["failed"]
    assert (failure["index"], failure["object"]) == (1, "NL-CPO/DC-S2")
    assert failure["error"].startswith("2001: ") and "status" in failure["error"]

    cdrs = [cdr("DC-C1", "2026-11-20T10:00:00Z"), cdr("DC-C2", "2026-11-20T11:00:00Z")]
    path = tmp_path / "cdrs.jsonl"
    path.write_text(json_lines(cdrs))
    first = json.loads(evroam("data", "import", "cdrs", str(path), "--json", node=node).stdout)
    assert first["imported"] == 2 and first["failed"] == []
    again = json.loads(evroam("data", "import", "cdrs", str(path), "--json", node=node).stdout)
    assert again["imported"] == 0
    assert [f["index"] for f in again["failed"]] == [0, 1]
    assert all("received before" in f["error"] for f in again["failed"])
    assert {c["id"] for c in exported(node, "cdrs", "NL-CPO")} >= {"DC-C1", "DC-C2"}
