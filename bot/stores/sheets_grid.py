"""Grid-level access to the team's Google spreadsheet, for the background sync.

The sync keeps the sheet (a view) and the system of record in step: it reads whole tabs as
grids (``read_grids``), decides what changed, and writes cells at row numbers it computed
(``write_rows``). Nothing here appends: values.append is not idempotent (a retry after a
timeout adds the rows twice), so rows are written at explicit positions, and a tab is grown
first when a row lies beyond its grid.

Request budget (quota: 60 reads and 60 writes per minute per user):
- ``read_grids(tabs)``: one values:batchGet for all tabs. Its ranges ("Agents!A1:Z1000") give
  each tab's grid size, so no metadata request is needed.
- ``write_rows(writes)``: one values:batchUpdate (valueInputOption=RAW) for all writes. Only
  when a row lies beyond a tab's grid: first one metadata GET (sheet ids, current grid sizes)
  and one spreadsheets:batchUpdate appending the rows needed plus ``headroom`` to every tab
  that needs them, so growth is rare.
``reads`` and ``writes`` count these requests (retries of one request not counted).
- ``add_tab(tab, header)`` (the sync's recovery when its push-only Assignments_canary tab is
  missing or lacks a header; never in a cycle that reads cleanly): one metadata GET, then one
  header read if the tab exists, or one spreadsheets:batchUpdate (addSheet) if not, and one
  values:batchUpdate writing the missing header names.

Cells: a header named in ``RowWrite.values`` is written, as text (RAW: "=1+1" stays text);
None and "" both clear the cell (sent as ""). A header not named is sent as JSON null, which
the API leaves untouched, so a human's cells between written ones survive. Columns are located
by header position in the grid last read for that tab: humans may reorder or add columns, as
long as the sync reads before it writes.

Errors: 429 and 5xx are retried on the session (bounded, Retry-After honoured; see
``sheets_http``), then raise SheetsError. A write batch is one request, so it is applied whole
or not at all. A missing tab or header raises NotConfigured naming it, with the
``ecm-bot sheets init`` hint (the headers checked are ``SHEET_TABS``': the workbook's tabs
and Assignments_canary).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import gspread
from gspread.utils import rowcol_to_a1

from bot.errors import NotConfigured
from bot.stores.sheets_http import INIT_HINT, call, missing_headers, quote
from bot.stores.sheets_workbook import SHEET_TABS, SheetsWorkbook, add_sheet_request
from bot.stores.workbook import cell_text

if TYPE_CHECKING:
    from gspread.http_client import ParamsType

HEADROOM = 200
READ_PARAMS: ParamsType = {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"}
GRID_FIELDS = "sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))"


@dataclass(frozen=True)
class Grid:
    """One tab as read: its header (row 1) and data rows, each padded (or cut) to the header's
    width with "" for empty cells. Data row ``i`` is sheet row ``i + 2``."""

    tab: str
    header: list[str]
    rows: list[list[str]]
    row_count: int | None = None  # rows in the tab's grid (header included), when known
    column_count: int | None = None

    @cached_property
    def _positions(self) -> dict[str, int]:
        positions: dict[str, int] = {}
        for i, name in enumerate(self.header):
            if name:
                positions.setdefault(name, i)  # a duplicated header: the first one
        return positions

    def column(self, name: str) -> int:
        """0-based position of header ``name``; KeyError naming the tab when absent."""
        try:
            return self._positions[name]
        except KeyError:
            raise KeyError(f"tab {self.tab!r} has no header {name!r}") from None

    def record(self, index: int) -> dict[str, str]:
        """Data row ``index`` keyed by header."""
        return {name: self.rows[index][i] for name, i in self._positions.items()}

    @staticmethod
    def sheet_row(index: int) -> int:
        """The 1-based sheet row number of data row ``index``."""
        return index + 2


@dataclass(frozen=True)
class RowWrite:
    """Write ``values`` (header -> text; None or "" clears the cell) on 1-based sheet ``row``
    of ``tab``. Headers not named are left untouched."""

    tab: str
    row: int
    values: Mapping[str, str | None]


def _column(n: int) -> str:
    """The letters of 0-based column ``n`` (0 -> A, 26 -> AA)."""
    return rowcol_to_a1(1, n + 1)[:-1]


def _grid_size(a1: str) -> tuple[int | None, int | None]:
    """(rows, columns) of a whole-tab range as the API answers it ("'Tab'!A1:Z1000")."""
    m = re.fullmatch(r"A1:([A-Z]+)(\d+)", a1.rpartition("!")[2])
    if not m:
        return None, None
    columns = 0
    for ch in m.group(1):
        columns = columns * 26 + ord(ch) - 64
    return int(m.group(2)), columns


def _text(value: object) -> str:
    text = value if isinstance(value, str) else cell_text(value)
    return text or ""


class SheetsGrid:
    """Batched grid reads and positioned writes on one Google spreadsheet."""

    def __init__(
        self,
        spreadsheet: gspread.Spreadsheet,
        *,
        retries: int = 5,
        headroom: int = HEADROOM,
        columns: Mapping[str, Sequence[str]] = SHEET_TABS,
    ):
        self.spreadsheet = spreadsheet
        self.retries = retries
        self.headroom = headroom
        self.columns = columns  # the headers each tab must have
        self.reads = 0
        self.writes = 0
        self._grids: dict[str, Grid] = {}

    @property
    def requests(self) -> int:
        """Sheets API requests made by this object (reads + writes)."""
        return self.reads + self.writes

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_workbook(cls, workbook: SheetsWorkbook, **options: Any) -> SheetsGrid:
        """On the workbook's spreadsheet, client session and retry wiring."""
        options.setdefault("retries", workbook.retries)
        return cls(workbook.spreadsheet, **options)

    @classmethod
    def from_client(
        cls,
        client: gspread.Client,
        spreadsheet_id: str,
        *,
        retries: int = 5,
        backoff_factor: float = 1.0,
        **options: Any,
    ) -> SheetsGrid:
        """Open ``spreadsheet_id`` (one metadata request) with bounded retries on 429/5xx."""
        workbook = SheetsWorkbook.from_client(
            client, spreadsheet_id, retries=retries, backoff_factor=backoff_factor, check=False
        )
        return cls.from_workbook(workbook, **options)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        retries: int = 5,
        backoff_factor: float = 1.0,
        **options: Any,
    ) -> SheetsGrid | None:
        """The configured spreadsheet (as ``SheetsWorkbook.from_env``), or None."""
        workbook = SheetsWorkbook.from_env(
            env, retries=retries, backoff_factor=backoff_factor, check=False
        )
        return None if workbook is None else cls.from_workbook(workbook, **options)

    # ------------------------------------------------------------------ reads

    def read_grids(self, tabs: Sequence[str]) -> dict[str, Grid]:
        """Every tab in ``tabs``, whole, in one values:batchGet request."""
        tabs = list(dict.fromkeys(tabs))
        if not tabs:
            return {}
        self.reads += 1
        answer = call(
            f"read tabs {', '.join(tabs)}",
            lambda: self.spreadsheet.values_batch_get([quote(t) for t in tabs], READ_PARAMS),
            self.retries,
        )
        grids = {}
        for tab, value_range in zip(tabs, answer.get("valueRanges", []), strict=True):
            values = value_range.get("values") or []
            header = [str(h).strip() for h in (values[0] if values else [])]
            required = self.columns.get(tab, ())
            if any(c not in header for c in required):
                raise missing_headers(tab, header, required)
            width = len(header)
            rows = [
                ["" if v is None else str(v) for v in raw[:width]] + [""] * (width - len(raw))
                for raw in values[1:]
            ]
            row_count, column_count = _grid_size(value_range.get("range", ""))
            grids[tab] = Grid(tab, header, rows, row_count, column_count)
        self._grids.update(grids)
        return grids

    # ------------------------------------------------------------------ tabs

    def add_tab(self, tab: str, header: Sequence[str]) -> list[str]:
        """Make ``tab`` exist with every name of ``header`` in row 1, as ``ecm-bot sheets
        init`` does: create it, or write its missing header names after its last header.
        Returns what was created, one line each (empty: the tab was whole already)."""
        self.reads += 1
        meta = call(
            "read the spreadsheet's tabs",
            lambda: self.spreadsheet.fetch_sheet_metadata(
                {"includeGridData": "false", "fields": GRID_FIELDS}
            ),
            self.retries,
        )
        if tab in {s["properties"]["title"] for s in meta.get("sheets", [])}:
            self.reads += 1
            answer = call(
                f"read the header of tab {tab!r}",
                lambda: self.spreadsheet.values_batch_get([f"{quote(tab)}!1:1"], READ_PARAMS),
                self.retries,
            )
            values = (answer.get("valueRanges") or [{}])[0].get("values") or [[]]
            row = [str(h).strip() for h in values[0]]
            missing = [h for h in header if h not in row]
            if not missing:
                return []
            while row and not row[-1]:
                row.pop()
            start, done = _column(len(row)), f"headers {', '.join(missing)} on tab {tab!r}"
        else:
            body: dict[str, Any] = {"requests": [add_sheet_request(tab, len(header))]}
            self.writes += 1
            call(f"create tab {tab!r}", lambda: self.spreadsheet.batch_update(body), self.retries)
            missing, start = list(header), "A"
            done = f"tab {tab!r} with headers {', '.join(header)}"
        data = [{"range": f"{quote(tab)}!{start}1", "values": [missing]}]
        self.writes += 1
        call(
            f"write the header of tab {tab!r}",
            lambda: self.spreadsheet.values_batch_update({"valueInputOption": "RAW", "data": data}),
            self.retries,
        )
        self._grids.pop(tab, None)  # read it again before writing rows
        return [done]

    # ------------------------------------------------------------------ writes

    def write_rows(self, writes: Sequence[RowWrite]) -> None:
        """All ``writes`` in one values:batchUpdate (RAW), growing tabs first when needed."""
        cells: dict[tuple[str, int], dict[int, str]] = {}
        for write in writes:
            grid = self._grids.get(write.tab)
            if grid is None:
                raise KeyError(f"tab {write.tab!r} was not read: call read_grids first")
            if write.row < 2:
                raise ValueError(
                    f"row {write.row} of tab {write.tab!r}: data rows start at 2 (row 1 is "
                    "the header)"
                )
            row = cells.setdefault((write.tab, write.row), {})
            for name, value in write.values.items():
                row[grid.column(name)] = _text(value)
        data = []
        for (tab, number), row in sorted(cells.items()):
            if row:
                first, last = min(row), max(row)
                data.append(
                    {
                        "range": f"{quote(tab)}!{_column(first)}{number}:{_column(last)}{number}",
                        "values": [[row.get(c) for c in range(first, last + 1)]],
                    }
                )
        if not data:
            return
        last_rows: dict[str, int] = {}
        for tab, number in cells:
            last_rows[tab] = max(number, last_rows.get(tab, 0))
        self._grow(last_rows)
        body = {"valueInputOption": "RAW", "data": data}
        self.writes += 1
        call(
            f"write {len(data)} row{'' if len(data) == 1 else 's'}",
            lambda: self.spreadsheet.values_batch_update(body),
            self.retries,
        )

    def _beyond(self, tab: str, row: int) -> bool:
        grid = self._grids[tab]
        if grid.row_count is not None:
            return row > grid.row_count
        return row > len(grid.rows) + 1  # unknown grid size: check rows past the data

    def _grow(self, last_rows: dict[str, int]) -> None:
        """Make every tab's grid reach its last written row (plus headroom when it grows)."""
        over = {tab: row for tab, row in last_rows.items() if self._beyond(tab, row)}
        if not over:
            return
        self.reads += 1
        meta = call(
            "read the tabs' grid sizes",
            lambda: self.spreadsheet.fetch_sheet_metadata(
                {"includeGridData": "false", "fields": GRID_FIELDS}
            ),
            self.retries,
        )
        found = {s["properties"]["title"]: s["properties"] for s in meta.get("sheets", [])}
        requests, sizes, grown = [], {}, []
        for tab, row in sorted(over.items()):
            props = found.get(tab)
            if props is None:
                raise NotConfigured(f"Google Sheets tab {tab!r} is missing. {INIT_HINT}")
            have = int(props.get("gridProperties", {}).get("rowCount", 0))
            sizes[tab] = have
            if row > have:
                length = row - have + self.headroom
                sizes[tab] = have + length
                append = {"sheetId": props["sheetId"], "dimension": "ROWS", "length": length}
                requests.append({"appendDimension": append})
                grown.append(tab)
        if requests:
            self.writes += 1
            call(
                f"add rows to tab(s) {', '.join(grown)}",
                lambda: self.spreadsheet.batch_update({"requests": requests}),
                self.retries,
            )
        for tab, size in sizes.items():
            self._grids[tab] = replace(self._grids[tab], row_count=size)
