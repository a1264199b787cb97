"""Requests answered later by a POST to a ``response_url`` (``core/callbacks.py``):
Commands now, ChargingProfiles requests alike (``kind``).

``received_request``: what partners asked the node as CPO, kept from acceptance until
the result went out; the timeout watchdog reads it by (state, timeout_at).
``sent_request``: what the node as eMSP asked its partners, kept from before the call
until the result came or it expired; the expiry reads it by (state, expires_at).

Documents (the request, the result) are JSON text, as the node stores every document.
Parties are ``CC-PID``. A partner removed later leaves its requests (partner_id NULL):
they are the operator's record of what was asked and answered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class _KeptRequestColumns:
    """The columns both tables have, one per field of ``core.callbacks.KeptRequest``
    (the repository maps fields to columns by name)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="SET NULL"), nullable=True
    )
    party: Mapped[str] = mapped_column(String(6))
    session_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    response_url: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    result_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ReceivedRequestRow(_KeptRequestColumns, Base):
    __tablename__ = "received_request"
    __table_args__ = (
        # The watchdog: requests still waiting, by when they time out.
        Index("ix_received_request_due", "state", "timeout_at"),
        # The operator's newest-first list.
        Index("ix_received_request_created_at", "created_at"),
        # ChargingProfiles: the requests of one session.
        Index("ix_received_request_session", "session_id"),
    )

    requester: Mapped[str] = mapped_column(String(6))
    message: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    late_result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    timeout_at: Mapped[datetime] = mapped_column(UtcDateTime())
    late_result_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SentRequestRow(_KeptRequestColumns, Base):
    __tablename__ = "sent_request"
    __table_args__ = (
        # The expiry: requests still waiting for a result, by when they expire.
        Index("ix_sent_request_due", "state", "expires_at"),
        Index("ix_sent_request_created_at", "created_at"),
    )

    sender: Mapped[str] = mapped_column(String(6))
    response: Mapped[str | None] = mapped_column(String(32), nullable=True)
    timeout: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_message: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
