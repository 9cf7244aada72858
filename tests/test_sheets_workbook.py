"""The Google Sheets workbook, through gspread and google-auth themselves, against a fake Sheets
v4 and a fake Google token endpoint on loopback: the service-account credentials path, batched
requests, RAW writes, no lost updates, retries, missing tabs and headers, and the same
read/append/update contract as the database workbook."""

from __future__ import annotations

import json

import pytest
from fake_google_token import ACCOUNT, rsa_key
from fake_sheets import FakeSheets, Formula

from bot.db.sqlite import SqliteDatabase
from bot.errors import NotConfigured
from bot.stores.db_workbook import DatabaseWorkbook
from bot.stores.sheets_http import SheetsError
from bot.stores.sheets_workbook import SheetsWorkbook
from bot.stores.workbook import TAB_COLUMNS, RowUpdate

BAD_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
HYPERLINK = '=HYPERLINK("https://example.com/x","click me")'


@pytest.fixture
def fake():
    with FakeSheets() as server:
        yield server


def open_workbook(fake: FakeSheets, **options) -> SheetsWorkbook:
    """As in production: from the settings, the key exchanged for a token at the fake."""
    options.setdefault("backoff_factor", 0.01)
    return SheetsWorkbook.from_env(fake.env(), **options)


@pytest.fixture
def sheets(fake) -> SheetsWorkbook:
    """A workbook on a fake spreadsheet whose four tabs have just been created."""
    fake.add_workbook_tabs()
    return open_workbook(fake)


# ---------------------------------------------------------------------- batched requests


def assignment(i: int) -> dict:
    return {"Order ID": f"AE{i:06d}", "Status": "ASSIGNED", "Assigned Agent": "a@example.com"}


@pytest.mark.parametrize("rows", [200, 2000])
def test_reads_appends_and_updates_make_a_constant_handful_of_requests(fake, sheets, rows):
    seen, before = len(fake.requests), sheets.requests
    sheets.append("Assignments", [assignment(i) for i in range(rows)])
    tabs = sheets.read_many(["Agents", "Assignments", "Escalations"])
    assert len(tabs["Assignments"]) == rows
    updates = [RowUpdate(f"AE{i:06d}", {"Status": "IN_PROGRESS"}) for i in range(0, rows, 2)]
    assert sheets.update("Assignments", updates) == []
    assert fake.kinds(seen) == ["append", "batchGet", "get", "batchUpdate"]
    assert sheets.requests - before == 4  # the counter sees every request
    body = fake.requests[-1].body
    assert body["valueInputOption"] == "RAW" and len(body["data"]) == rows // 2
    assert all(len(d["values"]) == 1 and len(d["values"][0]) == 13 for d in body["data"])
    assert fake.sheet("Assignments").row_count == 1000 + rows  # INSERT_ROWS grew the grid


def test_a_row_changed_before_the_update_is_kept_and_reported(fake, sheets):
    sheets.append("Assignments", [assignment(i) for i in range(10)])
    target = "AE000005"
    human_row = ["HUMAN0001", "P3", "", "added by hand"]

    def human_edits(record):  # right before the update's fresh re-read
        if record.kind == "get" and not edited:
            edited.append(True)
            fake.set_cell("Assignments", fake.find_row("Assignments", "Order ID", target), 11, "X")
            fake.insert_row("Assignments", 2, human_row)  # every row moves down by one

    edited: list[bool] = []
    fake.on_request = human_edits
    updates = [
        RowUpdate(f"AE{i:06d}", {"Status": "IN_PROGRESS"}, {"Status": "ASSIGNED"})
        for i in range(10)
    ]
    assert sheets.update("Assignments", updates) == [target]
    rows = {r["Order ID"]: r for r in sheets.read("Assignments")}
    assert rows[target]["Status"] == "X"  # not overwritten
    assert rows["HUMAN0001"]["Why"] == "added by hand" and rows["HUMAN0001"]["Status"] is None
    others = [r for oid, r in rows.items() if oid not in (target, "HUMAN0001")]
    assert len(others) == 9 and all(r["Status"] == "IN_PROGRESS" for r in others)


# ---------------------------------------------------------------------- writes are RAW


