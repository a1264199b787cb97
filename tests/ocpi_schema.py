"""Validate what evroam serves against the OCPI organisation's OpenAPI 3.1 files.

The files live beside the project in ../shared (reference data, never copied into the
project); tests that use this skip with the reason when they are absent. OpenAPI 3.1
schemas are JSON Schema 2020-12, so python-jsonschema validates them, with the files'
relative ``$ref``s (``./schema.yaml#/...``, ``../../components/schema.yaml#/...``)
resolved from disk.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "ocpi"
    / "schemas"
    / "ocpi-openapi-specification"
)


def schemas_missing_reason() -> str | None:
    """None when the OpenAPI files are there; otherwise the skip reason."""
    if not (SCHEMAS / "2.2.1" / "modules").is_dir():
        return f"OCPI OpenAPI files not found at {SCHEMAS} (../shared is absent)"
    return None


@cache
def _load(uri: str) -> Resource[Any]:
    path = Path(uri.removeprefix("file://").split("#", 1)[0])
    return Resource.from_contents(yaml.safe_load(path.read_text()), DRAFT202012)


def _retrieve(uri: str) -> Resource[Any]:
    return _load(uri)


@cache
def _validator(version: str, module: str, schema_name: str) -> Draft202012Validator:
    file = SCHEMAS / version / "modules" / module / "schema.yaml"
    if not file.exists():
        file = SCHEMAS / version / "components" / "schema.yaml"
    uri = f"file://{file}"
    registry: Registry[Any] = Registry(retrieve=_retrieve)
    schema = {"$ref": f"{uri}#/components/schemas/{schema_name}"}
    return Draft202012Validator(schema, registry=registry)


def validate(version: str, module: str, schema_name: str, instance: object) -> list[str]:
    """Error messages (path: message) of ``instance`` against the named schema; empty
    when it is valid."""
    validator = _validator(version, module, schema_name)
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]


def validate_221(module: str, schema_name: str, instance: object) -> list[str]:
    return validate("2.2.1", module, schema_name, instance)
