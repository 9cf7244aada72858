"""A fake Google Sheets API v4 on 127.0.0.1: the endpoints gspread calls for the workbook.

Endpoints: spreadsheet metadata GET, values GET / PUT (update), values:batchGet,
values:batchUpdate, values:append, and spreadsheets:batchUpdate (addSheet, appendDimension).
Faithful where the adapters depend on it:
- Auth: every request needs ``Authorization: Bearer <token>`` with a live token from the fake
  token endpoint (``fake_google_token``, started with this fake; its service-account key is
  ``service_account_info()``), else 401 UNAUTHENTICATED. A token without a Sheets scope, or of
  an account not in ``editors`` (None: everyone), gets 403 PERMISSION_DENIED.
- Grid: each tab has rowCount x columnCount (a new tab 1000 x 26). A values write (update,
  batchUpdate) beyond it is 400 INVALID_ARGUMENT "Range ('Tab'!A1002) exceeds grid limits. Max
  rows: 1000, max columns: 26"; reads are clipped to it; values.append grows it; addSheet
  (gridProperties) and appendDimension change it. A batchUpdate is applied whole or not at all.
- values.append finds the "table" in the range (the first row holding data, and the rows after
  it up to the first empty one) and writes after its last row from its first column
  (insertDataOption OVERWRITE, the default, or INSERT_ROWS); the reply has ``tableRange`` and
  ``updates.updatedRange``.
- Ranges in replies are normalised: 'Agents' -> "Agents!A1:Z1000" (clipped to the grid), names
  quoted only when they need it ("'My Tab'!A1").
- Quotas: ``read_limit`` reads (metadata, values GET, batchGet) and ``write_limit`` writes per
  ``window`` seconds per account, on the injectable ``clock``: beyond them 429
  RESOURCE_EXHAUSTED without Retry-After, like Google.
Every request is recorded (method, path, query, body, account; ``kinds()``);
``fail_next(n, status)`` answers the next n authorised requests with an error (429 with
Retry-After: 0, or a 5xx). ``on_request`` is called (under the lock) before a request is
served, so a test can play a human editing the sheet between two requests.

Cells hold JSON values like the real API: RAW keeps strings as strings; USER_ENTERED turns a
string starting with "=" into a ``Formula`` (read back as "" formatted, or as its text with
valueRenderOption=FORMULA). JSON null in a written range leaves that cell as it was.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import gspread
import requests
from fake_google_token import FakeGoogleToken, LocalServer

GOOGLE = "https://sheets.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/"
WRITE_SCOPES = {SCOPE + s for s in ("spreadsheets", "drive", "drive.file")}
READ_SCOPES = WRITE_SCOPES | {SCOPE + s for s in ("spreadsheets.readonly", "drive.readonly")}
READS = ("metadata", "get", "batchGet")
MAX_CELLS = 10_000_000
AUTH_HELP = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


@dataclass(frozen=True)
class Formula:
    text: str


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: list[list] = field(default_factory=list)
    row_count: int = 1000
    col_count: int = 26

    def properties(self, index: int) -> dict:
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": self.row_count, "columnCount": self.col_count},
        }


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: object
    account: str | None = None

    @property
    def kind(self) -> str:
        """metadata | get | update | batchGet | batchUpdate | append | structure"""
        if self.path.endswith(":append"):
            return "append"
        if self.path.endswith("/values:batchGet"):
            return "batchGet"
        if self.path.endswith("/values:batchUpdate"):
            return "batchUpdate"
        if self.path.endswith(":batchUpdate"):
            return "structure"
        if "/values/" in self.path:
            return "update" if self.method == "PUT" else "get"
        return "metadata"


class ApiError(Exception):
    def __init__(self, status: int, message: str, reason: str = "INVALID_ARGUMENT", headers=None):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason
        self.headers = headers or {}


@dataclass
class Span:
    """A parsed A1 range: 0-based, end inclusive, None for an open end."""

    sheet: Sheet
    cells: str | None
    r0: int
    c0: int
    r1: int | None
    c1: int | None
    single: bool  # one cell: that cell to read, the top-left corner of a write


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _col_letters(index: int) -> str:
    n, out = index + 1, ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def sheet_ref(title: str) -> str:
    """A tab name as the API writes it in ranges: quoted only when it needs quotes."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title)
    cell_like = re.fullmatch(r"[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*", title)
    return title if plain and not cell_like else "'" + title.replace("'", "''") + "'"


