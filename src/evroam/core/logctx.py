"""Per-request logging context: the X-Request-ID and the calling partner on every record."""

from __future__ import annotations

import contextvars
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# The calling partner (its first party, e.g. NL-ABC) once authenticated.
partner_var: contextvars.ContextVar[str] = contextvars.ContextVar("partner", default="-")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` and ``partner`` to every record, for the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.partner = partner_var.get()
        return True
