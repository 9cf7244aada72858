"""The grid API for the background sync (``SheetsGrid``), through gspread and google-auth, and
the fidelity of the fake Sheets v4 it is tested against: grid limits, append's table
detection, normalised ranges, the per-minute read quota, and bearer tokens."""

from __future__ import annotations

import json

import pytest
from fake_sheets import FakeSheets, Formula
from gspread.exceptions import APIError

from bot.errors import NotConfigured
from bot.stores.sheets_grid import Grid, RowWrite, SheetsGrid
from bot.stores.sheets_http import SheetsError
from bot.stores.workbook import TAB_COLUMNS

AGENTS = list(TAB_COLUMNS["Agents"])
ASSIGNMENTS = list(TAB_COLUMNS["Assignments"])


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    with FakeSheets(clock=clock) as server:
        yield server


def with_tabs(fake: FakeSheets, **rows: list[list]) -> FakeSheets:
    for tab, columns in TAB_COLUMNS.items():
        fake.add_sheet(tab, [list(columns)] + rows.get(tab, []))
    return fake


def open_grid(fake: FakeSheets, **options) -> SheetsGrid:
    options.setdefault("backoff_factor", 0.01)
    return SheetsGrid.from_env(fake.env(), **options)


def spreadsheet(fake: FakeSheets):
    return fake.client().open_by_key(fake.spreadsheet_id)


# ---------------------------------------------------------------------- read_grids


def test_read_grids_reads_every_tab_in_one_request(fake):
    with_tabs(fake, Agents=[["a@example.com", "Ann"], [], ["c@example.com", "", "U3"]])
    grid = open_grid(fake)
    seen = len(fake.requests)
    grids = grid.read_grids(list(TAB_COLUMNS))
    assert fake.kinds(seen) == ["batchGet"] and grid.reads == 1 and grid.writes == 0
    agents = grids["Agents"]
    assert agents.header == AGENTS
    assert agents.rows == [  # padded to the header; an empty row keeps its place
        ["a@example.com", "Ann"] + [""] * (len(AGENTS) - 2),
        [""] * len(AGENTS),
        ["c@example.com", "", "U3"] + [""] * (len(AGENTS) - 3),
    ]
    assert Grid.sheet_row(2) == 4 and agents.record(2)["Slack user ID"] == "U3"
    assert (agents.row_count, agents.column_count) == (1000, 26)  # learned from the reply
    assert grids["Escalations"].rows == []


def test_read_grids_names_a_missing_tab_or_header(fake):
    fake.add_sheet("Agents", [AGENTS])
    fake.add_sheet("Assignments", [[c for c in ASSIGNMENTS if c != "Status"]])
    grid = open_grid(fake)
    with pytest.raises(NotConfigured, match=r"'Nope'.*ecm-bot sheets init"):
        grid.read_grids(["Agents", "Nope"])
    with pytest.raises(NotConfigured, match=r"'Assignments' has no header 'Status'.*sheets init"):
        grid.read_grids(["Assignments"])


# ---------------------------------------------------------------------- write_rows


def test_write_rows_is_one_raw_batch_update_leaving_other_cells_alone(fake):
    with_tabs(fake, Agents=[["a@example.com", "Ann", "U1", "field", "kyc", "3", "TRUE"]])
    fake.set_cell("Agents", 2, 5, Formula("=NOW()"))  # a human's formula between written cells
    grid = open_grid(fake)
    grid.read_grids(["Agents", "Escalations"])
    seen = len(fake.requests)
    grid.write_rows(
        [
            RowWrite("Agents", 2, {"name": "=1+1", "capacity": "4", "role": None}),
            RowWrite("Escalations", 3, {"Order ID": "AE1", "Reason": ""}),
            RowWrite("Agents", 2, {"active": "FALSE"}),  # same row: merged into one range
        ]
    )
    assert fake.kinds(seen) == ["batchUpdate"] and grid.writes == 1
    body = fake.requests[-1].body
    assert body["valueInputOption"] == "RAW"
    assert body["data"] == [
        {"range": "'Agents'!B2:G2", "values": [["=1+1", None, "", None, "4", "FALSE"]]},
        {"range": "'Escalations'!A3:C3", "values": [["AE1", None, ""]]},
    ]
    assert fake.sheet("Agents").rows[1] == [
        "a@example.com",
        "=1+1",  # stored as text, not a formula
        "U1",
        "",  # None cleared it
        Formula("=NOW()"),  # sent as null: untouched
        "4",
        "FALSE",
    ]
    assert grid.read_grids(["Agents"])["Agents"].rows[0][1] == "=1+1"


