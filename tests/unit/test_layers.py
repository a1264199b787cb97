"""Architecture guard: the domain, services and wire models stay framework-free."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "evroam"
FORBIDDEN = {"fastapi", "starlette", "sqlalchemy", "httpx", "uvicorn", "alembic"}


def _checked_files() -> list[Path]:
    files = list((SRC / "core").rglob("*.py")) + list((SRC / "services").rglob("*.py"))
    files += [p for p in (SRC / "ocpi").rglob("*.py") if p.name in ("models.py", "convert.py")]
    return files


def test_layers_do_not_import_frameworks() -> None:
    offenders = []
    for path in _checked_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert _checked_files(), "no files checked"
    assert offenders == []
