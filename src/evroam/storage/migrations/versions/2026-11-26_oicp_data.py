"""oicp data: EVSE data records (deletion markers, POI findings), pricing offers, EVSE pricing

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oicp_evse_data",
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("canonical_evse_id", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("operator_name", sa.String(length=100), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accessibility", sa.String(length=32), nullable=False),
        sa.Column("auth_modes", sa.Integer(), nullable=False),
        sa.Column("calibration", sa.String(length=16), nullable=False),
        sa.Column("renewable", sa.Boolean(), nullable=False),
        sa.Column("hubject_compatible", sa.Boolean(), nullable=False),
        sa.Column("open_24h", sa.Boolean(), nullable=False),
        sa.Column("poi_score", sa.Integer(), nullable=False),
        sa.Column("poi_findings", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("operator", "canonical_evse_id", name=op.f("pk_oicp_evse_data")),
    )
    with op.batch_alter_table("oicp_evse_data", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_evse_data_evse", ["canonical_evse_id"], unique=False)
        batch_op.create_index("ix_oicp_evse_data_updated_at", ["updated_at"], unique=False)
        batch_op.create_index("ix_oicp_evse_data_latitude", ["latitude"], unique=False)

    op.create_table(
        "oicp_pricing_product_data",
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("product_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("operator", "provider", name=op.f("pk_oicp_pricing_product_data")),
    )
    with op.batch_alter_table("oicp_pricing_product_data", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oicp_pricing_product_data_updated_at", ["updated_at"], unique=False
        )

    op.create_table(
        "oicp_evse_pricing",
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("canonical_evse_id", sa.String(length=48), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("provider_id", sa.String(length=16), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "operator", "canonical_evse_id", "provider", name=op.f("pk_oicp_evse_pricing")
        ),
    )
    with op.batch_alter_table("oicp_evse_pricing", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_evse_pricing_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oicp_evse_pricing", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_evse_pricing_updated_at")
    op.drop_table("oicp_evse_pricing")

    with op.batch_alter_table("oicp_pricing_product_data", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_pricing_product_data_updated_at")
    op.drop_table("oicp_pricing_product_data")

    with op.batch_alter_table("oicp_evse_data", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_evse_data_latitude")
        batch_op.drop_index("ix_oicp_evse_data_updated_at")
        batch_op.drop_index("ix_oicp_evse_data_evse")
    op.drop_table("oicp_evse_data")
