"""Google Sheets as a two-way view of the system of record: the sync pushes the bot's changes
and pulls people's edits through the same rules, against the faithful fake Sheets API (real
gspread and google-auth, token exchange included)."""

from __future__ import annotations

import pytest
import spawn
from conftest import MANAGER, SARAH
from fake_sheets import FakeSheets

from bot.stores.sheets_grid import SheetsGrid
from bot.stores.workbook import TAB_COLUMNS
from bot.sync.sheets_sync import LEASE, SheetSync, pending_changes, sync_status

JAMES = "james.ops@example.com"


@pytest.fixture
def fake():
    with FakeSheets() as server:
        server.add_workbook_tabs()
        yield server


@pytest.fixture
def synced(triaged, fake):
    """The triaged demo data, synced once to the sheet; ``told`` collects manager notices."""
    told: list[str] = []
    grid = SheetsGrid.from_env(fake.env(), backoff_factor=0.01, retries=2)
    sync = SheetSync(triaged.stores, grid, notify=told.append)
    first = sync.run_once()
    assert first.skipped is None, first.skipped
    return triaged, fake, sync, told


def col(tab: str, header: str) -> int:
    return TAB_COLUMNS[tab].index(header) + 1


def sheet_value(fake: FakeSheets, tab: str, key: str, header: str) -> object:
    key_header = "email" if tab == "Agents" else "Order ID"
    return fake.cell(tab, fake.find_row(tab, key_header, key), col(tab, header))


def edit(fake: FakeSheets, tab: str, key: str, header: str, value: str) -> None:
    key_header = "email" if tab == "Agents" else "Order ID"
    fake.set_cell(tab, fake.find_row(tab, key_header, key), col(tab, header), value)


def test_the_first_sync_writes_every_row_in_one_read_and_one_write(triaged, fake):
    grid = SheetsGrid.from_env(fake.env(), backoff_factor=0.01)
    seen = len(fake.requests)
    report = SheetSync(triaged.stores, grid).run_once()
    assert fake.kinds(seen) == ["batchGet", "batchUpdate"] and report.requests == 2
    for row in triaged.rows("Assignments")[:5]:
        assert sheet_value(fake, "Assignments", row["Order ID"], "Status") == row["Status"]
    assert len(fake.sheet("Agents").rows) == 1 + len(triaged.rows("Agents"))
    again = SheetSync(triaged.stores, grid).run_once()
    assert again.requests == 1 and again.pushed == 0  # nothing changed: one read
    assert pending_changes(triaged.stores) == 0 and sync_status(triaged.stores)["last_ok_at"]


def test_the_bots_changes_reach_the_sheet_on_the_next_cycle(synced):
    demo, fake, sync, _ = synced
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    demo.run(SARAH, "resolve-ticket", order_id=oid, notes="replayed webhook")
    assert pending_changes(demo.stores) == 1
    sync.run_once()
    assert sheet_value(fake, "Assignments", oid, "Status") == "RESOLVED"
    assert fake.sheet("Resolutions").rows[1][0] == oid


def test_a_managers_reassignment_in_the_sheet_is_applied_and_audited(synced):
    demo, fake, sync, told = synced
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    edit(fake, "Assignments", oid, "Assigned Agent", "James.Ops@example.com")
    report = sync.run_once()
    assert report.pulled and not report.rejected
    row = demo.stores.workbook.find("Assignments", oid)
    assert row["Assigned Agent"] == JAMES and row["Assigned At"] == row["Updated At"]
    entry = demo.stores.state.audit_entries(f"order:{oid}")[-1]
    assert (entry["actor"], entry["action"]) == ("sheet", "sheet_edit")
    assert sheet_value(fake, "Assignments", oid, "Assigned Agent") == JAMES  # normalised
    assert told == []


@pytest.mark.parametrize(
    ("header", "value", "why"),
    [
        ("Status", "DONE", "not one of"),
        ("Assigned Agent", "nobody@example.com", "not an active field agent"),
        ("Assigned Agent", MANAGER, "not an active field agent"),
        ("Why", "edited by hand", "kept by the bot"),
    ],
    ids=["unknown-status", "agent-not-on-roster", "manager-as-agent", "bot-column"],
)
def test_an_edit_that_breaks_a_rule_is_reverted_and_the_managers_are_told(
    synced, header, value, why
):
    demo, fake, sync, told = synced
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    before = demo.stores.workbook.find("Assignments", oid)
    edit(fake, "Assignments", oid, header, value)
    report = sync.run_once()
    assert len(report.rejected) == 1 and why in report.rejected[0]
    assert demo.stores.workbook.find("Assignments", oid) == before
    assert sheet_value(fake, "Assignments", oid, header) == (before[header] or None)
    assert len(told) == 1 and oid in told[0]
    assert demo.stores.state.audit_entries(f"order:{oid}")[-1]["action"] == "sheet_edit_rejected"


def test_when_both_sides_changed_a_cell_the_system_of_record_wins_and_it_is_reported(synced):
    demo, fake, sync, told = synced
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    edit(fake, "Assignments", oid, "Status", "ESCALATED")
    demo.run(SARAH, "resolve-ticket", order_id=oid, notes="done before the sync ran")
    report = sync.run_once()
    assert len(report.conflicts) == 1 and "the bot's value stands" in report.conflicts[0]
    assert demo.stores.workbook.find("Assignments", oid)["Status"] == "RESOLVED"
    assert sheet_value(fake, "Assignments", oid, "Status") == "RESOLVED"
    assert told and demo.stores.state.audit_entries(f"order:{oid}")[-1]["action"] == (
        "sheet_conflict"
    )


