"""oicp sessions: sessions, one CDR per session, authentication data, kept notifications

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oicp_session",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("provider_id", sa.String(length=16), nullable=True),
        sa.Column("evse_id", sa.String(length=48), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("identification", sa.Text(), nullable=True),
        sa.Column("medium_key", sa.String(length=64), nullable=True),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("cpo_partner_session_id", sa.String(length=250), nullable=True),
        sa.Column("emp_partner_session_id", sa.String(length=250), nullable=True),
        sa.Column("session_start", sa.String(length=40), nullable=True),
        sa.Column("session_end", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_oicp_session")),
    )

    op.create_table(
        "oicp_cdr",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forwarded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_oicp_cdr")),
    )
    with op.batch_alter_table("oicp_cdr", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_cdr_provider", ["provider", "received_at"], unique=False)

    op.create_table(
        "oicp_auth_record",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("medium_key", sa.String(length=64), nullable=False),
        sa.Column("identification", sa.Text(), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("hashed_pin", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("provider", "medium_key", name=op.f("pk_oicp_auth_record")),
    )
    with op.batch_alter_table("oicp_auth_record", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_auth_record_medium_key", ["medium_key"], unique=False)

    op.create_table(
        "oicp_notification",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oicp_notification")),
    )
    with op.batch_alter_table("oicp_notification", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_notification_session_id", ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oicp_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_notification_session_id")
    op.drop_table("oicp_notification")

    with op.batch_alter_table("oicp_auth_record", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_auth_record_medium_key")
    op.drop_table("oicp_auth_record")

    with op.batch_alter_table("oicp_cdr", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_cdr_provider")
    op.drop_table("oicp_cdr")

    op.drop_table("oicp_session")
