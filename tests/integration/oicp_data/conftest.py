"""One hub process per test module and backend, as for the hub's own tests."""

from __future__ import annotations

from tests.integration.oicp_hub.conftest import hub

__all__ = ["hub"]
