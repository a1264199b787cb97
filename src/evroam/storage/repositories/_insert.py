"""INSERT ... ON CONFLICT for the backend a session is on.

SQLite and PostgreSQL spell it the same, but SQLAlchemy keeps the construct per dialect;
this picks it, so repositories can let the database settle a race (a concurrent insert
of the same key) instead of reading first and hoping nobody writes in between.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, entity: Any) -> postgresql.Insert | sqlite.Insert:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(entity)
    if name == "sqlite":
        return sqlite.insert(entity)
    raise NotImplementedError(f"no INSERT ... ON CONFLICT for {name}")
