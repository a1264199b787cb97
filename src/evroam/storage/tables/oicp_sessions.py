"""The OICP hub's charging processes: sessions, charge detail records, authentication
data pushed by EMPs, and charging notifications kept for offline EMPs.

``oicp_session`` is keyed by the SessionID the hub made. ``oicp_cdr`` is keyed by the
SessionID too: one CDR per session is the database's rule, so two CDRs racing in two
processes cannot both be stored (digest §3). ``oicp_auth_record`` is keyed by (canonical
ProviderID, medium key) and indexed by the medium key for offline authorization.
Partner date-times live in text columns, exactly as sent (digest §8.9); ``*_at``
columns are the hub's clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class OicpSessionRow(Base):
    __tablename__ = "oicp_session"
    __table_args__ = (
        Index("ix_oicp_session_created_at", "created_at"),
        Index("ix_oicp_session_operator", "operator", "created_at"),
    )

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(16))
    evse_id: Mapped[str | None] = mapped_column(String(48))
    method: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    identification: Mapped[str | None] = mapped_column(Text)
    medium_key: Mapped[str | None] = mapped_column(String(64))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    cpo_partner_session_id: Mapped[str | None] = mapped_column(String(250))
    emp_partner_session_id: Mapped[str | None] = mapped_column(String(250))
    session_start: Mapped[str | None] = mapped_column(String(40))
    session_end: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OicpCdrRow(Base):
    __tablename__ = "oicp_cdr"
    __table_args__ = (
        Index("ix_oicp_cdr_provider", "provider", "received_at"),
        Index("ix_oicp_cdr_received_at", "received_at"),
    )

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(16))
    evse_id: Mapped[str] = mapped_column(String(48))
    record: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    forwarded: Mapped[bool] = mapped_column(Boolean)


class OicpAuthRecordRow(Base):
    __tablename__ = "oicp_auth_record"
    __table_args__ = (Index("ix_oicp_auth_record_medium_key", "medium_key"),)

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    medium_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    identification: Mapped[str] = mapped_column(Text)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    hashed_pin: Mapped[str | None] = mapped_column(String(100))


class OicpNotificationRow(Base):
    __tablename__ = "oicp_notification"
    __table_args__ = (Index("ix_oicp_notification_session_id", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(36))
    provider: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
