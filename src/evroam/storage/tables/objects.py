"""Objects of the OCPI functional modules, own and received, in one table.

One table for every module: the modules share the shape (owner, id, last_updated, the
canonical JSON document), so adding a module needs no migration, and a Sender page is
one indexed range read whatever the module. Documents are stored as text, serialised
once when they came in, so a page is served without re-validating anything.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class ObjectRow(Base):
    __tablename__ = "ocpi_object"
    __table_args__ = (
        # The object's identity: ids are unique per owner (country_code, party_id) only,
        # and compared case-insensitively (id_key is the upper-case id).
        UniqueConstraint("module", "country_code", "party_id", "id_key", "variant"),
        # Sender pages and operator lists: one module, own or one partner's, in creation
        # order, optionally narrowed on last_updated.
        Index("ix_ocpi_object_page", "module", "partner_id", "shared", "id"),
        Index("ix_ocpi_object_updated", "module", "partner_id", "last_updated"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    module: Mapped[str] = mapped_column(String(24))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    object_id: Mapped[str] = mapped_column(String(48))
    id_key: Mapped[str] = mapped_column(String(48))
    variant: Mapped[str] = mapped_column(String(16), default="")
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), nullable=True
    )
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    # The one party allowed to read it (``CC-PID``), e.g. the eMSP of a CDR's token.
    audience: Mapped[str | None] = mapped_column(String(6), nullable=True)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    document: Mapped[str] = mapped_column(Text)