def test_a_new_roster_row_becomes_a_member_and_a_hand_made_ticket_is_cleared(synced):
    demo, fake, sync, told = synced
    agents = fake.sheet("Agents")
    fake.set_cell("Agents", len(agents.rows) + 1, 1, "new.agent@example.com")
    for header, value in (("role", "field"), ("capacity", "5"), ("active", "TRUE")):
        fake.set_cell("Agents", len(agents.rows), col("Agents", header), value)
    rows = len(fake.sheet("Assignments").rows)
    fake.set_cell("Assignments", rows + 1, 1, "AE999HAND1")
    report = sync.run_once()
    member = demo.stores.workbook.find("Agents", "new.agent@example.com")
    assert member["role"] == "field" and member["capacity"] == "5"
    assert any("AE999HAND1" in r for r in report.rejected)
    assert fake.cell("Assignments", rows + 1, 1) in (None, "")
    assert demo.stores.workbook.find("Assignments", "AE999HAND1") is None


def test_a_rate_limited_sheet_fails_the_cycle_only_and_the_next_one_catches_up(synced):
    demo, fake, sync, _ = synced
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    demo.run(SARAH, "resolve-ticket", order_id=oid, notes="replayed")  # not blocked
    fake.fail_next(10, status=429)
    report = sync.run_once()
    assert report.skipped and "429" in report.skipped
    status = sync_status(demo.stores)
    assert status["last_error"] and status["pending"] == 1
    assert sheet_value(fake, "Assignments", oid, "Status") != "RESOLVED"
    fake.fail_next(0)
    assert sync.run_once().skipped is None
    assert sheet_value(fake, "Assignments", oid, "Status") == "RESOLVED"
    assert sync_status(demo.stores)["last_error"] is None


def test_one_sync_runs_at_a_time_across_replicas(synced):
    demo, _, sync, _ = synced
    demo.stores.state.acquire_lock(LEASE, "other-replica", 60)
    assert sync.run_once().skipped == "another replica is syncing"


def test_no_request_path_reads_the_sheet_even_when_one_is_configured(synced):
    from bot.runtime.dispatch import handle_message
    from bot.stores.factory import open_stores

    demo, fake, _, _ = synced
    stores = open_stores(demo.path, env={"ECM_DATA_DIR": str(demo.path), **fake.env()})
    seen = len(fake.requests)
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    for text in ("my tickets", f"order {oid}", f"resolve {oid} replayed webhook"):
        assert handle_message(demo.registry, stores, SARAH, text).result is not None
    assert handle_message(demo.registry, stores, MANAGER, "run triage").result is not None
    assert stores.workbook.find("Assignments", oid)["Status"] == "RESOLVED"
    assert fake.requests[seen:] == []


def test_sheets_export_writes_csv_tabs_with_formulas_neutralised(triaged, tmp_path):
    import csv
    import sys

    triaged.stores.workbook.append("Agents", [{"email": "x@example.com", "name": "=HYPERLINK(1)"}])
    for name, value in (("p1", "+cmd"), ("m1", "-2+3"), ("a1", "@SUM(A1)")):
        triaged.stores.workbook.append("Agents", [{"email": f"{name}@example.com", "name": value}])
    out = tmp_path / "export"
    done = spawn.run(
        [sys.executable, "-m", "bot", "sheets", "export", str(out)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ECM_DATA_DIR": str(triaged.path)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with (out / "Agents.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    names = {r["email"]: r["name"] for r in rows}
    assert names["x@example.com"] == "'=HYPERLINK(1)"
    assert names["p1@example.com"] == "'+cmd" and names["a1@example.com"] == "'@SUM(A1)"
    assert names["m1@example.com"] == "'-2+3" and names["maya.manager@example.com"] == "Maya Haddad"
    with (out / "Assignments.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == len(triaged.rows("Assignments"))


def test_sheets_sync_without_a_sheet_says_how_to_configure_it(tmp_path):
    import sys

    done = spawn.run(
        [sys.executable, "-m", "bot", "sheets", "sync", "--once"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ECM_DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    assert done.returncode == 1 and "GOOGLE_SHEETS_CREDENTIALS" in done.stderr
    assert "Traceback" not in done.stderr


def test_doctor_shows_the_sync_lag_from_the_database(synced, monkeypatch):
    from bot.doctor import FAILING, OK, check_sync

    demo, fake, sync, _ = synced
    env = {"ECM_DATA_DIR": str(demo.path), **fake.env()}
    monkeypatch.setenv("ECM_DATA_DIR", str(demo.path))
    assert check_sync(env).status == OK and "0 row(s) waiting" in check_sync(env).detail
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    demo.run(SARAH, "resolve-ticket", order_id=oid, notes="replayed")
    fake.fail_next(10, status=503)
    sync.run_once()
    found = check_sync(env)
    assert found.status == FAILING and "1 row(s) waiting" in found.detail


def test_metrics_show_the_sync_lag(synced):
    import json
    import sys

    demo, _, _, _ = synced
    done = spawn.run(
        [sys.executable, "-m", "bot", "metrics", "--json"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ECM_DATA_DIR": str(demo.path)},
        timeout=60,
    )
    sync = json.loads(done.stdout)["sheet_sync"]
    assert sync["lag_s"] is not None and sync["lag_s"] < 60 and sync["last_error"] is None
