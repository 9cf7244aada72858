"""A fake Google Sheets API v4 on 127.0.0.1, just the endpoints gspread calls for the workbook.

Endpoints: spreadsheet metadata GET, values GET, values:batchGet, values:batchUpdate,
values:append and the spreadsheet batchUpdate (addSheet only). Every request is recorded
(method, path, query, body); ``fail_next(n, status)`` answers the next n requests with an error
(429 with Retry-After: 0, or a 5xx). ``on_request`` is called (under the lock) before a request
is served, so a test can play a human editing the sheet between two requests.

Cells hold JSON values like the real API: RAW keeps strings as strings; USER_ENTERED turns a
string starting with "=" into a ``Formula`` (read back as "" formatted, or as its text with
valueRenderOption=FORMULA). JSON null in a written range leaves that cell as it was.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import gspread
import requests

GOOGLE = "https://sheets.googleapis.com"


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


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: object

    @property
    def kind(self) -> str:
        """metadata | get | batchGet | batchUpdate | append | structure"""
        if self.path.endswith(":append"):
            return "append"
        if self.path.endswith("/values:batchGet"):
            return "batchGet"
        if self.path.endswith("/values:batchUpdate"):
            return "batchUpdate"
        if self.path.endswith(":batchUpdate"):
            return "structure"
        if "/values/" in self.path:
            return "get"
        return "metadata"


class ApiError(Exception):
    def __init__(self, status: int, message: str, reason: str = "INVALID_ARGUMENT"):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


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


class FakeSheets:
    """One in-memory spreadsheet behind a local HTTP server (use as a context manager)."""

    def __init__(self, spreadsheet_id: str = "sheet-123", title: str = "ECM"):
        self.spreadsheet_id = spreadsheet_id
        self.title = title
        self.sheets: list[Sheet] = []
        self.requests: list[Recorded] = []
        self.on_request: Callable[[Recorded], None] | None = None
        self._fail: list[tuple[int, str | None]] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSheets:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()  # answer at once: no Nagle delay between headers and body
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):  # quiet
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, payload, headers = fake.handle(method, self.path, raw)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_PUT(self):
                self._serve("PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSheets:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def session(self) -> requests.Session:
        """A requests session that sends Google's Sheets URLs to this fake."""
        return LocalSession(self.base_url)

    def client(self) -> gspread.Client:
        return gspread.Client(auth=None, session=self.session())

    # ------------------------------------------------------------------ test helpers

    def add_sheet(self, title: str, rows: list[list] | None = None) -> Sheet:
        with self._lock:
            sheet = Sheet(max((s.sheet_id for s in self.sheets), default=0) + 1, title)
            sheet.rows = [list(r) for r in rows or []]
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
            self._put(self.sheet(title), row - 1, col - 1, value)

    def find_row(self, title: str, column: str, value: str) -> int:
        """1-based row number of the first row whose ``column`` (a header) equals value."""
        rows = self.sheet(title).rows
        col = rows[0].index(column)
        return next(i + 1 for i, r in enumerate(rows) if col < len(r) and r[col] == value)

    def insert_row(self, title: str, index: int, values: list) -> None:
        """Insert a row before 1-based row ``index`` (like a human does)."""
        with self._lock:
            self.sheet(title).rows.insert(index - 1, list(values))

    def fail_next(self, n: int, status: int = 429, retry_after: str | None = "0") -> None:
        """Answer the next ``n`` requests with ``status`` (429 carries Retry-After)."""
        with self._lock:
            self._fail = [(status, retry_after if status == 429 else None)] * n

    def kinds(self, since: int = 0) -> list[str]:
        return [r.kind for r in self.requests[since:]]

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, raw_path: str, raw_body: bytes) -> tuple[int, dict, dict]:
        parts = urlsplit(raw_path)
        body = json.loads(raw_body) if raw_body else None
        record = Recorded(method, parts.path, parse_qs(parts.query), body)
        with self._lock:
            self.requests.append(record)
            if self._fail:
                status, retry_after = self._fail.pop(0)
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                reason = "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE"
                return status, _error(status, "fake failure", reason), headers
            if self.on_request:
                self.on_request(record)
            try:
                return 200, self._route(method, parts.path, record.query, body), {}
            except ApiError as exc:
                return exc.status, _error(exc.status, exc.message, exc.reason), {}

    def _route(self, method: str, path: str, query: dict, body) -> dict:
        prefix = f"/v4/spreadsheets/{self.spreadsheet_id}"
        if not path.startswith(prefix):
            raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
        rest = path[len(prefix) :]
        option = (query.get("valueRenderOption") or ["FORMATTED_VALUE"])[0]
        if method == "GET" and rest == "":
            return self._metadata()
        if method == "POST" and rest == ":batchUpdate":
            return self._structure(body)
        if method == "GET" and rest == "/values:batchGet":
            ranges = [self._value_range(r, option) for r in query.get("ranges", [])]
            return {"spreadsheetId": self.spreadsheet_id, "valueRanges": ranges}
        if method == "POST" and rest == "/values:batchUpdate":
            return self._batch_update(body)
        if method == "POST" and rest.startswith("/values/") and rest.endswith(":append"):
            return self._append(unquote(rest[len("/values/") : -len(":append")]), query, body)
        if method == "GET" and rest.startswith("/values/"):
            return self._value_range(unquote(rest[len("/values/") :]), option)
        raise ApiError(404, f"fake: no endpoint {method} {path}", "NOT_FOUND")

    def _metadata(self) -> dict:
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {"title": self.title, "locale": "en_US", "timeZone": "Etc/GMT"},
            "sheets": [
                {
                    "properties": {
                        "sheetId": s.sheet_id,
                        "title": s.title,
                        "index": i,
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": s.row_count, "columnCount": s.col_count},
                    }
                }
                for i, s in enumerate(self.sheets)
            ],
        }

    def _structure(self, body: dict) -> dict:
        replies = []
        for req in body.get("requests", []):
            if "addSheet" not in req:
                raise ApiError(400, f"fake: unsupported request {sorted(req)}")
            props = req["addSheet"].get("properties", {})
            title = props.get("title")
            if any(s.title == title for s in self.sheets):
                raise ApiError(400, f'A sheet with the name "{title}" already exists.')
            sheet = self.add_sheet(title)
            grid = props.get("gridProperties", {})
            sheet.row_count = grid.get("rowCount", 1000)
            sheet.col_count = grid.get("columnCount", 26)
            replies.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet.sheet_id,
                            "title": sheet.title,
                            "index": len(self.sheets) - 1,
                            "sheetType": "GRID",
                            "gridProperties": {
                                "rowCount": sheet.row_count,
                                "columnCount": sheet.col_count,
                            },
                        }
                    }
                }
            )
        return {"spreadsheetId": self.spreadsheet_id, "replies": replies}

    # ------------------------------------------------------------------ A1 ranges

    def _parse(
        self, a1: str, write: bool = False
    ) -> tuple[Sheet, tuple[int, int, int | None, int | None]]:
        """(sheet, (row0, col0, row1, col1)) 0-based, end inclusive, None for open ends.
        A single cell is that cell to read, and the top-left corner of a write."""
        m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^!']+))(?:!(.*))?", a1)
        if not m:
            raise ApiError(400, f"Unable to parse range: {a1}")
        title = (m.group(1) or "").replace("''", "'") or m.group(2)
        sheet = next((s for s in self.sheets if s.title == title), None)
        if sheet is None:
            raise ApiError(400, f"Unable to parse range: {a1}")
        cells = m.group(3)
        if not cells:
            return sheet, (0, 0, None, None)
        ends = cells.split(":")
        parsed = []
        for end in ends:
            cm = re.fullmatch(r"([A-Za-z]*)(\d*)", end)
            if not cm or not end:
                raise ApiError(400, f"Unable to parse range: {a1}")
            col = _col_index(cm.group(1)) if cm.group(1) else None
            row = int(cm.group(2)) - 1 if cm.group(2) else None
            parsed.append((row, col))
        (r0, c0), (r1, c1) = parsed[0], parsed[-1]
        if len(ends) == 1:
            r1, c1 = (None, None) if write and r0 is not None and c0 is not None else (r0, c0)
        return sheet, (r0 or 0, c0 or 0, r1, c1)

    def _value_range(self, a1: str, option: str) -> dict:
        sheet, (r0, c0, r1, c1) = self._parse(a1)
        rows = sheet.rows[r0 : None if r1 is None else r1 + 1]
        out = []
        for row in rows:
            cells = [_render(v, option) for v in row[c0 : None if c1 is None else c1 + 1]]
            while cells and cells[-1] == "":
                cells.pop()
            out.append(cells)
        while out and not out[-1]:
            out.pop()
        result = {"range": a1, "majorDimension": "ROWS"}
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

    def _write(self, sheet: Sheet, r0: int, c0: int, values: list[list], option: str) -> int:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption")
        cells = 0
        for i, line in enumerate(values):
            for j, value in enumerate(line):
                if value is None:
                    continue  # JSON null: leave the cell as it is
                if option == "USER_ENTERED" and isinstance(value, str) and value.startswith("="):
                    value = Formula(value)
                self._put(sheet, r0 + i, c0 + j, value)
                cells += 1
        return cells

    def _batch_update(self, body: dict) -> dict:
        option = body.get("valueInputOption")
        responses = []
        for item in body.get("data", []):
            sheet, (r0, c0, r1, c1) = self._parse(item["range"], write=True)
            values = item.get("values", [])
            if r1 is not None and len(values) > r1 - r0 + 1:
                raise ApiError(400, f"fake: too many rows for range {item['range']}")
            if c1 is not None and any(len(v) > c1 - c0 + 1 for v in values):
                raise ApiError(400, f"fake: too many columns for range {item['range']}")
            cells = self._write(sheet, r0, c0, values, option)
            responses.append({"updatedRange": item["range"], "updatedCells": cells})
        return {"spreadsheetId": self.spreadsheet_id, "responses": responses}

    def _append(self, a1: str, query: dict, body: dict) -> dict:
        sheet, (_, c0, _, _) = self._parse(a1)
        option = (query.get("valueInputOption") or [None])[0]
        last = max(
            (i for i, r in enumerate(sheet.rows) if any(v not in ("", None) for v in r)),
            default=-1,
        )
        start = last + 1
        values = body.get("values", [])
        if (query.get("insertDataOption") or ["OVERWRITE"])[0] == "INSERT_ROWS":
            sheet.rows[start:start] = [[] for _ in values]
        cells = self._write(sheet, start, c0, values, option)
        width = max((len(v) for v in values), default=1)
        updated = (
            f"'{sheet.title}'!{_col_letters(c0)}{start + 1}:"
            f"{_col_letters(c0 + width - 1)}{start + len(values)}"
        )
        return {
            "spreadsheetId": self.spreadsheet_id,
            "tableRange": f"'{sheet.title}'!A1:{_col_letters(width - 1)}{max(last + 1, 1)}",
            "updates": {
                "spreadsheetId": self.spreadsheet_id,
                "updatedRange": updated,
                "updatedRows": len(values),
                "updatedCells": cells,
            },
        }


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
    """Sends https://sheets.googleapis.com/... to the fake (the seam gspread supports)."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url
        self.trust_env = False  # never through a proxy from the environment

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(GOOGLE):
            url = self.base_url + url[len(GOOGLE) :]
        return super().request(method, url, *args, **kwargs)
