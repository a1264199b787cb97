"""The steps of ``evroam demo`` (``cli/demo.py`` starts and stops the nodes): the two
nodes up, registered with each other, loaded, one charging session end to end, and a
summary of what each side received, all through the nodes' operator APIs.

Each step is shown as it happens; what the nodes pushed to each other appears between
them as the outboxes deliver it (``demo_node.Trace``). Every wait has a time limit and
ends in a :class:`~evroam.cli.demo_node.DemoError` naming the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from rich.console import Console
from rich.text import Text

from evroam.cli import demo_data as data
from evroam.cli.common import clean, line, text
from evroam.cli.demo_node import DemoError, DemoNode, Trace, elapsed_ms, money

T = TypeVar("T")

#: Session updates the demo waits for before it stops the session.
UPDATES = 3
#: Longest wait for any one step (a command's result comes within the CPO's 30 s).
STEP_TIMEOUT = 40.0
FINAL_SENT = {"RESULT", "EXPIRED", "FAILED", "REJECTED", "NOT_SUPPORTED", "UNKNOWN_SESSION"}


def wait_until(what: str, check: Callable[[], T | None], trace: Trace) -> T:
    """Poll ``check`` (following the nodes' outboxes meanwhile) until it answers."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        trace.follow()
        got = check()
        if got is not None and got is not False:
            trace.follow()  # the messages that brought it, before what it shows
            return got
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {STEP_TIMEOUT:.0f} s waiting for {what}")
        time.sleep(0.1)


def _heading(out: Console, title: str) -> None:
    out.print()
    out.print(Text(title, style="bold underline"))


def _timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    answer = call()
    return answer, (time.perf_counter() - started) * 1000


def _start_nodes(out: Console, trace: Trace, cpo: DemoNode, emsp: DemoNode) -> None:
    _heading(out, "1. Two nodes")
    for node in (cpo, emsp):
        node.start()
    for node, what in (
        (cpo, "simulated chargers, asking the eMSP to authorize each start"),
        (emsp, "drivers' tokens, sends commands"),
    ):
        seconds = node.wait_ready()
        trace.say(node.label, f"{node.party_label} up at {node.url}", what, seconds * 1000)


def _register(out: Console, trace: Trace, cpo: DemoNode, emsp: DemoNode) -> None:
    _heading(out, "2. Registration (OCPI credentials handshake)")
    invitation, took = _timed(lambda: cpo.call("POST", "/partners/invite", {"note": "demo"}))
    trace.say("CPO", "invitation", "a token A for the eMSP, with the CPO's versions URL", took)
    partner, took = _timed(
        lambda: emsp.call(
            "POST",
            "/partners/register",
            {"versions_url": invitation["versions_url"], "token": invitation["token"]},
        )
    )
    endpoints = len(partner.get("endpoints") or [])
    trace.say(
        "eMSP -> CPO",
        "registered",
        f"token A -> B -> C exchanged; the CPO offers {endpoints} endpoints",
        took,
    )


def _load(out: Console, trace: Trace, cpo: DemoNode, emsp: DemoNode) -> None:
    _heading(out, "3. Data: the CPO's tariff and Locations, the eMSP's tokens")
    cc, pid = data.CPO_PARTY
    _, took = _timed(
        lambda: cpo.call("PUT", f"/tariffs/{cc}/{pid}/{data.TARIFF_ID}", data.tariff())
    )
    prices = f"{data.FLAT_EXCL_VAT:.2f} {data.CURRENCY} a session + {data.ENERGY_EXCL_VAT:.2f}/kWh"
    trace.say("CPO", f"tariff {data.TARIFF_ID}", f"{prices}, {data.VAT:g}% VAT", took)
    for loc in data.locations():
        path = f"/locations/{cc}/{pid}/{quote(loc['id'], safe='')}"
        _, took = _timed(lambda loc=loc, path=path: cpo.call("PUT", path, loc))
        trace.say("CPO", f"Location {loc['id']}", f"{loc['name']}, {len(loc['evses'])} EVSEs", took)
    ecc, epid = data.EMSP_PARTY
    for tok in data.tokens():
        path = f"/tokens/{ecc}/{epid}/{quote(tok['uid'], safe='')}?type={tok['type']}"
        _, took = _timed(lambda tok=tok, path=path: emsp.call("PUT", path, tok))
        state = "valid" if tok["valid"] else "blocked"
        trace.say("eMSP", f"token {tok['uid']}", f"{tok['type']}, {state}", took)

    def everything_arrived() -> bool:
        locations = emsp.data("GET", f"/locations?party={cc}-{pid}&own=false&limit=100") or []
        tariffs = emsp.data("GET", f"/tariffs?party={cc}-{pid}&own=false&limit=100") or []
        tokens = cpo.data("GET", f"/tokens?party={ecc}-{epid}&own=false&limit=100") or []
        return len(locations) == 2 and len(tariffs) == 1 and len(tokens) == 3

    wait_until("the Locations, tariff and tokens to reach the partner", everything_arrived, trace)


def _send(trace: Trace, emsp: DemoNode, command: str, fields: dict[str, Any]) -> dict[str, Any]:
    cc, pid = data.CPO_PARTY
    sent, took = _timed(
        lambda: emsp.call("POST", f"/commands/{command}", {"party": f"{cc}-{pid}", **fields})
    )
    answer = sent.get("response") or sent.get("state")
    detail = f"the CPO answered {answer}"
    if sent.get("timeout") is not None:
        detail += f", result within {sent['timeout']} s"
    trace.say("eMSP -> CPO", command, detail, took)
    if answer != "ACCEPTED":
        raise DemoError(f"{command} was not accepted: {clean(sent.get('error') or answer)}")
    return dict(sent)


def _result(trace: Trace, emsp: DemoNode, sent: dict[str, Any]) -> dict[str, Any]:
    path = f"/commands/{quote(sent['id'], safe='')}"

    def final() -> dict[str, Any] | None:
        got = emsp.call("GET", path)
        return got if got.get("state") in FINAL_SENT else None

    got = wait_until(f"the result of {sent['type']}", final, trace)
    took = elapsed_ms(got.get("created_at"), got.get("result_at"))
    trace.say("eMSP", f"{sent['type']} result {got.get('result')}", "sent -> result", took)
    if got.get("result") != "ACCEPTED":
        raise DemoError(
            f"{sent['type']} ended {got.get('result') or got.get('state')}: "
            f"{clean(got.get('result_message') or '')}"
        )
    return got


def _session(
    out: Console, trace: Trace, cpo: DemoNode, emsp: DemoNode
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    _heading(out, "4. A charging session")
    cc, pid = data.CPO_PARTY
    evse_path = f"/locations/{cc}/{pid}/{data.SESSION_LOCATION}/{data.SESSION_EVSE}"
    started = _send(
        trace,
        emsp,
        "START_SESSION",
        {
            "location_id": data.SESSION_LOCATION,
            "evse_uid": data.SESSION_EVSE,
            "connector_id": data.SESSION_CONNECTOR,
            "token_uid": data.DRIVER_TOKEN,
            "token_type": data.DRIVER_TOKEN_TYPE,
        },
    )
    commands = [_result(trace, emsp, started)]

    def emsp_session() -> dict[str, Any] | None:
        found = emsp.data("GET", f"/sessions?party={cc}-{pid}&own=false&limit=100") or []
        mine = [s for s in found if (s.get("cdr_token") or {}).get("uid") == data.DRIVER_TOKEN]
        return dict(mine[-1]) if mine else None

    session = wait_until("the session to reach the eMSP", emsp_session, trace)
    reference = session.get("authorization_reference")
    trace.say(
        "eMSP",
        f"session {session['id']} {session.get('status')}",
        f"at {session.get('evse_uid')}, auth {session.get('auth_method')}",
    )
    if reference:
        trace.say(
            "CPO -> eMSP",
            "real-time authorization: ALLOWED",
            f"asked before the start; the session carries the eMSP's reference {reference}",
        )
    wait_until(
        "the EVSE status CHARGING at the eMSP",
        lambda: (emsp.data("GET", evse_path) or {}).get("status") == "CHARGING",
        trace,
    )
    seen: set[str] = set()
    session_path = f"/sessions/{cc}/{pid}/{quote(session['id'], safe='')}"

    def updates() -> bool:
        doc = emsp.data("GET", session_path) or {}
        if float(doc.get("kwh") or 0) > 0:
            seen.add(str(doc.get("last_updated")))
        return len(seen) >= UPDATES

    wait_until(f"{UPDATES} session updates at the eMSP", updates, trace)
    stopped = _send(trace, emsp, "STOP_SESSION", {"session_id": session["id"]})
    commands.append(_result(trace, emsp, stopped))

    def completed() -> dict[str, Any] | None:
        doc = emsp.data("GET", session_path) or {}
        return doc if doc.get("status") == "COMPLETED" else None

    session = wait_until("the session COMPLETED at the eMSP", completed, trace)

    def cdr() -> dict[str, Any] | None:
        found = emsp.data("GET", f"/cdrs?party={cc}-{pid}&own=false&limit=100") or []
        return next((dict(c) for c in found if c.get("session_id") == session["id"]), None)

    got = wait_until("the CDR at the eMSP", cdr, trace)
    wait_until(
        "the EVSE AVAILABLE again at the eMSP",
        lambda: (emsp.data("GET", evse_path) or {}).get("status") == "AVAILABLE",
        trace,
    )
    wait_until(
        "every message delivered",
        lambda: all(n.call("GET", "/outbox").get("pending") == 0 for n in (cpo, emsp)),
        trace,
    )
    trace.follow()
    return session, got, commands


def _summary(
    out: Console,
    trace: Trace,
    cpo: DemoNode,
    emsp: DemoNode,
    session: dict[str, Any],
    cdr: dict[str, Any],
    sent: list[dict[str, Any]],
) -> bool:
    """What each side holds now; False when the CDR does not match the tariff."""
    _heading(out, "5. What each side received")
    energy = float(cdr.get("total_energy") or 0)
    cost = cdr.get("total_cost") or {}
    excl, incl = data.expected_cost(energy)
    matches = data.cost_matches(energy, float(cost.get("excl_vat") or 0))
    wh = f"{energy * 1000:.1f} Wh"
    billed = (
        f"{data.FLAT_EXCL_VAT:.2f} + {data.ENERGY_EXCL_VAT:.2f}/kWh x {data.billed_wh(energy)} Wh"
        f" = {excl:.4f} excl. VAT ({incl:.4f} incl.)"
    )
    emsp_rows = [
        ("commands sent", ", ".join(f"{c['type']} {c.get('result')}" for c in sent)),
        ("session", f"{session['id']} {session.get('status')}"),
        ("session energy", f"{float(session.get('kwh') or 0):.4f} kWh"),
        ("session cost", money(session.get("total_cost"), 4)),
        ("CDR", f"{cdr.get('id')}, {wh}, {float(cdr.get('total_time') or 0) * 3600:.1f} s"),
        ("CDR total", money(cost, 4)),
        ("tariff says", billed),
        ("CDR vs tariff", "matches" if matches else "DOES NOT MATCH"),
        ("pushes delivered", f"{trace.delivered['eMSP']} (tokens to the CPO)"),
    ]
    received = cpo.call("GET", "/commands?direction=received&limit=100") or []
    tokens = cpo.data("GET", "/tokens?own=false&limit=100") or []
    cpo_rows = [
        (
            "commands received",
            ", ".join(f"{c['type']} {c.get('state')} {c.get('result')}" for c in received[::-1]),
        ),
        ("tokens received", ", ".join(str(t.get("uid")) for t in tokens)),
        (
            "pushes delivered",
            f"{trace.delivered['CPO']} (Locations, tariff, EVSE status, "
            "session, CDR, command results)",
        ),
    ]
    _rows(out, f"eMSP {emsp.party_label}", emsp_rows)
    _rows(out, f"CPO {cpo.party_label}", cpo_rows)
    return matches


def _rows(out: Console, title: str, rows: list[tuple[str, str]]) -> None:
    """A titled block of ``label  value`` lines, never wrapped (URLs and tokens stay
    whole for copying)."""
    line(out, title, style="bold")
    for label, value in rows:
        style = "bold red" if value == "DOES NOT MATCH" else None
        out.print(text(f"  {label:18}"), text(value, style=style), sep="", soft_wrap=True)
    out.print()


def run_demo(out: Console, cpo: DemoNode, emsp: DemoNode) -> None:
    trace = Trace(out, [(cpo, emsp), (emsp, cpo)])
    line(out, "evroam demo: a roaming charging session between two nodes", style="bold")
    _start_nodes(out, trace, cpo, emsp)
    _register(out, trace, cpo, emsp)
    _load(out, trace, cpo, emsp)
    session, cdr, sent = _session(out, trace, cpo, emsp)
    if not _summary(out, trace, cpo, emsp, session, cdr, sent):
        raise DemoError("the CDR's total cost does not match the tariff")


def show_running(out: Console, cpo: DemoNode, emsp: DemoNode, temporary: bool) -> None:
    """Where the nodes are and how to reach them, while they keep running."""
    _heading(out, "Both nodes keep running (Ctrl-C stops them)")
    for node in (cpo, emsp):
        rows = [
            ("versions URL", f"{node.url}/ocpi/versions"),
            ("operator API", f"{node.url}/api/v1 (try {node.url}/api/v1/docs)"),
            ("admin token", node.token),
            ("token file", str(node.token_file)),
            ("database", str(node.db_path)),
            ("log", str(node.log_path)),
        ]
        _rows(out, f"{node.label} node {node.party_label}, {node.name}", rows)
    line(out, "Try:")
    for args in (
        f"evroam commands list --node {emsp.url} --admin-token-file {emsp.token_file}",
        f"evroam partners list --node {cpo.url} --admin-token-file {cpo.token_file}",
        f"evroam outbox list --node {cpo.url} --admin-token-file {cpo.token_file}",
    ):
        line(out, "  " + args)
    if temporary:
        line(out, "(the work directory is removed when the demo stops)")
