"""oicp hub: partners (one per canonical ID) and the EVSE statuses operators push

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oicp_partner",
        sa.Column("canonical_id", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=16), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("cert_identity", sa.String(length=255), nullable=False),
        sa.Column("cert_identity_key", sa.String(length=255), nullable=False),
        sa.Column("allowed_networks", sa.JSON(), nullable=False),
        sa.Column("endpoint", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("canonical_id", name=op.f("pk_oicp_partner")),
    )
    with op.batch_alter_table("oicp_partner", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oicp_partner_cert_identity_key", ["cert_identity_key"], unique=False
        )

    op.create_table(
        "oicp_evse_status",
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("canonical_evse_id", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("operator", "canonical_evse_id", name=op.f("pk_oicp_evse_status")),
    )
    with op.batch_alter_table("oicp_evse_status", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_evse_status_evse", ["canonical_evse_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oicp_evse_status", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_evse_status_evse")
    op.drop_table("oicp_evse_status")

    with op.batch_alter_table("oicp_partner", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_partner_cert_identity_key")
    op.drop_table("oicp_partner")