def test_text_starting_with_equals_stays_text(fake, sheets):
    sheets.append("Escalations", [{"Order ID": "AE123ABC45", "Reason": HYPERLINK}])
    sheets.append("Assignments", [{"Order ID": "AE123ABC45", "Status": "ASSIGNED"}])
    sheets.update("Assignments", [RowUpdate("AE123ABC45", {"Why": "=1+1"})])
    assert sheets.read("Escalations")[0]["Reason"] == HYPERLINK
    assert sheets.read("Assignments")[0]["Why"] == "=1+1"
    assert fake.cell("Escalations", 2, 3) == HYPERLINK  # stored as a string, not a formula
    for r in fake.requests:
        if r.kind == "append":
            assert r.query["valueInputOption"] == ["RAW"]
        if r.kind == "batchUpdate":
            assert r.body["valueInputOption"] == "RAW"
    # the fake does model USER_ENTERED, so the checks above would catch a non-RAW write
    params = {"valueInputOption": "USER_ENTERED"}
    sheets.spreadsheet.values_append("'Escalations'!A1", params, {"values": [["X", "", HYPERLINK]]})
    assert fake.cell("Escalations", 3, 3) == Formula(HYPERLINK)


def test_update_writes_only_changed_cells_and_follows_moved_columns(fake):
    header = ["email", "note", "active", "name", "Slack user ID", "role"]
    header += ["specializations", "capacity", "Timezone", "Working Hours"]
    fake.add_sheet("Agents", [header, ["a@example.com", "", "TRUE", "Ann", "U1", "field"]])
    for tab in ("Assignments", "Resolutions", "Escalations"):
        fake.add_sheet(tab, [list(TAB_COLUMNS[tab])])
    fake.set_cell("Agents", 2, 2, Formula("=NOW()"))  # a human's formula in their own column
    fake.set_cell("Agents", 2, 8, 12.0)  # a number typed by hand
    wb = open_workbook(fake)
    assert wb.read("Agents") == [
        {
            "email": "a@example.com",
            "name": "Ann",
            "Slack user ID": "U1",
            "role": "field",
            "specializations": None,
            "capacity": "12",
            "active": "TRUE",
            "Timezone": None,
            "Working Hours": None,
        }
    ]
    assert wb.update("Agents", [RowUpdate("a@example.com", {"active": False})]) == []
    assert fake.cell("Agents", 2, 2) == Formula("=NOW()")  # untouched cells are sent as null
    assert fake.cell("Agents", 2, 8) == 12.0
    assert fake.cell("Agents", 2, 3) == "FALSE"
    wb.append("Agents", [{"email": "b@example.com", "name": "Bo", "capacity": 3}])
    assert fake.sheet("Agents").rows[2] == ["b@example.com", "", "", "Bo", "", "", "", "3", "", ""]


# ---------------------------------------------------------------------- retries


def test_429_is_retried_and_succeeds(fake, sheets):
    before, seen = sheets.requests, len(fake.requests)
    fake.fail_next(2, 429)
    assert sheets.read("Agents") == []
    fake.fail_next(1, 429)
    sheets.append("Agents", [{"email": "a@example.com"}])
    assert fake.kinds(seen) == ["get", "get", "get", "append", "append"]
    assert sheets.requests - before == 2  # the counter counts calls, not retried attempts
    assert [r["email"] for r in sheets.read("Agents")] == ["a@example.com"]  # appended once


def test_retry_after_is_honoured_and_capped(fake, sheets, monkeypatch):
    import urllib3.util.retry

    slept: list[float] = []  # urllib3's own wait, recorded instead of slept
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", slept.append)
    fake.fail_next(1, 429, retry_after="7")
    assert sheets.read("Agents") == []
    fake.fail_next(1, 429, retry_after="3600")
    assert sheets.read("Agents") == []
    assert slept == [7.0, 60.0]  # Retry-After honoured, never more than the cap


def test_persistent_503_gives_up_after_the_bound(fake):
    fake.add_workbook_tabs()
    wb = open_workbook(fake, retries=2)
    seen = len(fake.requests)
    fake.fail_next(50, 503)
    with pytest.raises(SheetsError, match=r"HTTP 503 .*read tab 'Assignments'.*after 2 retries"):
        wb.read("Assignments")
    assert len(fake.requests) - seen == 3  # the first attempt and 2 retries


# ---------------------------------------------------------------------- tabs and headers


def test_a_missing_tab_fails_at_start_naming_it(fake):
    for tab in ("Agents", "Assignments", "Resolutions"):
        fake.add_sheet(tab, [list(TAB_COLUMNS[tab])])
    with pytest.raises(NotConfigured, match=r"'Escalations' is missing.*ecm-bot sheets init"):
        open_workbook(fake)


def test_a_missing_header_fails_at_start_naming_it(fake):
    for tab, columns in TAB_COLUMNS.items():
        fake.add_sheet(tab, [[c for c in columns if c != "Status"]])
    with pytest.raises(NotConfigured, match=r"'Assignments' has no header 'Status'.*sheets init"):
        open_workbook(fake)