def test_columns_are_found_by_header_after_humans_reorder_them(fake):
    header = ["note", "capacity", "email", "active", "name", "Slack user ID", "role"]
    header += ["specializations", "Timezone", "Working Hours"]
    fake.add_sheet("Agents", [header, ["hi", "2", "a@example.com"]])
    grid = open_grid(fake)
    grid.read_grids(["Agents"])
    grid.write_rows([RowWrite("Agents", 2, {"name": "Ann", "capacity": "5"})])
    assert fake.requests[-1].body["data"] == [
        {"range": "'Agents'!B2:E2", "values": [["5", None, None, "Ann"]]}
    ]
    assert fake.sheet("Agents").rows[1] == ["hi", "5", "a@example.com", "", "Ann"]


def test_writing_past_the_grid_grows_the_tab_once_with_headroom(fake):
    data = [[f"AE{i:06d}", "P3"] for i in range(999)]  # rows 2..1000: the grid is full
    with_tabs(fake, Assignments=data)
    grid = open_grid(fake, headroom=200)
    grid.read_grids(["Assignments"])
    seen = len(fake.requests)
    grid.write_rows([RowWrite("Assignments", 1000 + i, {"Order ID": f"N{i}"}) for i in (1, 5)])
    assert fake.kinds(seen) == ["metadata", "structure", "batchUpdate"]
    assert fake.requests[-2].body == {
        "requests": [{"appendDimension": {"sheetId": 2, "dimension": "ROWS", "length": 205}}]
    }
    assert fake.sheet("Assignments").row_count == 1205
    assert fake.cell("Assignments", 1005, 1) == "N5"
    seen = len(fake.requests)
    grid.write_rows([RowWrite("Assignments", 1100, {"Order ID": "N100"})])  # inside the headroom
    assert fake.kinds(seen) == ["batchUpdate"]
    assert (grid.reads, grid.writes) == (2, 3)


def test_a_write_batch_refused_by_a_429_storm_writes_nothing(fake):
    with_tabs(fake, Agents=[["a@example.com", "Ann"]])
    grid = open_grid(fake, retries=2)
    grid.read_grids(["Agents"])
    seen = len(fake.requests)
    fake.fail_next(50, 429)
    with pytest.raises(SheetsError, match=r"HTTP 429 .*write 2 rows.*after 2 retries"):
        grid.write_rows(
            [RowWrite("Agents", 2, {"name": "Bo"}), RowWrite("Agents", 3, {"name": "Cy"})]
        )
    assert fake.kinds(seen) == ["batchUpdate"] * 3  # the first attempt and 2 retries
    assert fake.sheet("Agents").rows == [AGENTS, ["a@example.com", "Ann"]]


def test_a_write_retried_after_503_is_applied_once(fake):
    with_tabs(fake)
    grid = open_grid(fake)
    grid.read_grids(["Agents"])
    fake.fail_next(2, 503)
    grid.write_rows([RowWrite("Agents", 2, {"email": "a@example.com"})])
    assert fake.cell("Agents", 2, 1) == "a@example.com" and grid.writes == 1


def test_bad_writes_are_refused_before_any_request(fake):
    with_tabs(fake)
    grid = open_grid(fake)
    grid.read_grids(["Agents"])
    seen = len(fake.requests)
    with pytest.raises(KeyError, match="'Agents' has no header 'Bogus'"):
        grid.write_rows([RowWrite("Agents", 2, {"Bogus": "x"})])
    with pytest.raises(KeyError, match="'Assignments' was not read"):
        grid.write_rows([RowWrite("Assignments", 2, {"Order ID": "x"})])
    with pytest.raises(ValueError, match="row 1 is the header"):
        grid.write_rows([RowWrite("Agents", 1, {"email": "x"})])
    grid.write_rows([])
    assert len(fake.requests) == seen


# ---------------------------------------------------------------------- credentials


def test_the_grid_sends_the_service_accounts_token(fake):
    with_tabs(fake)
    open_grid(fake).read_grids(["Agents"])
    assert [g.account for g in fake.tokens.grants] == ["ecm-bot@ecm-test.iam.gserviceaccount.com"]
    assert all(r.account == fake.tokens.grants[0].account for r in fake.requests)


def test_without_a_bearer_token_the_grid_fails_clearly(fake):
    with_tabs(fake)
    with pytest.raises(SheetsError, match=r"HTTP 401 .*did not accept the credentials"):
        SheetsGrid.from_client(fake.anonymous_client(), fake.spreadsheet_id)


def test_an_unreachable_token_endpoint_fails_clearly(fake):
    info = fake.service_account_info() | {"token_uri": "http://127.0.0.1:9/token"}
    with pytest.raises(SheetsError, match=r"Could not reach Google's token endpoint"):
        SheetsGrid.from_env(fake.env(json.dumps(info)))


