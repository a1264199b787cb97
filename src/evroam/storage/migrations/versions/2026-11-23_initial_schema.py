"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:44:24.695827
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("versions_url", sa.String(length=255), nullable=True),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("token_out", sa.Text(), nullable=True),
        sa.Column("initiated_by_us", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_connection_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
    )
    op.create_table(
        "client_info",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hub_partner_id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_partner_id"],
            ["partner.id"],
            name=op.f("fk_client_info_hub_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_info")),
        sa.UniqueConstraint(
            "hub_partner_id",
            "country_code",
            "party_id",
            name=op.f("uq_client_info_hub_partner_id_country_code_party_id"),
        ),
    )
    op.create_table(
        "credentials_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_credentials_token_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_credentials_token_token_hash")),
    )
    with op.batch_alter_table("credentials_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credentials_token_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "partner_role",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("business_details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_partner_role_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_role")),
    )
    with op.batch_alter_table("partner_role", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_role_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index("ix_partner_role_party", ["country_code", "party_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("partner_role", schema=None) as batch_op:
        batch_op.drop_index("ix_partner_role_party")
        batch_op.drop_index(batch_op.f("ix_partner_role_partner_id"))

    op.drop_table("partner_role")
    with op.batch_alter_table("credentials_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_token_partner_id"))

    op.drop_table("credentials_token")
    op.drop_table("client_info")
    op.drop_table("partner")
