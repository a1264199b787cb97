"""VERSIONS: the one list of OCPI versions this node speaks.

A new version is a ``vX_Y_Z`` package (with ``VERSION``, ``TOKEN_BASE64`` and ``MODULES``)
plus one entry here. ``ALIASES`` maps version strings real platforms announce to the
version they actually speak ("2.2" is what many 2.2.1 platforms list).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["ALIASES", "VERSIONS", "canonical", "package"]

VERSIONS: dict[str, str] = {"2.2.1": "evroam.ocpi.v2_2_1"}

ALIASES: dict[str, str] = {"2.2": "2.2.1"}


def package(version: str) -> ModuleType:
    """The version package; ``KeyError`` for a version this node does not speak."""
    return importlib.import_module(VERSIONS[version])


def canonical(version: str) -> str:
    """The version a partner's announced string stands for (may be unknown to us)."""
    return ALIASES.get(version, version)