def test_an_unknown_spreadsheet_id_fails_at_start(fake):
    with pytest.raises(NotConfigured, match=r"'nope' \(ECM_SPREADSHEET_ID\) was not found"):
        SheetsWorkbook.from_client(fake.client(), "nope")


def test_init_tabs_creates_missing_tabs_and_headers(fake):
    fake.add_sheet("Agents", [list(TAB_COLUMNS["Agents"]), ["a@example.com"]])
    fake.add_sheet("Assignments", [list(TAB_COLUMNS["Assignments"][:-1])])
    wb = open_workbook(fake, check=False)
    created = wb.init_tabs()
    assert created == [
        "tab 'Resolutions' with headers " + ", ".join(TAB_COLUMNS["Resolutions"]),
        "tab 'Escalations' with headers " + ", ".join(TAB_COLUMNS["Escalations"]),
        "headers Triage Run on tab 'Assignments'",
    ]
    assert fake.sheet("Escalations").rows == [list(TAB_COLUMNS["Escalations"])]
    assert fake.sheet("Assignments").rows[0] == list(TAB_COLUMNS["Assignments"])
    assert fake.sheet("Agents").rows[1] == ["a@example.com"]  # existing rows untouched
    wb.check_headers()
    assert wb.init_tabs() == []
    open_workbook(fake)  # starts cleanly now


# ---------------------------------------------------------------------- configuration


def test_from_env_is_none_without_both_settings():
    assert SheetsWorkbook.from_env({}) is None
    assert SheetsWorkbook.from_env({"ECM_SPREADSHEET_ID": "abc"}) is None
    assert SheetsWorkbook.from_env({"GOOGLE_SHEETS_CREDENTIALS": "{}"}) is None


@pytest.mark.parametrize(
    "credentials, message",
    [
        ('{"type": "service_account", "client_email": ', "not valid JSON"),
        ("/nonexistent/key.json", "no file at '/nonexistent/key.json'"),
        ('{"type": "authorized_user"}', "not a service-account key"),
        ('{"type": "service_account", "client_email": "x@y"}', "lacks private_key, token_uri"),
        (
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": "bot@project.iam.gserviceaccount.com",
                    "private_key": BAD_KEY,
                    "token_uri": "https://oauth2.googleapis.com/token",
                }
            ),
            "not a usable service-account key",
        ),
    ],
)
def test_malformed_credentials_give_a_clear_error(credentials, message):
    env = {"GOOGLE_SHEETS_CREDENTIALS": credentials, "ECM_SPREADSHEET_ID": "abc"}
    with pytest.raises(NotConfigured, match="GOOGLE_SHEETS_CREDENTIALS") as caught:
        SheetsWorkbook.from_env(env)
    assert message in str(caught.value)
    assert "not a key" not in str(caught.value)  # never echoes the key
    error = caught.value  # one clear line: no chained exception to print as a traceback
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_credentials_may_be_a_path(tmp_path):
    path = tmp_path / "key.json"
    path.write_text("{oops")
    env = {"GOOGLE_SHEETS_CREDENTIALS": str(path), "ECM_SPREADSHEET_ID": "abc"}
    with pytest.raises(NotConfigured, match=r"the file .*key\.json' is not valid JSON"):
        SheetsWorkbook.from_env(env)


# ---------------------------------------------------------------------- credentials


def with_tabs(fake: FakeSheets) -> FakeSheets:
    fake.add_workbook_tabs()
    return fake


@pytest.mark.parametrize("as_path", [False, True], ids=["json-content", "path"])
def test_the_key_is_exchanged_for_a_bearer_token_sent_on_every_request(fake, tmp_path, as_path):
    with_tabs(fake)
    key = json.dumps(fake.service_account_info())
    if as_path:
        (tmp_path / "key.json").write_text(key)
        key = str(tmp_path / "key.json")
    wb = SheetsWorkbook.from_env(fake.env(key))
    wb.append("Agents", [{"email": "a@example.com"}])
    assert [r["email"] for r in wb.read("Agents")] == ["a@example.com"]
    [grant] = fake.tokens.grants  # one exchange, then the token is reused
    assert grant.token and grant.account == ACCOUNT
    assert grant.scope == "https://www.googleapis.com/auth/spreadsheets"
    assert fake.requests and all(r.account == ACCOUNT for r in fake.requests)


def test_an_expired_token_is_refreshed_without_the_caller_noticing(fake):
    wb = open_workbook(with_tabs(fake))
    fake.tokens.revoke_all()
    seen, before = len(fake.requests), wb.requests
    assert wb.read("Agents") == []
    assert len(fake.tokens.grants) == 2
    assert fake.kinds(seen) == ["get", "get"]  # 401, then the same request with a new token
    assert wb.requests - before == 1


