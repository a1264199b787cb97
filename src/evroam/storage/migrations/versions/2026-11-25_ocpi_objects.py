"""ocpi objects: one table for the objects of every OCPI functional module

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:20:14.066487
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ocpi_object",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("module", sa.String(length=24), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("object_id", sa.String(length=48), nullable=False),
        sa.Column("id_key", sa.String(length=48), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.String(length=6), nullable=True),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_ocpi_object_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_object")),
        sa.UniqueConstraint(
            "module",
            "country_code",
            "party_id",
            "id_key",
            "variant",
            name=op.f("uq_ocpi_object_module_country_code_party_id_id_key_variant"),
        ),
    )
    with op.batch_alter_table("ocpi_object", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ocpi_object_page", ["module", "partner_id", "shared", "id"], unique=False
        )
        batch_op.create_index(
            "ix_ocpi_object_updated", ["module", "partner_id", "last_updated"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ocpi_object", schema=None) as batch_op:
        batch_op.drop_index("ix_ocpi_object_updated")
        batch_op.drop_index("ix_ocpi_object_page")

    op.drop_table("ocpi_object")
