"""The OICP hub: its partners and the EVSE statuses operators push.

``oicp_partner`` is keyed by the canonical ID, so the database itself refuses a second
partner with the same ID however the two adds interleave. ``oicp_evse_status`` is keyed
by (canonical OperatorID, canonical EvseID): the operator is part of the key because a
push replaces or deletes *its* set (fullLoad, delete) and every EvseID is checked to
belong to the pusher before it is stored (018).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class OicpPartnerRow(Base):
    __tablename__ = "oicp_partner"
    __table_args__ = (Index("ix_oicp_partner_cert_identity_key", "cert_identity_key"),)

    canonical_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(16))
    roles: Mapped[list[str]] = mapped_column(JSON)
    cert_identity: Mapped[str] = mapped_column(String(255))
    cert_identity_key: Mapped[str] = mapped_column(String(255))
    allowed_networks: Mapped[list[str]] = mapped_column(JSON)
    endpoint: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OicpEvseStatusRow(Base):
    __tablename__ = "oicp_evse_status"
    __table_args__ = (Index("ix_oicp_evse_status_evse", "canonical_evse_id"),)

    operator: Mapped[str] = mapped_column(String(16), primary_key=True)
    canonical_evse_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    evse_id: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pushed_at: Mapped[datetime] = mapped_column(UtcDateTime())
