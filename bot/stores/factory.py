"""Open the configured stores. The system of record is PostgreSQL when ECM_DATABASE_URL is
set, else SQLite (``state.db``) in the data directory; it holds the team's tabs and the bot's
state. Orders come from Redshift when REDSHIFT_HOST (or REDSHIFT_URL) is set, else the embedded
``warehouse.db``. Google Sheets (GOOGLE_SHEETS_CREDENTIALS and ECM_SPREADSHEET_ID) is a synced
view, opened only by the sync (``bot/sync``), never on a request path. Vendor adapters are
imported only when configured."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.db import Database, open_database
from bot.paths import data_dir
from bot.stores.db_workbook import DatabaseWorkbook
from bot.stores.sqlite_warehouse import SqliteWarehouse
from bot.stores.state import StateStore
from bot.stores.warehouse import Warehouse

if TYPE_CHECKING:
    from bot.stores.redshift_warehouse import RedshiftWarehouse


@dataclass
class Stores:
    """The stores a skill run may use; ``workbook`` and ``state`` share one database."""

    warehouse: Warehouse
    workbook: DatabaseWorkbook
    state: StateStore
    db: Database


def configured_warehouse(env: Mapping[str, str] = os.environ) -> RedshiftWarehouse | None:
    """The Redshift warehouse when configured, else None."""
    if not (env.get("REDSHIFT_HOST") or env.get("REDSHIFT_URL")):
        return None
    from bot.stores.redshift_warehouse import RedshiftWarehouse

    return RedshiftWarehouse.from_env(env)


def configured_sheet(env: Mapping[str, str] = os.environ):
    """The Google Sheets workbook (the synced view) when configured, else None."""
    if not (env.get("GOOGLE_SHEETS_CREDENTIALS") and env.get("ECM_SPREADSHEET_ID")):
        return None
    from bot.stores.sheets_workbook import SheetsWorkbook

    return SheetsWorkbook.from_env(env)


def open_stores(directory: Path | None = None, env: Mapping[str, str] = os.environ) -> Stores:
    """The configured stores; embedded SQLite in ``directory`` (default ECM_DATA_DIR) for
    whatever is not configured."""
    root = Path(directory) if directory else data_dir()
    root.mkdir(parents=True, exist_ok=True)
    db = open_database(root, env)
    return Stores(
        warehouse=configured_warehouse(env) or SqliteWarehouse(root / "warehouse.db"),
        workbook=DatabaseWorkbook(db),
        state=StateStore(db),
        db=db,
    )
