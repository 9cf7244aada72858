"""Open the configured stores. With no credentials, everything is embedded SQLite in the
data directory: warehouse.db (orders), workbook.db (the sheet tabs), state.db (bot state)."""

from __future__ import annotations

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


def open_stores(directory: Path | None = None) -> Stores:
    """The embedded stores in ``directory`` (default: ECM_DATA_DIR)."""
    root = Path(directory) if directory else data_dir()
    root.mkdir(parents=True, exist_ok=True)
    return Stores(
        warehouse=SqliteWarehouse(root / "warehouse.db"),
        workbook=SqliteWorkbook(root / "workbook.db"),
        state=StateStore(root / "state.db"),
    )
