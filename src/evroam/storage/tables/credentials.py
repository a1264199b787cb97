"""Credentials tokens this node issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class CredentialsTokenRow(Base):
    """A token we issued, stored only as its SHA-256; revoking deletes the row.

    ``expires_at`` bounds an invitation (token A) that was never used; ``failed_attempts``
    counts refused registrations with it, so a leaked token cannot be tried forever.
    """

    __tablename__ = "credentials_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
