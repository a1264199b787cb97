"""START_SESSION to CommandResult round trip between two real ``evroam serve`` processes
(issue 10).

A CPO node (NL-CPO) runs the simulated chargers (``EVROAM_BACKEND__KIND=simulator``,
answering every command at once, no real-time authorization, session updates every
hour so they add no load); an eMSP node (DE-MSP) registers with it through the
operator APIs (invitation, then the credentials handshake). The CPO loads Locations of
10 EVSEs each through its operator API, one EVSE per START_SESSION (warm-up included),
so every start is accepted and none waits for a stop; the eMSP stores one APP_USER
token. Each round trip, sequential, is timed as the eMSP's operator sees it:

* from ``POST /api/v1/commands/START_SESSION`` on the eMSP (the eMSP stores the command,
  calls the CPO's Commands Receiver, the CPO checks it, stores it, hands it to the
  simulator and answers ACCEPTED; the eMSP stores that answer and responds)
* to the eMSP holding the CommandResult (state RESULT): the simulator reports ACCEPTED,
  the CPO stores it and queues the POST to the eMSP's ``response_url`` in its outbox,
  the outbox worker delivers it, the eMSP stores it. Seen by polling ``GET
  /api/v1/commands/{id}`` on one keep-alive connection every ``--poll-ms`` (1 ms).

The breakdown comes from the nodes' own timestamps (milliseconds): the eMSP's command
(``created_at``, ``responded_at``, ``result_at``), the CPO's received request
(``created_at``, ``result_at``) and the CPO's outbox entry of the result (``created_at``,
``delivered_at``); both nodes share the machine's clock. Each start also has the
simulator report the EVSE CHARGING and a new Session, pushed to the eMSP: part of what
a real start costs, on the same two cores.

Target: median under 50 ms.

    .venv/bin/python bench/commands.py                   # SQLite, 200 round trips
    .venv/bin/python bench/commands.py --db postgres
    .venv/bin/python bench/commands.py --count 500 --warmup 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

import common
from common import ADMIN_TOKEN, Server
from handshake import percentile

TARGET_MEDIAN_MS = 50.0
EVSES_PER_LOCATION = 10
STAMP = "2026-01-01T00:00:00Z"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def start_node(
    db_url: str, workdir: Path, cc: str, pid: str, role: str, env: dict[str, str]
) -> Server:
    """``common.start_node`` with ``env`` (the CPO's backend settings)."""
    return common.start_node(db_url, workdir, cc, pid, role, f"{cc}-{pid}", f"{cc}{pid}", env)


def location(n: int) -> dict[str, Any]:
    lid = f"L{n:04d}"
    connector = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": STAMP,
    }
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": lid,
        "publish": True,
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.08900", "longitude": "5.11000"},
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": f"{lid}-E{i}",
                "status": "AVAILABLE",
                "connectors": [connector],
                "last_updated": STAMP,
            }
            for i in range(EVSES_PER_LOCATION)
        ],
        "last_updated": STAMP,
    }


def ok(r: httpx.Response, what: str, *codes: int) -> Any:
    if r.status_code not in (codes or (200, 201)):
        raise RuntimeError(f"{what}: HTTP {r.status_code} {r.text[:300]}")
    return r.json() if r.content else None


