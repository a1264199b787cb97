"""commands: requests answered later by a POST to a response_url, and outbox calls to it

``received_request`` keeps what partners asked the node as CPO (Commands, later
ChargingProfiles requests) until the result went out; ``sent_request`` what the node as
eMSP asked its partners until the result came or it expired. ``outbox_message.url``: a
call to a URL the partner gave (the response_url) instead of a path after its endpoint.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=512), nullable=True))

    op.create_table(
        "received_request",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("party", sa.String(length=6), nullable=False),
        sa.Column("requester", sa.String(length=6), nullable=False),
        sa.Column("session_id", sa.String(length=48), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("response_url", sa.String(length=512), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("result_body", sa.Text(), nullable=True),
        sa.Column("late_result", sa.String(length=32), nullable=True),
        sa.Column("timeout_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_result_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_received_request_partner_id_partner"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_request")),
    )
    with op.batch_alter_table("received_request", schema=None) as batch_op:
        batch_op.create_index("ix_received_request_due", ["state", "timeout_at"], unique=False)
        batch_op.create_index("ix_received_request_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_received_request_session", ["session_id"], unique=False)

    op.create_table(
        "sent_request",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("party", sa.String(length=6), nullable=False),
        sa.Column("sender", sa.String(length=6), nullable=False),
        sa.Column("session_id", sa.String(length=48), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("response_url", sa.String(length=512), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response", sa.String(length=32), nullable=True),
        sa.Column("timeout", sa.Integer(), nullable=True),
        sa.Column("response_message", sa.String(length=1000), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("result_body", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_sent_request_partner_id_partner"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_request")),
    )
    with op.batch_alter_table("sent_request", schema=None) as batch_op:
        batch_op.create_index("ix_sent_request_due", ["state", "expires_at"], unique=False)
        batch_op.create_index("ix_sent_request_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_request", schema=None) as batch_op:
        batch_op.drop_index("ix_sent_request_created_at")
        batch_op.drop_index("ix_sent_request_due")
    op.drop_table("sent_request")
    with op.batch_alter_table("received_request", schema=None) as batch_op:
        batch_op.drop_index("ix_received_request_session")
        batch_op.drop_index("ix_received_request_created_at")
        batch_op.drop_index("ix_received_request_due")
    op.drop_table("received_request")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("url")
