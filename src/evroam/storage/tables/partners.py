"""Partners, their roles, and which partner holds each party."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class PartnerRow(Base):
    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16))
    versions_url: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(8))
    endpoints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    token_out: Mapped[str | None] = mapped_column(Text)
    initiated_by_us: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_connection_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(String(255))
    # Set while a registration we started is in flight, so that a node that died in
    # between can find it at start-up (see Partner.pending_since).
    pending_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    notice: Mapped[str | None] = mapped_column(String(255))


class PartnerRoleRow(Base):
    """One CredentialsRole of a partner, kept in the order the partner sent them.

    Not unique per party: a suspended partner keeps its roles as history, and the same
    party may register again. Who currently holds a party is ``party_claim``.
    """

    __tablename__ = "partner_role"
    __table_args__ = (Index("ix_partner_role_party", "country_code", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(8))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    business_details: Mapped[dict[str, Any]] = mapped_column(JSON)


class PartyClaimRow(Base):
    """The partner holding a (country_code, party_id), upper-case.

    The primary key is the party, so the database itself refuses a second holder: two
    concurrent registrations of one party cannot both commit, whatever each one read.
    Deleting the partner frees its parties.
    """

    __tablename__ = "party_claim"

    country_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(3), primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
