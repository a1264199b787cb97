"""Remember which partners bend the spec: log each deviation once, and adapt to it.

Keyed by the partner's host (``host:port`` of the URL called), which is known before the
handshake tells us the partner's parties, so what is learnt while registering still
holds afterwards. Messages name the partner's party when it is known. Held by the app
(not module state); a restart logs them again, which is what an operator reading fresh
logs wants.
"""

from __future__ import annotations

import logging

log = logging.getLogger("evroam.interop")


class DeviationLog:
    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self.raw_token_hosts: set[str] = set()
        # URL the partner gave us -> URL that actually answers (slash form, permanent redirect).
        self.rewrites: dict[str, str] = {}

    def note(self, host: str, kind: str, detail: str, label: str | None = None) -> None:
        if (host, kind) in self._seen:
            return
        self._seen.add((host, kind))
        who = f"{label} ({host})" if label and label != host else host
        log.warning("partner %s deviates from OCPI (%s): %s", who, kind, detail)

    def seen(self, host: str, kind: str) -> bool:
        return (host, kind) in self._seen
