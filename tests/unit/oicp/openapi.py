"""Hubject's OICP 2.3 OpenAPI files for the tests: read from ../shared (skipped with the
reason when absent), their examples, and a validator for a component schema."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

OPENAPI = Path(__file__).resolve().parents[4] / "shared" / "oicp" / "openapi"
FILES = {"cpo": "oicp-cpo-2.3.yaml", "emp": "oicp-emp-2.3.yaml"}


@cache
def _load(side: str) -> dict[str, Any]:
    import yaml

    path = OPENAPI / FILES[side]
    with path.open(encoding="utf-8") as f:
        document: dict[str, Any] = yaml.safe_load(f)
    return document


def document(side: str) -> dict[str, Any]:
    if not (OPENAPI / FILES[side]).is_file():
        pytest.skip(f"OICP OpenAPI file not found at {OPENAPI / FILES[side]} (../shared absent)")
    return _load(side)


def schemas(side: str) -> dict[str, Any]:
    result: dict[str, Any] = document(side)["components"]["schemas"]
    return result


def example(side: str, schema: str) -> Any:
    """A deep copy of the schema's own example (the tests correct them in memory)."""
    import copy

    return copy.deepcopy(schemas(side)[schema]["example"])


def validate(side: str, schema: str, instance: Any) -> None:
    """Validate ``instance`` against the file's component schema (format not checked:
    the files say ``date-time`` for what PyYAML may have turned into objects)."""
    import jsonschema

    root = {"$ref": f"#/components/schemas/{schema}", "components": document(side)["components"]}
    jsonschema.Draft4Validator(root).validate(instance)
