"""oicp session views: indexes for the operator's newest-first lists of sessions and CDRs

The operator API lists sessions newest first, optionally of one CPO, and CDRs newest
first across providers (``web/oicp/sessions.py``); without these indexes each listing
sorts the whole table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oicp_session", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_session_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_oicp_session_operator", ["operator", "created_at"], unique=False)
    with op.batch_alter_table("oicp_cdr", schema=None) as batch_op:
        batch_op.create_index("ix_oicp_cdr_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oicp_cdr", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_cdr_received_at")
    with op.batch_alter_table("oicp_session", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_session_operator")
        batch_op.drop_index("ix_oicp_session_created_at")
