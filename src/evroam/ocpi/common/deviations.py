"""Remember which partners bend the spec, so each deviation is logged once per partner.

Held by the app (not module state); a restart logs them again, which is what an operator
reading fresh logs wants.
"""

from __future__ import annotations

import logging

log = logging.getLogger("evroam.interop")


class DeviationLog:
    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self.raw_token_partners: set[str] = set()

    def note(self, partner: str, kind: str, detail: str) -> None:
        if (partner, kind) in self._seen:
            return
        self._seen.add((partner, kind))
        log.warning("partner %s deviates from OCPI (%s): %s", partner, kind, detail)

    def seen(self, partner: str, kind: str) -> bool:
        return (partner, kind) in self._seen
