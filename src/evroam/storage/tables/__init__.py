"""Table definitions, one module per domain. The schema itself is created and changed only
by Alembic migrations; these models are what autogenerate compares it with.

Naming: tables singular snake_case, timestamps ``*_at``, constraint names from the
MetaData naming convention so that migrations are identical on SQLite and PostgreSQL.

Every table module is imported below, so ``Base.metadata`` is complete as soon as this
package is imported (Alembic's env.py relies on that) and ``from evroam.storage.tables
import PartnerRow`` keeps working whichever module defines the row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends.

    SQLite stores naive text, so everything is converted to UTC on the way in: that keeps
    the text comparable (``expires_at > now`` compares strings there) and lets the value
    come back aware. A naive datetime is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The domain modules import Base and UtcDateTime from this package, so they can only be
# imported once those exist: hence imports below the definitions.
from evroam.storage.tables.commands import ReceivedRequestRow, SentRequestRow  # noqa: E402
from evroam.storage.tables.credentials import CredentialsTokenRow  # noqa: E402
from evroam.storage.tables.hubclientinfo import ClientInfoRow  # noqa: E402
from evroam.storage.tables.interop import QuirkRow  # noqa: E402
from evroam.storage.tables.objects import ObjectRow  # noqa: E402
from evroam.storage.tables.oicp import OicpEvseStatusRow, OicpPartnerRow  # noqa: E402
from evroam.storage.tables.oicp_data import (  # noqa: E402
    OicpEvseDataRow,
    OicpEvsePricingRow,
    OicpPricingProductDataRow,
)
from evroam.storage.tables.oicp_sessions import (  # noqa: E402
    OicpAuthRecordRow,
    OicpCdrRow,
    OicpNotificationRow,
    OicpSessionRow,
)
from evroam.storage.tables.outbox import OutboxRow  # noqa: E402
from evroam.storage.tables.partners import PartnerRoleRow, PartnerRow, PartyClaimRow  # noqa: E402

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "ObjectRow",
    "OicpEvseDataRow",
    "OicpEvsePricingRow",
    "OicpPricingProductDataRow",
    "OicpEvseStatusRow",
    "OicpAuthRecordRow",
    "OicpCdrRow",
    "OicpNotificationRow",
    "OicpSessionRow",
    "OicpPartnerRow",
    "OutboxRow",
    "ClientInfoRow",
    "CredentialsTokenRow",
    "PartnerRoleRow",
    "PartnerRow",
    "PartyClaimRow",
    "QuirkRow",
    "ReceivedRequestRow",
    "SentRequestRow",
    "UtcDateTime",
]
