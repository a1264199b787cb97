"""The OICP hub's EVSE data and dynamic pricing (revision 0006).

``oicp_evse_data``: one row per (canonical OperatorID, canonical EvseID), the record as
the hub keeps it (``record``: JSON text of the validated record, its date-times as sent)
beside the columns PullEvseData filters on, so a pull is one indexed query and never
parses a record it does not answer. A delete (or a full load that leaves an EVSE out)
does not remove the row: it sets ``deleted_at`` and moves ``updated_at``, so a
``LastCall`` delta pull can answer it with ``deltaType: delete`` (digest §8.10).
``created_at`` tells an insert from an update in the same delta. The POI findings of
the record (``poi.py``) are kept on its row: they belong to that version of it.

``auth_modes`` is a bit set over ``core.oicp.AUTHENTICATION_MODES``: "supports any of
these modes" is then ``auth_modes & mask != 0`` on both backends.

``oicp_pricing_product_data``: one row per operator and offer (a ProviderID, or ``*``
for every EMP): the pushed PricingProductData as JSON text, its products included.
Pricing records carry no ``deltaType`` on the wire, so a delta pull answers every offer
changed since ``LastCall`` whole, and a deleted product shows by its absence.

``oicp_evse_pricing``: one row per (operator, EVSE, offer): the product IDs that apply.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from evroam.storage.tables import Base, UtcDateTime


class OicpEvseDataRow(Base):
    __tablename__ = "oicp_evse_data"
    __table_args__ = (
        Index("ix_oicp_evse_data_evse", "canonical_evse_id"),
        Index("ix_oicp_evse_data_updated_at", "updated_at"),
        Index("ix_oicp_evse_data_latitude", "latitude"),
        # Live records in page order: a pull's count and each page's OFFSET walk this
        # index instead of reading every record's row (0010).
        Index("ix_oicp_evse_data_live", "deleted_at", "operator", "canonical_evse_id"),
    )

    operator: Mapped[str] = mapped_column(String(16), primary_key=True)
    canonical_evse_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    evse_id: Mapped[str] = mapped_column(String(48))
    operator_id: Mapped[str] = mapped_column(String(16))
    operator_name: Mapped[str] = mapped_column(String(100))
    record: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(String(3))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accessibility: Mapped[str] = mapped_column(String(32))
    auth_modes: Mapped[int] = mapped_column(Integer)
    calibration: Mapped[str] = mapped_column(String(16))
    renewable: Mapped[bool] = mapped_column(Boolean)
    hubject_compatible: Mapped[bool] = mapped_column(Boolean)
    open_24h: Mapped[bool] = mapped_column(Boolean)
    poi_score: Mapped[int] = mapped_column(Integer)
    poi_findings: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OicpPricingProductDataRow(Base):
    __tablename__ = "oicp_pricing_product_data"
    __table_args__ = (Index("ix_oicp_pricing_product_data_updated_at", "updated_at"),)

    operator: Mapped[str] = mapped_column(String(16), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)
    product_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OicpEvsePricingRow(Base):
    __tablename__ = "oicp_evse_pricing"
    __table_args__ = (Index("ix_oicp_evse_pricing_updated_at", "updated_at"),)

    operator: Mapped[str] = mapped_column(String(16), primary_key=True)
    canonical_evse_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    evse_id: Mapped[str] = mapped_column(String(48))
    provider_id: Mapped[str] = mapped_column(String(16))
    products: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
