"""One operator's pushes are applied one at a time: two clients sending full loads of the
same operator at the same moment leave exactly one of the two sets, never a mix.

Each round both clients start together (a barrier) and push disjoint sets of 150 EVSEs;
after both answered, an EMP pulls the operator's statuses. Without the partner-row lock
(``services/oicp/status.py``) PostgreSQL lets the second full load read the state from
before the first committed and keep the first's rows: a union of both sets. SQLite's
write lock serialises the two even without it, so there the test checks the outcome
only.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.integration.oicp_hub.support import HubProcess

OPERATOR = "DE*SEQ"
EMP = "DE-SQE"
ROUNDS = 15
SIZE = 150


def full_load(evse_range: range, status: str) -> dict[str, Any]:
    return {
        "ActionType": "fullLoad",
        "OperatorEvseStatus": {
            "OperatorID": OPERATOR,
            "EvseStatusRecord": [
                {"EvseID": f"{OPERATOR}*E{i}", "EvseStatus": status} for i in evse_range
            ],
        },
    }


def test_concurrent_full_loads_of_one_operator_never_mix(hub: HubProcess) -> None:
    hub.add_partner(OPERATOR, "CPO")
    hub.add_partner(EMP, "EMP")
    clients = [hub.client(OPERATOR), hub.client(OPERATOR)]
    emp = hub.client(EMP)
    sets = [full_load(range(SIZE), "Available"), full_load(range(SIZE, 2 * SIZE), "Occupied")]
    expected = [
        {f"{OPERATOR}*E{i}" for i in range(SIZE)},
        {f"{OPERATOR}*E{i}" for i in range(SIZE, 2 * SIZE)},
    ]
    url = f"{hub.url}/evsepush/v21/operators/{OPERATOR}/status-records"
    seen: set[int] = set()
    with ThreadPoolExecutor(2) as pool:
        for _ in range(ROUNDS):
            barrier = threading.Barrier(2)

            def push(i: int, barrier: threading.Barrier = barrier) -> httpx.Response:
                barrier.wait()
                return clients[i].post(url, json=sets[i])

            answers = list(pool.map(push, (0, 1)))
            assert all(a.json()["Result"] is True for a in answers), [a.text for a in answers]
            r = emp.post(
                f"{hub.url}/evsepull/v21/providers/{EMP}/status-records-by-operator-id",
                json={"ProviderID": EMP, "OperatorID": [OPERATOR]},
            )
            blocks = r.json()["EvseStatuses"]["OperatorEvseStatus"]
            now = {rec["EvseID"] for b in blocks for rec in b["EvseStatusRecord"]}
            assert now in expected, f"a mix of both full loads: {len(now)} EVSEs"
            seen.add(expected.index(now))
