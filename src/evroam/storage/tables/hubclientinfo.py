"""Parties reachable through hub partners (HubClientInfo)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class ClientInfoRow(Base):
    """A party reachable through a hub partner, as that hub PUT it (HubClientInfo receiver)."""

    __tablename__ = "client_info"
    __table_args__ = (UniqueConstraint("hub_partner_id", "country_code", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hub_partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    role: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime())
