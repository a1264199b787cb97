"""A property-based run (schemathesis) of a real hub process against Hubject's OpenAPI
files, corrected in memory (``openapi_files.py``; digest §7.3).

Every operation the hub serves (8 from the CPO file, 10 from the EMP file) is run
twice, each time with the client certificate of a partner in the operation's role
(a CPO on CPO operations, an EMP on EMP operations):

* **free**: the generator chooses everything, valid and invalid. Its path and body IDs
  are nearly never the caller's, so most answers are 017 refusals; the run proves no
  input gives a 5xx and every answer is a declared status with a body of its schema.
* **acting**: the path's ID is the caller's, and in valid bodies the acting
  OperatorID/ProviderID and the EvseIDs are the caller's too, so requests get past the
  identity checks into the operations' own logic. Valid bodies must then be accepted
  (never HTTP 400: a business refusal is 200 with ``Result: false``), invalid ones
  refused with a 4xx.

The run is derandomized (Hypothesis derives its examples from the test itself) and keeps
no example database, so CI sees the same requests every time. One hub process, on
SQLite: the property run is about the HTTP surface, which the storage backends share,
and PostgreSQL would double the run's time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from evroam.oicp.v2_3 import paths
from evroam.oicp.v2_3.paths import OperationName, Server
from tests.integration.oicp_hub.support import HubProcess, Pki
from tests.integration.oicp_schema import openapi_files

CPO_ID = "DE*ABC"
EMP_ID = "DE-XYZ"

#: Examples per operation and run (18 operations: free valid, acting valid, acting
#: invalid): about 220 requests, ~50 s with the hub's start, the suite's budget.
MAX_EXAMPLES = {"free": 4, "acting": 4}

#: Paths the 2.3 files do not have (the older status pulls, served for compatibility).
_NOT_IN_FILES = {
    OperationName.PULL_EVSE_STATUS_BY_ID,
    OperationName.PULL_EVSE_STATUS_BY_OPERATOR_ID,
}


@dataclass(frozen=True)
class Target:
    """One operation the hub serves, in the file that describes it from the caller's side."""

    name: OperationName
    file: str
    role: str

    def __str__(self) -> str:
        return f"{self.role}:{self.name.value}"


def _targets() -> list[Target]:
    found = []
    for op in paths.OPERATIONS:
        if op.name in _NOT_IN_FILES:
            continue
        if Server.HUB_FOR_CPO in op.served_by:
            found.append(Target(op.name, openapi_files.CPO_FILE, "CPO"))
        if Server.HUB_FOR_EMP in op.served_by:
            found.append(Target(op.name, openapi_files.EMP_FILE, "EMP"))
    return found


TARGETS = _targets()


@dataclass
class Tally:
    """Requests sent, by status, over the module (printed at the end with ``-s``)."""

    statuses: dict[int, int] = field(default_factory=dict)

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    seen = Tally()
    yield seen
    total = sum(seen.statuses.values())
    print(f"\nschemathesis run: {total} requests, by HTTP status {sorted(seen.statuses.items())}")


@pytest.fixture(scope="module")
def schemas() -> dict[str, schemathesis.BaseSchema]:
    reason = openapi_files.available()
    if reason is not None:
        pytest.skip(reason)
    return {
        name: schemathesis.openapi.from_dict(openapi_files.corrected(name))
        for name in (openapi_files.CPO_FILE, openapi_files.EMP_FILE)
    }


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("hub-schema")
    process = HubProcess(f"sqlite+aiosqlite:///{workdir / 'hub.db'}", workdir, Pki(workdir / "pki"))
    process.add_partner(CPO_ID, "CPO", name="ABC charging")
    process.add_partner(EMP_ID, "EMP", name="XYZ mobility")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sessions(hub: HubProcess) -> Iterator[dict[str, requests.Session]]:
    """A requests session per role with that partner's client certificate (schemathesis
    sends with requests)."""
    made = {}
    for role, identity in (("CPO", CPO_ID), ("EMP", EMP_ID)):
        files = hub.pki.client_cert(identity)
        session = requests.Session()
        session.cert = (str(files.cert), str(files.key))
        session.verify = str(hub.pki.ca.cert)
        made[role] = session
    yield made
    for session in made.values():
        session.close()