def a1(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> str:
    start = f"{_col_letters(c0)}{r0 + 1}"
    if (r0, c0) == (r1, c1):
        return f"{sheet_ref(sheet.title)}!{start}"
    return f"{sheet_ref(sheet.title)}!{start}:{_col_letters(c1)}{r1 + 1}"


def _empty(value) -> bool:
    return value is None or value == ""


class FakeSheets:
    """One in-memory spreadsheet behind a local HTTP server (use as a context manager)."""

    def __init__(
        self,
        spreadsheet_id: str = "sheet-123",
        title: str = "ECM",
        *,
        clock: Callable[[], float] = time.monotonic,
        read_limit: int = 60,
        write_limit: int = 60,
        window: float = 60.0,
        tokens: FakeGoogleToken | None = None,
    ):
        self.spreadsheet_id = spreadsheet_id
        self.title = title
        self.sheets: list[Sheet] = []
        self.requests: list[Recorded] = []
        self.on_request: Callable[[Recorded], None] | None = None
        self.editors: set[str] | None = None  # accounts the sheet is shared with; None: all
        self.clock, self.window = clock, window
        self.read_limit, self.write_limit = read_limit, write_limit
        self.tokens = tokens or FakeGoogleToken()
        self._own_tokens = tokens is None
        self._usage: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._fail: list[tuple[int, str | None]] = []
        self._lock = threading.RLock()
        self._server: LocalServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSheets:
        if self._own_tokens:
            self.tokens.start()
        self._server = LocalServer(self.handle)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None
        if self._own_tokens:
            self.tokens.stop()

    def __enter__(self) -> FakeSheets:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server, "start() the fake first"
        return self._server.url

    def service_account_info(self, **options) -> dict:
        """A service-account key the fake token endpoint accepts (see FakeGoogleToken)."""
        return self.tokens.service_account_info(**options)

    def env(self, credentials: str | None = None) -> dict[str, str]:
        """The settings that point the real code here (key as JSON unless a path is given)."""
        return {
            "GOOGLE_SHEETS_CREDENTIALS": credentials or json.dumps(self.service_account_info()),
            "ECM_SPREADSHEET_ID": self.spreadsheet_id,
            "ECM_SHEETS_API_URL": self.base_url,
        }

    def client(self) -> gspread.Client:
        """A gspread client authenticated as in production (the key exchanged for a token at
        the fake token endpoint), its requests sent here."""
        from bot.stores.sheets_http import authorized_client

        return authorized_client(self.service_account_info(), self.base_url)

    def session(self) -> requests.Session:
        """A plain session (no credentials) that sends Google's Sheets URLs to this fake."""
        return LocalSession(self.base_url)

    def anonymous_client(self) -> gspread.Client:
        return gspread.Client(auth=None, session=self.session())

    # ------------------------------------------------------------------ test helpers

    def add_workbook_tabs(self) -> FakeSheets:
        """Add the workbook's tabs (``TAB_COLUMNS``), each with its header row only, as a
        sheet set up by ``ecm-bot sheets init`` has them; returns the fake."""
        from bot.stores.workbook import TAB_COLUMNS

        for tab, columns in TAB_COLUMNS.items():
            self.add_sheet(tab, [list(columns)])
        return self

    def add_sheet(
        self, title: str, rows: list[list] | None = None, row_count: int = 1000, col_count: int = 26
    ) -> Sheet:
        with self._lock:
            sheet = Sheet(max((s.sheet_id for s in self.sheets), default=0) + 1, title)
            sheet.rows = [list(r) for r in rows or []]
            sheet.row_count = max(row_count, len(sheet.rows))
            sheet.col_count = max([col_count] + [len(r) for r in sheet.rows])
            self.sheets.append(sheet)
            return sheet

    def sheet(self, title: str) -> Sheet:
        return next(s for s in self.sheets if s.title == title)

    def cell(self, title: str, row: int, col: int) -> object:
        """The stored value at 1-based (row, col), None when empty."""
        rows = self.sheet(title).rows
        if row - 1 < len(rows) and col - 1 < len(rows[row - 1]):
            return rows[row - 1][col - 1]
        return None

    def set_cell(self, title: str, row: int, col: int, value: object) -> None:
        with self._lock:
            sheet = self.sheet(title)
            sheet.row_count, sheet.col_count = max(sheet.row_count, row), max(sheet.col_count, col)
            self._put(sheet, row - 1, col - 1, value)

    def find_row(self, title: str, column: str, value: str) -> int:
        """1-based row number of the first row whose ``column`` (a header) equals value."""
        rows = self.sheet(title).rows
        col = rows[0].index(column)
        return next(i + 1 for i, r in enumerate(rows) if col < len(r) and r[col] == value)

    def insert_row(self, title: str, index: int, values: list) -> None:
        """Insert a row before 1-based row ``index`` (like a human does: the grid grows)."""
        with self._lock:
            sheet = self.sheet(title)
            sheet.rows.insert(index - 1, list(values))
            sheet.row_count += 1

    def fail_next(self, n: int, status: int = 429, retry_after: str | None = "0") -> None:
        """Answer the next ``n`` requests with ``status`` (429 carries Retry-After)."""
        with self._lock:
            self._fail = [(status, retry_after if status == 429 else None)] * n

    def kinds(self, since: int = 0) -> list[str]:
        return [r.kind for r in self.requests[since:]]

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, raw_path: str, headers: dict, raw_body: bytes):
        parts = urlsplit(raw_path)
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return 400, _error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT"), {}
        record = Recorded(method, parts.path, parse_qs(parts.query), body)
        with self._lock:
            self.requests.append(record)
            try:
                record.account = self._authorize(headers, record.kind in READS)
                if self._fail:
                    status, retry_after = self._fail.pop(0)
                    extra = {"Retry-After": retry_after} if retry_after is not None else {}
                    reason = "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE"
                    raise ApiError(status, "fake failure", reason, extra)
                self._charge(record)
                if self.on_request:
                    self.on_request(record)
                return 200, self._route(method, parts.path, record.query, record.body), {}
            except ApiError as exc:
                return exc.status, _error(exc.status, exc.message, exc.reason), exc.headers

    def _authorize(self, headers: dict, read: bool) -> str:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        if scheme.lower() != "bearer" or not token.strip():
            message = "Request is missing required authentication credential. " + AUTH_HELP
            raise ApiError(401, message, "UNAUTHENTICATED", challenge)
        found = self.tokens.lookup(token.strip())
        if found is None:
            message = "Request had invalid authentication credentials. " + AUTH_HELP
            raise ApiError(401, message, "UNAUTHENTICATED", challenge)
        account, scope = found
        if not set(scope.split()) & (READ_SCOPES if read else WRITE_SCOPES):
            raise ApiError(
                403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED"
            )
        if self.editors is not None and account not in self.editors:
            raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
        return account

    def _charge(self, record: Recorded) -> None:
        kind = "read" if record.kind in READS else "write"
        limit = self.read_limit if kind == "read" else self.write_limit
        now, used = self.clock(), self._usage[(record.account or "", kind)]
        while used and used[0] <= now - self.window:
            used.popleft()
        if len(used) >= limit:
            metric = "Read requests" if kind == "read" else "Write requests"
            raise ApiError(
                429,
                f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per "
                "user' of service 'sheets.googleapis.com' for consumer "
                "'project_number:000000000000'.",
                "RESOURCE_EXHAUSTED",
            )
        used.append(now)

    def _route(self, method: str, path: str, query: dict, body) -> dict:
        prefix = f"/v4/spreadsheets/{self.spreadsheet_id}"
        if not path.startswith(prefix):
            raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
        rest = path[len(prefix) :]
        option = (query.get("valueRenderOption") or ["FORMATTED_VALUE"])[0]
        if method == "GET" and rest == "":
            sheets = [{"properties": s.properties(i)} for i, s in enumerate(self.sheets)]
            props = {"title": self.title, "locale": "en_US", "timeZone": "Etc/GMT"}
            return {"spreadsheetId": self.spreadsheet_id, "properties": props, "sheets": sheets}
        if method == "POST" and rest == ":batchUpdate":
            return self._structure(body)
        if method == "GET" and rest == "/values:batchGet":
            ranges = [self._value_range(r, option) for r in query.get("ranges", [])]
            return {"spreadsheetId": self.spreadsheet_id, "valueRanges": ranges}
        if method == "POST" and rest == "/values:batchUpdate":
            return self._batch_update(body)
        if method == "POST" and rest.startswith("/values/") and rest.endswith(":append"):
            return self._append(unquote(rest[len("/values/") : -len(":append")]), query, body)
        if method == "PUT" and rest.startswith("/values/"):
            option = (query.get("valueInputOption") or [None])[0]
            item = {"range": unquote(rest[len("/values/") :]), **(body or {})}
            return {"spreadsheetId": self.spreadsheet_id, **self._write_all([item], option)[0]}
        if method == "GET" and rest.startswith("/values/"):
            return self._value_range(unquote(rest[len("/values/") :]), option)
        raise ApiError(404, f"fake: no endpoint {method} {path}", "NOT_FOUND")

    def _structure(self, body: dict) -> dict:
        saved = copy.deepcopy(self.sheets)  # all requests or none
        try:
            replies = [self._structure_one(i, req) for i, req in enumerate(body["requests"])]
            if sum(s.row_count * s.col_count for s in self.sheets) > MAX_CELLS:
                raise ApiError(
                    400,
                    "This action would increase the number of cells in the workbook above the "
                    f"limit of {MAX_CELLS} cells.",
                )
        except ApiError:
            self.sheets = saved
            raise
        return {"spreadsheetId": self.spreadsheet_id, "replies": replies}

    def _structure_one(self, i: int, req: dict) -> dict:
        if "addSheet" in req:
            props = req["addSheet"].get("properties", {})
            title = props.get("title")
            if any(s.title == title for s in self.sheets):
                raise ApiError(400, f'A sheet with the name "{title}" already exists.')
            grid = props.get("gridProperties", {})
            sheet = self.add_sheet(title, None, grid.get("rowCount", 1000))
            sheet.col_count = grid.get("columnCount", 26)
            return {"addSheet": {"properties": sheet.properties(len(self.sheets) - 1)}}
        if "appendDimension" in req:
            spec = req["appendDimension"]
            sheet = next((s for s in self.sheets if s.sheet_id == spec.get("sheetId")), None)
            where = f"Invalid requests[{i}].appendDimension"
            if sheet is None:
                raise ApiError(400, f"{where}: No grid with id: {spec.get('sheetId')}")
            length = int(spec.get("length", 0))
            if length < 1 or spec.get("dimension") not in ("ROWS", "COLUMNS"):
                raise ApiError(400, f"{where}: length must be positive, dimension ROWS/COLUMNS")
            if spec["dimension"] == "ROWS":
                sheet.row_count += length
            else:
                sheet.col_count += length
            return {}
        raise ApiError(400, f"fake: unsupported request {sorted(req)}")

    # ------------------------------------------------------------------ A1 ranges

    def _parse(self, text: str) -> Span:
        m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^!']+))(?:!(.*))?", text)
        if not m:
            raise ApiError(400, f"Unable to parse range: {text}")
        title = (m.group(1) or "").replace("''", "'") or m.group(2)
        sheet = next((s for s in self.sheets if s.title == title), None)
        cells = m.group(3)
        if sheet is None and m.group(2) and cells is None and self.sheets:
            sheet, cells = self.sheets[0], title  # "A1:B2" alone: a range on the first tab
        if sheet is None:
            raise ApiError(400, f"Unable to parse range: {text}")
        if not cells:
            return Span(sheet, None, 0, 0, None, None, False)
        ends = []
        for end in cells.split(":"):
            cm = re.fullmatch(r"([A-Za-z]{0,3})(\d*)", end)
            if not end or not cm or cm.group(2).startswith("0") or len(ends) == 2:
                raise ApiError(400, f"Unable to parse range: {text}")
            col = _col_index(cm.group(1)) if cm.group(1) else None
            ends.append((int(cm.group(2)) - 1 if cm.group(2) else None, col))
        (r0, c0), (r1, c1) = ends[0], ends[-1]
        single = len(ends) == 1 and r0 is not None and c0 is not None
        if len(ends) == 2 and None not in (r0, r1):
            r0, r1 = min(r0, r1), max(r0, r1)
        if len(ends) == 2 and None not in (c0, c1):
            c0, c1 = min(c0, c1), max(c0, c1)
        return Span(sheet, cells, r0 or 0, c0 or 0, r1, c1, single)

    def _grid_error(self, span: Span) -> ApiError:
        title = "'" + span.sheet.title.replace("'", "''") + "'"
        where = f"{title}!{span.cells.upper()}" if span.cells else title
        return ApiError(
            400,
            f"Range ({where}) exceeds grid limits. Max rows: {span.sheet.row_count}, "
            f"max columns: {span.sheet.col_count}",
        )

    def _value_range(self, text: str, option: str) -> dict:
        span = self._parse(text)
        sheet = span.sheet
        if span.r0 >= sheet.row_count or span.c0 >= sheet.col_count:
            raise self._grid_error(span)
        r1 = span.r0 if span.single else span.r1
        c1 = span.c0 if span.single else span.c1
        r1 = sheet.row_count - 1 if r1 is None else min(r1, sheet.row_count - 1)
        c1 = sheet.col_count - 1 if c1 is None else min(c1, sheet.col_count - 1)
        out = []
        for row in sheet.rows[span.r0 : r1 + 1]:
            cells = [_render(v, option) for v in row[span.c0 : c1 + 1]]
            while cells and cells[-1] == "":
                cells.pop()
            out.append(cells)
        while out and not out[-1]:
            out.pop()
        result = {"range": a1(sheet, span.r0, span.c0, r1, c1), "majorDimension": "ROWS"}
        if out:
            result["values"] = out
        return result

    def _put(self, sheet: Sheet, r: int, c: int, value) -> None:
        while len(sheet.rows) <= r:
            sheet.rows.append([])
        row = sheet.rows[r]
        while len(row) <= c:
            row.append("")
        row[c] = value

    def _write(self, sheet: Sheet, r0: int, c0: int, values: list[list], option) -> dict:
        """Write ``values`` at (r0, c0) (checked already); the reply's update fields."""
        cells = 0
        for i, line in enumerate(values):
            for j, value in enumerate(line):
                if value is None:
                    continue  # JSON null: leave the cell as it is
                if option == "USER_ENTERED" and isinstance(value, str) and value.startswith("="):
                    value = Formula(value)
                self._put(sheet, r0 + i, c0 + j, value)
                cells += 1
        width = max((len(v) for v in values), default=1)
        r1, c1 = r0 + max(len(values), 1) - 1, c0 + width - 1
        return {
            "updatedRange": a1(sheet, r0, c0, r1, c1),
            "updatedRows": len(values),
            "updatedColumns": width if values else 0,
            "updatedCells": cells,
        }

    def _write_all(self, items: list[dict], option) -> list[dict]:
        """Check every range first, then write them all (a batch is all or nothing)."""
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: must be RAW or USER_ENTERED")
        checked = []
        for item in items:
            span, values = self._parse(item["range"]), item.get("values") or []
            if item.get("majorDimension", "ROWS") != "ROWS":
                raise ApiError(400, "fake: only majorDimension ROWS is supported")
            wanted = f"Requested writing within range [{item['range']}], but tried writing to"
            if not span.single and span.r1 is not None and len(values) > span.r1 - span.r0 + 1:
                raise ApiError(400, f"{wanted} row [{span.r1 + 2}]")
            width = max((len(v) for v in values), default=0)
            if not span.single and span.c1 is not None and width > span.c1 - span.c0 + 1:
                raise ApiError(400, f"{wanted} column [{_col_letters(span.c1 + 1)}]")
            last_row = max(span.r0 + len(values) - 1, span.r0 if span.r1 is None else span.r1)
            last_col = max(span.c0 + width - 1, span.c0 if span.c1 is None else span.c1)
            if last_row >= span.sheet.row_count or last_col >= span.sheet.col_count:
                raise self._grid_error(span)
            checked.append((span, values))
        return [self._write(s.sheet, s.r0, s.c0, values, option) for s, values in checked]

    def _batch_update(self, body: dict) -> dict:
        responses = self._write_all(body.get("data", []), body.get("valueInputOption"))
        for response in responses:
            response["spreadsheetId"] = self.spreadsheet_id
        return {
            "spreadsheetId": self.spreadsheet_id,
            "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
            "responses": responses,
        }

    def _append(self, text: str, query: dict, body: dict) -> dict:
        span = self._parse(text)
        sheet, option = span.sheet, (query.get("valueInputOption") or [None])[0]
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        insert = (query.get("insertDataOption") or ["OVERWRITE"])[0]
        if insert not in ("OVERWRITE", "INSERT_ROWS"):
            raise ApiError(400, f"Invalid value for insertDataOption: {insert}")
        # the search area: the range's columns (all from c0 for one cell), from its first row
        c_end = sheet.col_count - 1 if span.single or span.c1 is None else span.c1
        r_end = len(sheet.rows) - 1 if span.single or span.r1 is None else span.r1

        def filled(i: int) -> list[int]:
            row = sheet.rows[i] if i < len(sheet.rows) else []
            return [j for j in range(span.c0, min(c_end + 1, len(row))) if not _empty(row[j])]

        first = next((i for i in range(span.r0, r_end + 1) if filled(i)), None)
        table = None
        at_row, at_col = span.r0, span.c0
        if first is not None:
            last, cols = first, filled(first)
            while filled(last + 1):
                last += 1
                cols += filled(last)
            table = a1(sheet, first, min(cols), last, max(cols))
            at_row, at_col = last + 1, min(cols)
        values = body.get("values") or []
        width = max((len(v) for v in values), default=0)
        if insert == "INSERT_ROWS":
            if at_row < len(sheet.rows):
                sheet.rows[at_row:at_row] = [[] for _ in values]
            sheet.row_count += len(values)
        sheet.row_count = max(sheet.row_count, at_row + len(values))  # appending grows the grid
        sheet.col_count = max(sheet.col_count, at_col + width)
        updates = {"spreadsheetId": self.spreadsheet_id}
        updates |= self._write(sheet, at_row, at_col, values, option)
        reply = {"spreadsheetId": self.spreadsheet_id, "updates": updates}
        if table:
            reply["tableRange"] = table
        return reply


def _render(value, option: str):
    if isinstance(value, Formula):
        return value.text if option == "FORMULA" else ""
    if option != "FORMATTED_VALUE" or isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _error(status: int, message: str, reason: str) -> dict:
    return {"error": {"code": status, "message": message, "status": reason}}


class LocalSession(requests.Session):
    """Sends https://sheets.googleapis.com/... to the fake, without credentials."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url
        self.trust_env = False  # never through a proxy from the environment

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(GOOGLE):
            url = self.base_url + url[len(GOOGLE) :]
        return super().request(method, url, *args, **kwargs)
