"""oicp evse data live: an index of live records in page order

A PullEvseData answers the count of matching records and one page in (operator,
EvseID) order. Without this index both read every record's row: the count scanned the
whole table (records are about a kilobyte each) and each page's OFFSET read the rows it
skipped, so pulling 50,000 EVSEs in pages of 2,000 spent most of its time there
(``bench/oicp_data.py``, py-spy).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 09:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oicp_evse_data", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oicp_evse_data_live", ["deleted_at", "operator", "canonical_evse_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oicp_evse_data", schema=None) as batch_op:
        batch_op.drop_index("ix_oicp_evse_data_live")