def setup(client: httpx.Client, cpo: Server, emsp: Server, evses: int) -> None:
    """Register, load Locations on the CPO and a token on the eMSP, and wait until the
    Locations reached the eMSP and the token the CPO (nothing left in either outbox)."""
    inv = ok(client.post(f"{cpo.url}/api/v1/partners/invite", json={}), "invite")
    body = {"versions_url": inv["versions_url"], "token": inv["token"]}
    ok(client.post(f"{emsp.url}/api/v1/partners/register", json=body), "register")
    locations = [location(n) for n in range(-(-evses // EVSES_PER_LOCATION))]
    ok(client.post(f"{cpo.url}/api/v1/locations/batch", json=locations), "locations")
    token = {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "BENCH-APP",
        "type": "APP_USER",
        "contract_id": "DE-MSP-C00001-0",
        "issuer": "bench",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": STAMP,
    }
    ok(client.put(f"{emsp.url}/api/v1/tokens/DE/MSP/BENCH-APP?type=APP_USER", json=token), "token")
    drained(client, cpo, emsp)


def drained(client: httpx.Client, *nodes: Server, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while any(ok(client.get(f"{n.url}/api/v1/outbox"), "outbox")["pending"] for n in nodes):
        if time.monotonic() > deadline:
            raise RuntimeError("the outboxes did not drain")
        time.sleep(0.1)


def round_trip(client: httpx.Client, emsp: Server, evse: str, poll_s: float) -> dict[str, Any]:
    """One START_SESSION, timed to the eMSP holding its result; the eMSP's record."""
    body = {
        "party": "NL-CPO",
        "location_id": evse.split("-")[0],
        "evse_uid": evse,
        "connector_id": "1",
        "token_uid": "BENCH-APP",
        "token_type": "APP_USER",
    }
    started = time.perf_counter()
    sent = ok(client.post(f"{emsp.url}/api/v1/commands/START_SESSION", json=body), "send", 201)
    answered = time.perf_counter()
    if sent.get("response") != "ACCEPTED":
        raise RuntimeError(f"START_SESSION at {evse} not accepted: {sent}")
    url = f"{emsp.url}/api/v1/commands/{sent['id']}"
    while True:
        got = ok(client.get(url), "poll")
        if got["state"] not in ("SENT", "ACCEPTED"):
            break
        if time.perf_counter() - started > 60:
            raise RuntimeError(f"no result for {sent['id']} within 60 s")
        time.sleep(poll_s)
    done = time.perf_counter()
    if got.get("result") != "ACCEPTED":
        raise RuntimeError(f"START_SESSION at {evse} ended {got.get('state')} {got.get('result')}")
    got["_total_ms"] = (done - started) * 1000
    got["_answer_ms"] = (answered - started) * 1000
    return got


def ms(start: str | None, end: str | None) -> float:
    if not start or not end:
        return float("nan")
    a = datetime.fromisoformat(start.replace("Z", "+00:00"))
    b = datetime.fromisoformat(end.replace("Z", "+00:00"))
    return (b - a).total_seconds() * 1000


def breakdown(
    client: httpx.Client, cpo: Server, timed: list[dict[str, Any]]
) -> dict[str, list[float]]:
    """Per round trip, the stages from the nodes' timestamps."""
    received = ok(client.get(f"{cpo.url}/api/v1/commands?direction=received&limit=1000"), "list")
    by_url = {}
    for r in received:
        full = ok(client.get(f"{cpo.url}/api/v1/commands/{r['id']}"), "command")
        by_url[(full.get("request") or {}).get("response_url")] = full
    delivered: dict[str, dict[str, Any]] = {}
    after = 0
    while True:
        page = ok(
            client.get(
                f"{cpo.url}/api/v1/outbox/entries",
                params={"module": "commands", "state": "delivered", "after": after, "limit": 1000},
            ),
            "outbox",
        )
        if not page:
            break
        for e in page:
            delivered[e["url"]] = e
        after = page[-1]["id"]
    stages: dict[str, list[float]] = {
        "client: the API call (the CPO's CommandResponse included)": [],
        "eMSP: command stored -> the CPO's answer stored": [],
        "CPO: request stored -> simulator's result stored": [],
        "CPO: result queued -> delivered to the eMSP": [],
        "eMSP: answer stored -> result stored": [],
        "client: result stored -> seen by polling": [],
    }
    for c in timed:
        url = c["request"]["response_url"]
        cpo_side, entry = by_url.get(url) or {}, delivered.get(url) or {}
        values = (
            c["_answer_ms"],
            ms(c["created_at"], c["responded_at"]),
            ms(cpo_side.get("created_at"), cpo_side.get("result_at")),
            ms(entry.get("created_at"), entry.get("delivered_at")),
            ms(c["responded_at"], c["result_at"]),
            c["_total_ms"] - c["_answer_ms"] - ms(c["responded_at"], c["result_at"]),
        )
        for key, value in zip(stages, values, strict=True):
            stages[key].append(value)
    return stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="round trips to time")
    parser.add_argument("--warmup", type=int, default=10, help="untimed round trips first")
    parser.add_argument("--poll-ms", type=float, default=1.0, help="pause between polls")
    common.add_db_options(parser)
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    session = common.Session()
    evses = [
        f"L{n // EVSES_PER_LOCATION:04d}-E{n % EVSES_PER_LOCATION}"
        for n in range(args.count + args.warmup)
    ]
    backend = {
        "EVROAM_BACKEND__KIND": "simulator",
        "EVROAM_BACKEND__STEP_SECONDS": "3600",
        "EVROAM_BACKEND__AUTHORIZE": "false",
    }
    with common.Workspace(
        "commands", args.db, args.pg_url, log_heading="{name} ({url})", kept="logs and databases"
    ) as ws:
        cpo = start_node(ws.database("cpo"), ws.workdir, "NL", "CPO", "CPO", backend)
        ws.servers.append(cpo)
        emsp = start_node(ws.database("emsp"), ws.workdir, "DE", "MSP", "EMSP", {})
        ws.servers.append(emsp)
        with httpx.Client(headers=ADMIN, timeout=60) as client:
            setup(client, cpo, emsp, len(evses))
            for evse in evses[: args.warmup]:
                round_trip(client, emsp, evse, args.poll_ms / 1000)
            drained(client, cpo, emsp)
            timed = [round_trip(client, emsp, e, args.poll_ms / 1000) for e in evses[args.warmup :]]
            drained(client, cpo, emsp)
            stages = breakdown(client, cpo, timed)

    totals = [c["_total_ms"] for c in timed]
    median = statistics.median(totals)
    met = median < TARGET_MEDIAN_MS
    print(f"START_SESSION -> CommandResult round trip, {args.count} sequential, {args.db}")
    session.print_machine(f"warm-up {args.warmup}, polling every {args.poll_ms:g} ms")
    print(f"  median   {median:8.1f} ms   {'ok' if met else 'NOT MET'} (target under 50 ms)")
    print(f"  p90      {percentile(totals, 90):8.1f} ms")
    print(f"  p99      {percentile(totals, 99):8.1f} ms   (nearest rank)")
    print(f"  min      {min(totals):8.1f} ms")
    print(f"  max      {max(totals):8.1f} ms")
    print("  where the time goes (medians, from the nodes' timestamps):")
    for label, values in stages.items():
        print(f"    {statistics.median(values):7.1f} ms  {label}")
    print(f"target: median under {TARGET_MEDIAN_MS:.0f} ms: {'MET' if met else 'NOT MET'}")
    options = [*common.db_options(args)]
    if args.count != 200:
        options += ["--count", str(args.count)]
    if args.warmup != 10:
        options += ["--warmup", str(args.warmup)]
    if args.poll_ms != 1.0:
        options += ["--poll-ms", f"{args.poll_ms:g}"]
    session.print_end("commands.py", options)
    return 0 if met else 1


if __name__ == "__main__":
    common.run(main)
