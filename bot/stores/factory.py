"""Open the configured stores. Redshift when REDSHIFT_HOST (or REDSHIFT_URL) is set, Google
Sheets when GOOGLE_SHEETS_CREDENTIALS and ECM_SPREADSHEET_ID are set; otherwise embedded SQLite
in the data directory: warehouse.db (orders), workbook.db (the sheet tabs). The bot's own state
is always SQLite (state.db). Vendor adapters are imported only when configured."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.paths import data_dir
from bot.stores.sqlite_warehouse import SqliteWarehouse
from bot.stores.sqlite_workbook import SqliteWorkbook
from bot.stores.state import StateStore
from bot.stores.warehouse import Warehouse
from bot.stores.workbook import Workbook


@dataclass
class Stores:
    """The three stores a skill run may use."""

    warehouse: Warehouse
    workbook: Workbook
    state: StateStore


def configured_warehouse(env: Mapping[str, str] = os.environ) -> Warehouse | None:
    """The Redshift warehouse when configured, else None."""
    if not (env.get("REDSHIFT_HOST") or env.get("REDSHIFT_URL")):
        return None
    from bot.stores.redshift_warehouse import RedshiftWarehouse

    return RedshiftWarehouse.from_env(env)


def configured_workbook(env: Mapping[str, str] = os.environ) -> Workbook | None:
    """The Google Sheets workbook when configured, else None."""
    if not (env.get("GOOGLE_SHEETS_CREDENTIALS") and env.get("ECM_SPREADSHEET_ID")):
        return None
    from bot.stores.sheets_workbook import SheetsWorkbook

    return SheetsWorkbook.from_env(env)


def open_stores(directory: Path | None = None, env: Mapping[str, str] = os.environ) -> Stores:
    """The configured stores; embedded SQLite in ``directory`` (default ECM_DATA_DIR) for
    whatever is not configured."""
    root = Path(directory) if directory else data_dir()
    root.mkdir(parents=True, exist_ok=True)
    return Stores(
        warehouse=configured_warehouse(env) or SqliteWarehouse(root / "warehouse.db"),
        workbook=configured_workbook(env) or SqliteWorkbook(root / "workbook.db"),
        state=StateStore(root / "state.db"),
    )
