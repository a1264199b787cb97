<%!
    def lit(value):
        """A Python literal as ruff format writes it (double quotes), for revision ids,
        which are plain strings, tuples of them (merges) or lists (labels)."""
        if isinstance(value, str):
            return '"%s"' % value
        if isinstance(value, (tuple, list)):
            items = ", ".join(lit(v) for v in value)
            if isinstance(value, list):
                return "[%s]" % items
            return "(%s,)" % items if len(value) == 1 else "(%s)" % items
        return repr(value)

    def listed(value):
        if not value:
            return ""
        return " " + (value if isinstance(value, str) else ", ".join(value))
%>\
<%
    body = (context.get("upgrades") or "") + (context.get("downgrades") or "")
    extra = context.get("imports") or ""
%>\
"""${message}

Revision ID: ${up_revision}
Revises:${listed(down_revision)}
Create Date: ${create_date}
"""

from __future__ import annotations

% if "sa." in body:
import sqlalchemy as sa
% endif
% if "op." in body:
from alembic import op
% endif
% if extra:
${extra}
% endif
% if "sa." in body or "op." in body or extra:

% endif
revision = ${lit(up_revision)}
down_revision = ${lit(down_revision)}
branch_labels = ${lit(branch_labels)}
depends_on = ${lit(depends_on)}


def upgrade() -> None:
    ${context.get("upgrades") or "pass"}


def downgrade() -> None:
    ${context.get("downgrades") or "pass"}
