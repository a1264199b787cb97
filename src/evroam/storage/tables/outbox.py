"""The push outbox: what the node owes each partner, one row per Receiver call.

A row is written in the transaction that changed the node's own data (``push/outbox.py``)
and lives through ``pending`` -> ``sending`` (claimed, with a lease) -> ``delivered``;
or back to ``pending`` with a later ``next_attempt_at`` (a retry), or ``dead`` (the
partner refused it: an operator retries or drops it), or ``held`` (the partner cannot
receive anything now: reset, unregistered, SUSPENDED; ``held_reason`` says which).
Delivered rows stay for the retention period, then are deleted in small batches.

Two keys order and bound the queue: ``object_key`` is the top-level object, the unit of
per-object order (no row is sent while an earlier row of the same partner and object is
unfinished); ``target`` is the full Receiver path and query, the unit of coalescing (a
later change of the same path merges into a pending row instead of adding one).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class OutboxRow(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        # The claim: due rows of one partner in creation order.
        Index("ix_outbox_message_claim", "partner_id", "state", "next_attempt_at", "id"),
        # Per-object order (is an earlier row of this partner's object unfinished?) and
        # coalescing (the pending rows of a partner's objects).
        Index("ix_outbox_message_object", "partner_id", "object_key", "id"),
        # Retention, held rows, the operator's counts by state.
        Index("ix_outbox_message_state", "state", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    # The partner's OCPI version the body was rendered for.
    version: Mapped[str] = mapped_column(String(8))
    module: Mapped[str] = mapped_column(String(24))
    method: Mapped[str] = mapped_column(String(8))
    # JSON lists: the Receiver URL parts after the module's endpoint, the query pairs.
    path: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    # An absolute URL the partner gave for this call (a response_url), sent to instead
    # of ``path`` after its endpoint (``core/push.py`` PushChange.url).
    url: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # Routing headers: the owner of the object (ours) to the receiving party (theirs).
    from_party: Mapped[str] = mapped_column(String(6))
    to_party: Mapped[str] = mapped_column(String(6))
    object_key: Mapped[str] = mapped_column(String(160))
    target: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(12))
    held_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The partner's last answer (or why there was none), truncated.
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    last_http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_ocpi_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