# ---------------------------------------------------------------------- the fake is faithful


def test_a_values_write_past_the_grid_is_a_400_like_googles(fake):
    fake.add_sheet("Assignments", [ASSIGNMENTS])
    sheet = spreadsheet(fake)
    body = {
        "valueInputOption": "RAW",
        "data": [
            {"range": "'Assignments'!A2", "values": [["ok"]]},
            {"range": "'Assignments'!A1002", "values": [["too far"]]},
        ],
    }
    with pytest.raises(APIError) as caught:
        sheet.values_batch_update(body)
    assert caught.value.code == 400 and caught.value.error["status"] == "INVALID_ARGUMENT"
    assert caught.value.error["message"] == (
        "Range ('Assignments'!A1002) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    assert fake.cell("Assignments", 2, 1) is None  # the batch is all or nothing
    with pytest.raises(APIError, match="exceeds grid limits"):
        sheet.values_update("'Assignments'!AA1", {"valueInputOption": "RAW"}, {"values": [["x"]]})
    sheet_id = fake.sheet("Assignments").sheet_id
    grow = {"appendDimension": {"sheetId": sheet_id, "dimension": "ROWS", "length": 2}}
    sheet.batch_update({"requests": [grow]})
    sheet.values_batch_update(body)
    assert fake.cell("Assignments", 1002, 1) == "too far"


def test_append_writes_after_the_table_from_its_first_column(fake):
    rows = [[], [], ["", "b3", "c3"], ["", "b4", "", "d4"], ["", "b5"], [], [], ["", "b8"]]
    fake.add_sheet("T", rows)
    sheet = spreadsheet(fake)
    reply = sheet.values_append("T!A1", {"valueInputOption": "RAW"}, {"values": [["x", "y"]]})
    assert reply["tableRange"] == "T!B3:D5"
    assert reply["updates"]["updatedRange"] == "T!B6:C6"
    assert fake.sheet("T").rows[5] == ["", "x", "y"]
    params = {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}
    reply = sheet.values_append("T", params, {"values": [["z"]]})
    assert reply["tableRange"] == "T!B3:D6" and reply["updates"]["updatedRange"] == "T!B7"
    assert fake.cell("T", 9, 2) == "b8" and fake.sheet("T").row_count == 1001  # rows inserted
    full = fake.add_sheet("Full", [["h"], ["1"], ["2"]], row_count=3)
    sheet.values_append("Full!A1", {"valueInputOption": "RAW"}, {"values": [["3"], ["4"]]})
    assert full.row_count == 5 and full.rows[-1] == ["4"]  # appending grows the grid


def test_replies_carry_normalised_ranges(fake):
    fake.add_sheet("Agents", [AGENTS])
    fake.add_sheet("My Tab", [["x"]])
    sheet = spreadsheet(fake)
    cases = {
        "'Agents'": "Agents!A1:Z1000",
        "Agents!A1:M5": "Agents!A1:M5",
        "'Agents'!b2": "Agents!B2",
        "'Agents'!A1:AZ5000": "Agents!A1:Z1000",
        "'Agents'!1:1": "Agents!A1:Z1",
        "'My Tab'": "'My Tab'!A1:Z1000",
    }
    for asked, answered in cases.items():
        assert sheet.values_get(asked)["range"] == answered
    ranges = sheet.values_batch_get(list(cases))["valueRanges"]
    assert [r["range"] for r in ranges] == list(cases.values())


def test_more_than_60_reads_a_minute_get_429_until_the_minute_passes(fake, clock):
    with_tabs(fake)
    grid = open_grid(fake, retries=1)  # opening reads the metadata once
    for _ in range(59):
        grid.read_grids(["Agents"])
    seen = len(fake.requests)
    with pytest.raises(SheetsError, match=r"HTTP 429 .*Read requests per minute per user"):
        grid.read_grids(["Agents"])
    assert fake.kinds(seen) == ["batchGet", "batchGet"]  # the request and its one retry
    grid.write_rows([RowWrite("Agents", 2, {"email": "a@example.com"})])  # writes: own quota
    clock.now += 60
    assert grid.read_grids(["Agents"])["Agents"].rows[0][0] == "a@example.com"


def test_the_fake_refuses_requests_without_a_valid_token(fake):
    fake.add_sheet("Agents", [AGENTS])
    session = fake.session()
    url = f"{fake.base_url}/v4/spreadsheets/{fake.spreadsheet_id}/values/Agents"
    for headers in ({}, {"Authorization": "Bearer ya29.made-up"}):
        answer = session.get(url, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
    token = session.post(
        fake.tokens.url,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x.y.z"},
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
