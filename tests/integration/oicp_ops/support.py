"""A partner's server app in its own process (``partner_main.py``), for the flow tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.oicp_hub.support import Pki
from tests.integration.oicp_partner.support import ServerProcess


class PartnerServerProcess(ServerProcess):
    """``partner_main ROLE``: the CPO or online EMP server app around a handler that
    records each operation it gets."""

    def __init__(self, role: str, workdir: Path, pki: Pki) -> None:
        super().__init__(role, "tests.integration.oicp_ops.partner_main", workdir, pki, (role,))

    def received(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The bodies the handler got, of one operation or all, in order of arrival."""
        return [e["body"] for e in self.lines() if operation is None or e["operation"] == operation]
