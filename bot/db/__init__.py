"""The system of record: one transactional database for tickets, the roster and all of the
bot's state. SQLite in the data directory by default; PostgreSQL when ECM_DATABASE_URL is set.

``open_database()`` picks the engine; both implement ``Database`` (``base.py``) and share the
same SQL (``?`` placeholders) and the same versioned migrations (``migrations.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.db.base import Database

DATABASE_URL_ENV = "ECM_DATABASE_URL"


def open_database(directory: Path, env: Mapping[str, str] = os.environ) -> Database:
    """PostgreSQL when ECM_DATABASE_URL is set, else SQLite ``ecm.db`` in ``directory``;
    migrated to the current schema either way."""
    url = env.get("ECM_DATABASE_URL", "").strip()
    if url:
        from bot.db.postgres import PostgresDatabase

        return PostgresDatabase.shared(url)
    from bot.db.sqlite import SqliteDatabase

    return SqliteDatabase.shared(Path(directory))


__all__ = ["DATABASE_URL_ENV", "Database", "open_database"]
