"""Architecture guard (DESIGN.md "What may import what"), read from the source with ``ast``:

* ``core`` imports the standard library, pydantic and ``evroam.core`` only;
* ``services`` imports no ``storage``, ``ocpi``, ``web`` or ``cli``;
* ``ocpi`` and ``oicp`` import no ``web`` or ``cli``;
* a version package (``ocpi/v2_2_1``, ``oicp/v2_3``) never imports another one;
* ``core``, ``services`` and every ``models.py``/``convert.py`` (and module of a
  ``models/`` package) import no web, HTTP or database framework.

Every import counts, including those inside functions and ``if TYPE_CHECKING:`` blocks,
and relative imports are resolved. Each rule is shown to fire on a small violating
source, so a checker that finds nothing cannot pass unnoticed.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "evroam"
FRAMEWORKS = {"fastapi", "starlette", "sqlalchemy", "httpx", "uvicorn", "alembic"}
CORE_THIRD_PARTY = {"pydantic"}
VERSION_PACKAGE = re.compile(r"^v\d+(_\d+){1,2}$")  # v2_2_1 (OCPI), v2_3 (OICP)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(module: str, source: str, is_package: bool = False) -> Iterator[str]:
    """Every module ``source`` imports, absolute; ``from a import b`` yields ``a`` and
    ``a.b`` (``b`` may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """What ``module`` (e.g. ``evroam.core.types``) imports against the layer rules."""
    parts = module.split(".")
    layer = parts[1] if len(parts) > 1 else ""
    filename = parts[-1] if not is_package else "__init__"
    framework_free = (
        layer in ("core", "services")
        or filename in ("models", "convert")
        or "models" in parts[:-1]  # a models/ package (oicp/v2_3/models/evse.py)
    )
    protocol = layer in ("ocpi", "oicp")
    version = parts[2] if protocol and len(parts) > 2 else None
    own_version = version if version and VERSION_PACKAGE.match(version) else None
    found: list[str] = []
    for name in sorted(set(imported_modules(module, source, is_package))):
        top = name.split(".")[0]
        why = None
        if framework_free and top in FRAMEWORKS:
            why = f"imports the framework {top}"
        elif layer == "core" and top == "evroam" and not _under(name, "evroam.core"):
            why = "core imports another evroam package"
        elif (
            layer == "core"
            and top != "evroam"
            and top not in sys.stdlib_module_names
            and top not in CORE_THIRD_PARTY
        ):
            why = "core imports a third-party package other than pydantic"
        elif layer == "services" and any(
            _under(name, f"evroam.{p}") for p in ("storage", "ocpi", "web", "cli")
        ):
            why = "services import an edge or storage package"
        elif protocol and any(_under(name, f"evroam.{p}") for p in ("web", "cli")):
            why = f"{layer} imports web or cli"
        elif own_version and _under(name, f"evroam.{layer}"):
            other = name.split(".")[2] if len(name.split(".")) > 2 else ""
            if VERSION_PACKAGE.match(other) and other != own_version:
                why = f"version package {own_version} imports {other}"
        if why:
            found.append(f"{module} imports {name}: {why}")
    return found


def source_violations() -> tuple[list[str], int]:
    found: list[str] = []
    files = sorted(PACKAGE.rglob("*.py"))
    for path in files:
        if "migrations" in path.parts:  # alembic scripts, not part of the layers
            continue
        module = module_name(path)
        for v in violations(module, path.read_text(), path.name == "__init__.py"):
            found.append(f"{path.relative_to(SRC)}: {v}")
    return found, len(files)


def test_the_source_keeps_the_layer_rules() -> None:
    found, checked = source_violations()
    assert checked > 30, "the checker saw too few files"
    assert found == []


# ---------------------------------------------------------------- the checker fires


@pytest.mark.parametrize(
    "module, source",
    [
        ("evroam.core.types", "import evroam.storage.db"),
        ("evroam.core.types", "from evroam.config import Settings"),
        ("evroam.core.types", "from evroam import ocpi"),
        ("evroam.core.types", "from ..services import context"),
        ("evroam.core.types", "import requests"),
        ("evroam.core.types", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n import httpx"),
        ("evroam.core.types", "def f():\n    from sqlalchemy import select"),
        ("evroam.services.liveness", "from evroam.storage.uow import SqlUnitOfWorkFactory"),
        ("evroam.services.liveness", "from evroam.ocpi.common.errors import OcpiError"),
        ("evroam.services.liveness", "import evroam.web.app"),
        ("evroam.services.liveness", "from evroam.cli import main"),
        ("evroam.services.liveness", "from ..storage import uow"),
        ("evroam.services.liveness", "import fastapi"),
        ("evroam.ocpi.common.deps", "from evroam.web.admin import app"),
        ("evroam.ocpi.common.deps", "from ...cli.main import app"),
        ("evroam.ocpi.v2_2_1.credentials.routes", "from evroam.ocpi.v2_1_1 import meta"),
        ("evroam.ocpi.v2_2_1.credentials.routes", "from ...v2_3_0.credentials import models"),
        ("evroam.ocpi.v2_2_1.credentials.routes", "from evroam.ocpi import v2_1_1"),
        ("evroam.ocpi.v2_2_1.locations.models", "from starlette.requests import Request"),
        ("evroam.ocpi.v2_2_1.locations.convert", "import alembic"),
        ("evroam.ocpi.v2_2_1.locations.convert", "import uvicorn"),
        ("evroam.oicp.v2_3.models.evse", "import fastapi"),
        ("evroam.oicp.v2_3.models.cdr", "from sqlalchemy import select"),
        ("evroam.oicp.v2_3.hub.app", "from evroam.web.oicp import app"),
        ("evroam.oicp.v2_3.deps", "from evroam.cli.oicp import serve"),
        ("evroam.oicp.v2_3.hub.status", "from evroam.oicp.v2_2 import models"),
    ],
)
def test_the_checker_finds_a_violation(module: str, source: str) -> None:
    assert violations(module, source) != []


@pytest.mark.parametrize(
    "module, source",
    [
        ("evroam.core.types", "import dataclasses, datetime\nfrom enum import StrEnum"),
        ("evroam.core.rules", "from evroam.core.types import Partner\nfrom . import errors"),
        ("evroam.core.types", "from pydantic import BaseModel"),
        ("evroam.services.liveness", "from evroam.core.ports import PartnerApi"),
        ("evroam.services.liveness", "from evroam.services.context import PartnerContext"),
        ("evroam.ocpi.common.deps", "from fastapi import Depends\nfrom evroam.services import x"),
        ("evroam.ocpi.v2_2_1.credentials.routes", "from evroam.ocpi.v2_2_1.meta import VERSION"),
        ("evroam.ocpi.v2_2_1.credentials.routes", "from evroam.ocpi.common import errors"),
        ("evroam.ocpi.v2_2_1.credentials.routes", "from fastapi import APIRouter"),
        ("evroam.ocpi.versions", "from evroam.ocpi import v2_2_1, v2_1_1"),
        ("evroam.web.app", "import httpx\nfrom evroam.storage.db import create_engine"),
        ("evroam.oicp.v2_3.hub.status", "from fastapi import APIRouter"),
        ("evroam.oicp.v2_3.models.evse", "from evroam.oicp.v2_3.ids import EVSE_ID"),
    ],
)
def test_the_checker_allows_what_the_rules_allow(module: str, source: str) -> None:
    assert violations(module, source) == []


def test_relative_imports_resolve_from_a_package_init() -> None:
    names = set(imported_modules("evroam.core", "from . import types", is_package=True))
    assert "evroam.core.types" in names
    found = violations("evroam.core", "from ..storage import db", is_package=True)
    assert found and "evroam.storage" in found[0]
