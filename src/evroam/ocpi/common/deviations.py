"""Remember which partners bend the spec: log each deviation once, adapt to it, and keep
what was learnt across restarts.

Keyed by the partner's host (``host:port`` of the URL called), which is known before the
handshake tells us the partner's parties, so what is learnt while registering still
holds afterwards. What changes how we call a partner (the raw token form, the URL form
that answers, the target of a permanent redirect) is stored as a ``Quirk`` through the
unit of work and loaded at start-up; the log line itself appears once per process.
"""

from __future__ import annotations

import logging

from evroam.core.ports import UnitOfWorkFactory
from evroam.core.types import Quirk

log = logging.getLogger("evroam.interop")

RAW_TOKEN = "raw-token"
REWRITE = "rewrite"


class DeviationLog:
    def __init__(self, uow: UnitOfWorkFactory | None = None) -> None:
        self._uow = uow
        self._seen: set[tuple[str, str]] = set()
        self.raw_token_hosts: set[str] = set()
        # URL the partner gave us -> URL that actually answers (slash form, permanent redirect).
        self.rewrites: dict[str, str] = {}
        self._unsaved: list[Quirk] = []

    def __repr__(self) -> str:
        return f"DeviationLog({len(self.raw_token_hosts)} raw-token hosts, {len(self.rewrites)})"

    async def load(self) -> None:
        if self._uow is None:
            return
        async with self._uow(read_only=True) as uow:
            quirks = await uow.quirks.all()
        for q in quirks:
            if q.kind == RAW_TOKEN:
                self.raw_token_hosts.add(q.host)
            elif q.kind == REWRITE:
                self.rewrites[q.key] = q.value

    def note(self, host: str, kind: str, detail: str, label: str | None = None) -> None:
        if (host, kind) in self._seen:
            return
        self._seen.add((host, kind))
        who = f"{label} ({host})" if label and label != host else host
        log.warning("partner %s deviates from OCPI (%s): %s", who, kind, detail)

    def seen(self, host: str, kind: str) -> bool:
        return (host, kind) in self._seen

    def learn_raw_token(self, host: str) -> None:
        if host not in self.raw_token_hosts:
            self.raw_token_hosts.add(host)
            self._unsaved.append(Quirk(host, RAW_TOKEN, "", "1"))

    def learn_rewrite(self, host: str, url: str, target: str) -> None:
        if self.rewrites.get(url) != target:
            self.rewrites[url] = target
            self._unsaved.append(Quirk(host, REWRITE, url, target))

    async def flush(self) -> None:
        """Store what was learnt since the last flush; a failure is logged, not raised
        (the call that taught us must not fail for it)."""
        if not self._unsaved or self._uow is None:
            self._unsaved.clear()
            return
        pending, self._unsaved = self._unsaved, []
        try:
            async with self._uow() as uow:
                for quirk in pending:
                    await uow.quirks.remember(quirk)
                await uow.commit()
        except Exception:
            log.exception("could not store what was learnt about partner %s", pending[0].host)
