"""What the node learnt about partner platforms that OCPI does not say."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class QuirkRow(Base):
    """One learnt deviation of a partner host (core ``Quirk``), kept across restarts.

    Keyed by host rather than partner: the behaviour belongs to the platform software,
    which may serve several partners, and is learnt before a partner row exists.
    """

    __tablename__ = "interop_quirk"
    __table_args__ = (UniqueConstraint("host", "kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    learned_at: Mapped[datetime] = mapped_column(UtcDateTime())