def test_a_request_without_a_bearer_token_is_refused_clearly(fake):
    with_tabs(fake)
    with pytest.raises(SheetsError, match=r"HTTP 401 .*missing required authentication") as e:
        SheetsWorkbook.from_client(fake.anonymous_client(), fake.spreadsheet_id)
    assert "GOOGLE_SHEETS_CREDENTIALS" in str(e.value)


def test_a_key_google_does_not_know_is_refused_before_any_sheets_request(fake):
    with_tabs(fake)
    fake.service_account_info()  # registers the account with its real key
    forged = fake.service_account_info(key=rsa_key("stranger"), register=False)
    with pytest.raises(SheetsError, match=r"refused to issue an access token.*Invalid JWT Sig"):
        SheetsWorkbook.from_env(fake.env(json.dumps(forged)))
    assert fake.requests == [] and fake.tokens.grants[-1].error == "invalid_grant"


def test_a_sheet_not_shared_with_the_service_account_says_to_share_it(fake):
    fake.editors = {"someone-else@example.com"}
    with pytest.raises(NotConfigured, match=r"Share the sheet \(as Editor\)"):
        open_workbook(with_tabs(fake))


def test_a_malformed_sheets_api_url_is_one_clear_line(fake):
    env = fake.env() | {"ECM_SHEETS_API_URL": "sheets.example.com/v4"}
    with pytest.raises(NotConfigured, match=r"ECM_SHEETS_API_URL must be a base URL"):
        SheetsWorkbook.from_env(env)


# ---------------------------------------------------------------------- one contract, two stores


def exercise(wb) -> list:
    """The same read/append/update script; returns everything the workbook answered."""
    out: list = [wb.read("Assignments")]
    wb.append(
        "Assignments",
        [
            {"Order ID": "AE001", "Status": "ASSIGNED", "Assigned Agent": "a@x", "Score": 87.5},
            {"Order ID": "AE002", "Status": "ASSIGNED", "Why": HYPERLINK, "Amount": 1200.0},
            {"Order ID": "AE003", "Status": "IN_PROGRESS", "Hours Stuck at triage": 3},
        ],
    )
    wb.append("Assignments", [])
    out.append(wb.read("Assignments"))
    out.append(
        wb.update(
            "Assignments",
            [
                RowUpdate(
                    "AE001", {"Status": "CLOSED", "Updated At": "t1"}, {"Status": "ASSIGNED"}
                ),
                RowUpdate("AE002", {"Status": "CLOSED"}, {"Status": "IN_PROGRESS"}),  # stale
                RowUpdate("ZZ999", {"Status": "CLOSED"}),  # no such row
                RowUpdate("AE003", {"Assigned Agent": "c@x"}, {"Assigned Agent": None}),
                RowUpdate("AE003", {"Status": "ASSIGNED"}, {"Assigned Agent": "c@x"}),
                RowUpdate("AE001", {"Score": None, "Priority": "P2"}),
            ],
        )
    )
    out.append(wb.update("Assignments", []))
    out.append(wb.read("Assignments"))
    for bad in (
        lambda: wb.read("Nope"),
        lambda: wb.append("Assignments", [{"Order ID": "X", "Bogus": 1}]),
        lambda: wb.update("Assignments", [RowUpdate("AE001", {"Status": "X", "Bogus": 1})]),
        lambda: wb.update("Assignments", [RowUpdate("AE001", {}, {"Bogus": 1})]),
    ):
        with pytest.raises(KeyError):
            bad()
    wb.append("Agents", [{"email": "z@example.com", "capacity": 5, "active": True}])
    out.append(wb.read("Agents"))
    out.append(wb.read("Assignments"))
    return out


def test_database_and_sheets_workbooks_answer_the_same(tmp_path, sheets):
    embedded = exercise(DatabaseWorkbook(SqliteDatabase(tmp_path / "ecm.db")))
    assert exercise(sheets) == embedded
    before, conflicts, after = embedded[1], embedded[2], embedded[4]
    assert [r["Score"] for r in before] == ["87.5", None, None]
    assert before[1]["Amount"] == "1200" and before[1]["Why"] == HYPERLINK
    assert before[2]["Hours Stuck at triage"] == "3"
    assert conflicts == ["AE002", "ZZ999"]
    assert [(r["Status"], r["Assigned Agent"]) for r in after] == [
        ("CLOSED", "a@x"),
        ("ASSIGNED", None),
        ("ASSIGNED", "c@x"),
    ]
    assert after[0]["Score"] is None and after[0]["Priority"] == "P2"
    assert embedded[5][0]["capacity"] == "5" and embedded[5][0]["active"] == "TRUE"
    assert embedded[6] == after  # refused writes changed nothing
