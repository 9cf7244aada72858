"""The team's Google Sheets workbook, through gspread (Sheets API v4).

Used when GOOGLE_SHEETS_CREDENTIALS (a service-account JSON key, as a path or as content) and
ECM_SPREADSHEET_ID are both set; otherwise the embedded ``SqliteWorkbook`` is used.
ECM_SHEETS_API_URL (optional, default https://sheets.googleapis.com) is the Sheets API base
URL; requests there carry the service account's bearer token, exchanged at the key's
``token_uri`` (see ``sheets_http``).

Same contract as ``SqliteWorkbook``: every value is text (``cell_text``), an empty cell reads as
None, tabs and columns are those of ``TAB_COLUMNS`` (located by header name, so humans may
reorder or add columns), and an update is applied only where the row still holds the values the
caller expected.

Request budget (quota: 60 write requests per minute per user):
- ``read(tab)``: one ``values.get`` of the whole tab.
- ``append(tab, rows)``: one ``values:append`` for all rows.
- ``update(tab, updates)``: one ``values.get`` of the tab right before writing (rows are located
  by key column in that fresh read, so rows a human inserted or sorted meanwhile do not matter,
  and a row whose ``expect`` values changed is left alone and reported), then one
  ``values:batchUpdate`` with a whole-row range per changed row. Cells the update does not
  change are sent as JSON null, which the API skips, so a human's numbers, dates or formulas
  in other columns of that row are left as they are.
Every write uses valueInputOption=RAW: text that begins with "=" stays text.

429 and 5xx answers are retried by urllib3 on the client's requests session (Retry-After is
honoured, capped), and give up after ``retries`` retries with a ``SheetsError``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gspread
import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError, SpreadsheetNotFound
from gspread.utils import rowcol_to_a1

from bot.errors import NotConfigured
from bot.stores.sheets_http import (
    CREDENTIALS_ENV,
    INIT_HINT,
    authorized_client,
    call,
    counter,
    instrument,
    missing_headers,
    service_account_info,
    sheets_api_url,
    sheets_error,
)
from bot.stores.sheets_http import quote as _quote
from bot.stores.workbook import (
    CANARY_SHEET_HEADERS,
    CANARY_TAB,
    TAB_COLUMNS,
    TAB_KEYS,
    RowUpdate,
    cell_text,
)

if TYPE_CHECKING:
    from gspread.http_client import ParamsType

log = logging.getLogger(__name__)

SPREADSHEET_ENV = "ECM_SPREADSHEET_ID"
SHEET_TABS: dict[str, tuple[str, ...]] = {**TAB_COLUMNS, CANARY_TAB: CANARY_SHEET_HEADERS}
"""Every tab the sheet sync keeps: the workbook's, then Assignments_canary (the canary plan,
push-only; ``ecm-bot sheets init`` or the sync creates it, ``check_headers`` does not need it)."""


def add_sheet_request(tab: str, width: int) -> dict:
    """The spreadsheets:batchUpdate request creating ``tab`` (1000 rows, header row frozen)."""
    grid = {"rowCount": 1000, "columnCount": max(26, width), "frozenRowCount": 1}
    return {"addSheet": {"properties": {"title": tab, "gridProperties": grid}}}


def _column(n: int) -> str:
    """The letters of 1-based column ``n`` (1 -> A, 27 -> AA)."""
    return rowcol_to_a1(1, n)[:-1]


def _text(value: object) -> str:
    """A value as written to a cell (RAW): its text form, None as an empty string."""
    text = cell_text(value)
    return "" if text is None else text


def _empty_as_none(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else cell_text(value)
    return text if text != "" else None


class SheetsWorkbook:
    """The workbook tabs in one Google spreadsheet."""

    def __init__(self, spreadsheet: gspread.Spreadsheet, *, retries: int = 5):
        self.spreadsheet = spreadsheet
        self.retries = retries
        self._counter = counter(spreadsheet.client.session)
        self._headers: dict[str, list[str]] = {}

    @property
    def requests(self) -> int:
        """HTTP requests made through the client's session so far (retries not counted)."""
        return self._counter.count

    @requests.setter
    def requests(self, value: int) -> None:
        self._counter.count = value

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_client(
        cls,
        client: gspread.Client,
        spreadsheet_id: str,
        *,
        retries: int = 5,
        backoff_factor: float = 1.0,
        check: bool = True,
    ) -> SheetsWorkbook:
        """Open ``spreadsheet_id`` with ``client`` and check its tabs and headers.

        Mounts a retrying adapter and a request counter on the client's requests session
        (``client.http_client.session``).
        """
        instrument(client.http_client.session, retries, backoff_factor)
        if client.http_client.timeout is None:
            client.set_timeout((10, 120))
        try:
            spreadsheet = client.open_by_key(spreadsheet_id)
        except SpreadsheetNotFound:
            raise NotConfigured(
                f"Google spreadsheet {spreadsheet_id!r} ({SPREADSHEET_ENV}) was not found. "
                "Check the ID (the part of the sheet URL after /d/)."
            ) from None
        except PermissionError:
            raise NotConfigured(
                f"The service account may not open Google spreadsheet {spreadsheet_id!r}. "
                f"Share the sheet (as Editor) with the client_email of {CREDENTIALS_ENV}."
            ) from None
        except (APIError, requests.RequestException, auth_exceptions.GoogleAuthError) as exc:
            raise sheets_error(exc, "open the spreadsheet", retries) from None
        workbook = cls(spreadsheet, retries=retries)
        if check:
            workbook.check_headers()
        return workbook

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **options: Any
    ) -> SheetsWorkbook | None:
        """The configured Google Sheets workbook, or None when the settings are absent."""
        env = os.environ if env is None else env
        raw = (env.get(CREDENTIALS_ENV) or "").strip()
        spreadsheet_id = (env.get(SPREADSHEET_ENV) or "").strip()
        if not raw or not spreadsheet_id:
            if raw or spreadsheet_id:
                missing = SPREADSHEET_ENV if raw else CREDENTIALS_ENV
                log.warning("%s is not set: using the embedded workbook", missing)
            return None
        client = authorized_client(service_account_info(raw), sheets_api_url(env))
        return cls.from_client(client, spreadsheet_id, **options)

    # ------------------------------------------------------------------ schema

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        return call(what, fn, self.retries)

    def _titles(self) -> list[str]:
        meta = self._call(
            "read the spreadsheet's tabs",
            lambda: self.spreadsheet.fetch_sheet_metadata(
                {"includeGridData": "false", "fields": "sheets.properties.title"}
            ),
        )
        return [s["properties"]["title"] for s in meta.get("sheets", [])]

    def _header_rows(self, tabs: list[str]) -> dict[str, list[str]]:
        if not tabs:
            return {}
        ranges = [f"{_quote(t)}!1:1" for t in tabs]
        answer = self._call(
            "read the header rows",
            lambda: self.spreadsheet.values_batch_get(
                ranges, {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"}
            ),
        )
        found = answer.get("valueRanges", [])
        headers = {}
        for tab, value_range in zip(tabs, found, strict=False):
            values = value_range.get("values") or [[]]
            headers[tab] = [str(h).strip() for h in values[0]]
        return headers

    def _problems(
        self, columns: Mapping[str, Sequence[str]] = TAB_COLUMNS
    ) -> tuple[list[str], dict[str, list[str]], dict[str, list[str]]]:
        """(missing tabs, missing headers per tab, header rows of the present tabs)."""
        titles = set(self._titles())
        missing_tabs = [t for t in columns if t not in titles]
        headers = self._header_rows([t for t in columns if t in titles])
        missing_headers = {
            tab: [c for c in columns[tab] if c not in row]
            for tab, row in headers.items()
            if any(c not in row for c in columns[tab])
        }
        return missing_tabs, missing_headers, headers

    def check_headers(self) -> None:
        """Raise NotConfigured naming every missing tab and header (two requests)."""
        missing_tabs, missing_headers, headers = self._problems()
        problems = [f"tab {t!r} is missing" for t in missing_tabs]
        problems += [
            f"tab {tab!r} has no header {', '.join(repr(c) for c in cols)} in row 1"
            for tab, cols in missing_headers.items()
        ]
        if problems:
            raise NotConfigured(
                f"Google spreadsheet {self.spreadsheet.id!r}: {'; '.join(problems)}. {INIT_HINT}"
            )
        self._headers.update(headers)

    def init_tabs(self, columns: Mapping[str, Sequence[str]] = TAB_COLUMNS) -> list[str]:
        """Create missing tabs of ``columns`` (``SHEET_TABS``: the canary tab too) with their
        headers and add missing headers to existing tabs (after their last header). Returns
        one line per thing created (empty: nothing to do)."""
        missing_tabs, missing_headers, headers = self._problems(columns)
        created: list[str] = []
        if missing_tabs:
            body: dict[str, Any] = {
                "requests": [add_sheet_request(tab, len(columns[tab])) for tab in missing_tabs]
            }
            self._call("create tabs", lambda: self.spreadsheet.batch_update(body))
        data = []
        for tab in missing_tabs:
            data.append({"range": f"{_quote(tab)}!A1", "values": [list(columns[tab])]})
            headers[tab] = list(columns[tab])
            created.append(f"tab {tab!r} with headers {', '.join(columns[tab])}")
        for tab, cols in missing_headers.items():
            row = headers[tab]
            while row and not row[-1]:
                row.pop()
            start = rowcol_to_a1(1, len(row) + 1)
            data.append({"range": f"{_quote(tab)}!{start}", "values": [cols]})
            headers[tab] = row + cols
            created.append(f"headers {', '.join(cols)} on tab {tab!r}")
        if data:
            body = {"valueInputOption": "RAW", "data": data}
            self._call("write headers", lambda: self.spreadsheet.values_batch_update(body))
        self._headers.update(headers)
        return created

    # ------------------------------------------------------------------ Workbook

    def _check_tab(self, tab: str) -> tuple[str, ...]:
        if tab not in TAB_COLUMNS:
            raise KeyError(f"unknown tab {tab!r}")
        return TAB_COLUMNS[tab]

    def _get_tab(self, tab: str) -> tuple[list[list[Any]], dict[str, int]]:
        """The whole tab (one request): its rows (row 1 is the header) and column positions."""
        answer = self._call(
            f"read tab {tab!r}",
            lambda: self.spreadsheet.values_get(
                _quote(tab), {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"}
            ),
        )
        values = answer.get("values") or []
        header = [str(h).strip() for h in (values[0] if values else [])]
        self._headers[tab] = header
        return values, self._positions(tab, header)

    def _positions(self, tab: str, header: list[str]) -> dict[str, int]:
        positions: dict[str, int] = {}
        for i, name in enumerate(header):
            positions.setdefault(name, i)
        if any(c not in positions for c in TAB_COLUMNS[tab]):
            raise missing_headers(tab, header, TAB_COLUMNS[tab])
        return positions

    def read(self, tab: str) -> list[dict]:
        self._check_tab(tab)
        values, pos = self._get_tab(tab)
        return self._rows(tab, values, pos)

    def read_many(self, tabs: list[str]) -> dict[str, list[dict]]:
        """Several whole tabs in one values:batchGet request."""
        for tab in tabs:
            self._check_tab(tab)
        answer = self._call(
            f"read tabs {', '.join(tabs)}",
            lambda: self.spreadsheet.values_batch_get(
                [_quote(t) for t in tabs],
                {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
            ),
        )
        out = {}
        for tab, value_range in zip(tabs, answer.get("valueRanges", []), strict=True):
            values = value_range.get("values") or []
            header = [str(h).strip() for h in (values[0] if values else [])]
            self._headers[tab] = header
            out[tab] = self._rows(tab, values, self._positions(tab, header))
        return out

    def _rows(self, tab: str, values: list[list[Any]], pos: dict[str, int]) -> list[dict]:
        columns = TAB_COLUMNS[tab]
        rows = []
        for raw in values[1:]:
            row = {c: _empty_as_none(raw[pos[c]] if pos[c] < len(raw) else None) for c in columns}
            if any(v is not None for v in row.values()):
                rows.append(row)
        return rows

    def append(self, tab: str, rows: list[dict]) -> None:
        columns = self._check_tab(tab)
        if not rows:
            return
        unknown = {k for r in rows for k in r} - set(columns)
        if unknown:
            raise KeyError(f"unknown columns for {tab}: {sorted(unknown)}")
        header = self._headers.get(tab)
        if header is None:
            header = self._header_rows([tab])[tab]
            self._headers[tab] = header
        pos = self._positions(tab, header)
        width = max(pos[c] for c in columns) + 1
        values = []
        for r in rows:
            line = [""] * width
            for c in columns:
                line[pos[c]] = _text(r.get(c))
            values.append(line)
        params: ParamsType = {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}
        body = {"majorDimension": "ROWS", "values": values}
        self._call(
            f"append {len(rows)} rows to tab {tab!r}",
            lambda: self.spreadsheet.values_append(f"{_quote(tab)}!A1", params, body),
        )

    def update(self, tab: str, updates: list[RowUpdate]) -> list[str]:
        columns = self._check_tab(tab)
        key = TAB_KEYS[tab]
        conflicts: list[str] = []
        if not updates:
            return conflicts
        for up in updates:
            unknown = (set(up.changes) | set(up.expect)) - set(columns)
            if unknown:
                raise KeyError(f"unknown columns for {tab}: {sorted(unknown)}")
        values, pos = self._get_tab(tab)  # the fresh read, right before writing
        width = max(len(values[0]), max(pos.values()) + 1)
        rows = [list(r) + [""] * (width - len(r)) for r in values]
        by_key: dict[str, list[int]] = {}
        for i in range(1, len(rows)):
            by_key.setdefault(str(rows[i][pos[key]]), []).append(i)
        changed: dict[int, dict[int, str]] = {}
        for up in updates:
            expect = {pos[c]: _text(v) for c, v in up.expect.items()}
            hit = False
            for i in by_key.get(str(up.key), []):
                if all(str(rows[i][col]) == want for col, want in expect.items()):
                    hit = True
                    cells = changed.setdefault(i, {})
                    for c, v in up.changes.items():
                        cells[pos[c]] = rows[i][pos[c]] = _text(v)
            if not hit:
                conflicts.append(str(up.key))
        if changed:
            last = _column(width)
            data = []
            for i in sorted(changed):
                line: list[str | None] = [None] * width
                for col, text in changed[i].items():
                    line[col] = text
                data.append({"range": f"{_quote(tab)}!A{i + 1}:{last}{i + 1}", "values": [line]})
            body = {"valueInputOption": "RAW", "data": data}
            self._call(
                f"update {len(data)} rows of tab {tab!r}",
                lambda: self.spreadsheet.values_batch_update(body),
            )
        return conflicts


# ---------------------------------------------------------------------- helpers
