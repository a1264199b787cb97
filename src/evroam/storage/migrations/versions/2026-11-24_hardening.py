"""hardening: party claims, token expiry and failures, quirks, pending registrations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("notice", sa.String(length=255), nullable=True))

    with op.batch_alter_table("credentials_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False)
        )

    party_claim = op.create_table(
        "party_claim",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_party_claim_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("country_code", "party_id", name=op.f("pk_party_claim")),
    )
    with op.batch_alter_table("party_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_claim_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "interop_quirk",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interop_quirk")),
        sa.UniqueConstraint("host", "kind", "key", name=op.f("uq_interop_quirk_host_kind_key")),
    )

    _claim_existing_parties(party_claim)


def _claim_existing_parties(party_claim: sa.Table) -> None:
    """Give every party of a partner that is not suspended to that partner, as the
    service rule did before the constraint existed; where two such partners hold the
    same party, the newest (highest id, as ``find_by_party`` chose) keeps it.

    One INSERT ... SELECT, so it also works in offline (``--sql``) mode.
    """
    partner = sa.table("partner", sa.column("id", sa.Integer), sa.column("status", sa.String))
    role = sa.table(
        "partner_role",
        sa.column("partner_id", sa.Integer),
        sa.column("country_code", sa.String),
        sa.column("party_id", sa.String),
    )
    cc = sa.func.upper(role.c.country_code)
    pid = sa.func.upper(role.c.party_id)
    op.execute(
        party_claim.insert().from_select(
            ["country_code", "party_id", "partner_id", "claimed_at"],
            sa.select(cc, pid, sa.func.max(partner.c.id), sa.func.current_timestamp())
            .select_from(role.join(partner, partner.c.id == role.c.partner_id))
            .where(partner.c.status != "SUSPENDED")
            .group_by(cc, pid),
        )
    )


def downgrade() -> None:
    op.drop_table("interop_quirk")
    with op.batch_alter_table("party_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_claim_partner_id"))

    op.drop_table("party_claim")
    with op.batch_alter_table("credentials_token", schema=None) as batch_op:
        batch_op.drop_column("failed_attempts")
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_column("notice")
        batch_op.drop_column("pending_since")