def _file_path(schema: schemathesis.BaseSchema, name: OperationName) -> str:
    for path in schema.raw_schema["paths"]:
        # A template's "{operatorID}" is one path segment: it matches the table's own.
        found = paths.find(path)
        if found is not None and found[0].name is name:
            return str(path)
    raise LookupError(f"{name} is not in the file")


def _acting_body(body: Any, role: str) -> Any:
    """A valid body whose acting IDs are the caller's: every ``OperatorID``/``ProviderID``
    text becomes the partner's (lists name other operators and stay), every EvseID one of
    the CPO's, so the operation's own checks (017, 018) pass and its logic runs."""
    if isinstance(body, dict):
        fixed = {}
        for key, value in body.items():
            if key == "OperatorID" and isinstance(value, str):
                fixed[key] = CPO_ID
            elif key == "ProviderID" and isinstance(value, str):
                fixed[key] = EMP_ID
            elif key == "EvseID" and isinstance(value, str) and role == "CPO":
                fixed[key] = f"{CPO_ID}*E{zlib.crc32(value.encode()) % 10_000}"
            else:
                fixed[key] = _acting_body(value, role)
        return fixed
    if isinstance(body, list):
        return [_acting_body(item, role) for item in body]
    return body


def _valid(case: schemathesis.Case, where: ParameterLocation) -> bool:
    """Whether the generator made ``where`` of ``case`` valid (or left it out)."""
    info = case.meta.components.get(where) if case.meta is not None else None
    return info is None or not info.mode.is_negative


COMMON_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _run(
    target: Target,
    schemas: dict[str, schemathesis.BaseSchema],
    hub: HubProcess,
    session: requests.Session,
    tally: Tally,
    *,
    acting: bool,
    mode: GenerationMode,
) -> None:
    schema = schemas[target.file]
    path = _file_path(schema, target.name)
    operation = schema[path]["POST"]
    fixed = None
    if acting:
        names = [p.name for p in operation.path_parameters]
        fixed = {n: CPO_ID if target.role == "CPO" else EMP_ID for n in names}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)
    checks = list(COMMON_CHECKS)
    if acting:
        checks.append(
            positive_data_acceptance if mode is GenerationMode.POSITIVE else negative_data_rejection
        )

    @settings(
        max_examples=MAX_EXAMPLES["acting" if acting else "free"],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        if acting and _valid(case, ParameterLocation.BODY):
            case.body = _acting_body(case.body, target.role)
        # schemathesis passes its own ``verify`` unless given one: the hub's CA.
        response = case.call(base_url=hub.url, session=session, verify=session.verify, timeout=30)
        tally.count(response.status_code)
        if not _valid(case, ParameterLocation.QUERY):
            # pages.py answers a bad page or size as a business refusal (200, 022), on
            # purpose: the rejection check does not apply to a query negation.
            case.validate_response(response, checks=COMMON_CHECKS)
        else:
            case.validate_response(response, checks=checks)

    check()


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_free(
    target: Target,
    schemas: dict[str, schemathesis.BaseSchema],
    hub: HubProcess,
    sessions: dict[str, requests.Session],
    tally: Tally,
) -> None:
    # Valid bodies only: with the IDs not the caller's the hub answers 017 before it reads
    # the body, so invalid ones would test nothing the acting run does not.
    _run(
        target,
        schemas,
        hub,
        sessions[target.role],
        tally,
        acting=False,
        mode=GenerationMode.POSITIVE,
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_acting(
    target: Target,
    mode: GenerationMode,
    schemas: dict[str, schemathesis.BaseSchema],
    hub: HubProcess,
    sessions: dict[str, requests.Session],
    tally: Tally,
) -> None:
    _run(target, schemas, hub, sessions[target.role], tally, acting=True, mode=mode)


def test_files_are_not_modified() -> None:
    """The corrections work on copies: reading a file twice gives the bytes on disk."""
    reason = openapi_files.available()
    if reason is not None:
        pytest.skip(reason)
    first = openapi_files.corrected(openapi_files.CPO_FILE)
    assert first != openapi_files.load(openapi_files.CPO_FILE)
    assert (
        Path(openapi_files.OPENAPI_DIR / openapi_files.CPO_FILE).read_text().startswith("openapi")
    )
