"""The Assignments_canary tab: the sheet sync mirrors the candidate versions' shadow plans
(``assignments_canary``) push-only, like its logs, on each engine and against the fake Sheets
API (real gspread and google-auth). The sync creates the tab when the sheet lacks it; a
person's edits there are put back and reported; the live Assignments tab never shows a
candidate's plan."""

from __future__ import annotations

import pytest
from conftest import MANAGER, Demo
from fake_sheets import FakeSheets
from test_canary_shadow import with_candidate

from bot.canary.diff import Placement, diff_plans
from bot.canary.store import CANARY_TAB, SHEET_HEADERS, CanaryStore, ShadowRun
from bot.runtime.executor import SkillResult, execute
from bot.runtime.roster import Roster
from bot.stores.sheets_grid import SheetsGrid
from bot.stores.sheets_workbook import SHEET_TABS, SheetsWorkbook
from bot.stores.workbook import TAB_COLUMNS, cell_text
from bot.sync.sheets_sync import SheetSync

TRIAGE = "triage-and-assign"


@pytest.fixture
def fake():
    """A sheet with the workbook's tabs only, as every sheet had before the canary tab."""
    with FakeSheets() as server:
        server.add_workbook_tabs()
        yield server


def grid_of(fake: FakeSheets) -> SheetsGrid:
    grid = SheetsGrid.from_env(fake.env(), backoff_factor=0.01, retries=2)
    assert grid is not None
    return grid


def tab_rows(fake: FakeSheets, tab: str) -> list[list[str]]:
    """A tab's data rows as text, width of its header, trailing empty rows dropped."""
    header, *rows = fake.sheet(tab).rows
    out = [[("" if v is None else str(v)) for v in r[: len(header)]] for r in rows]
    out = [r + [""] * (len(header) - len(r)) for r in out]
    while out and not any(out[-1]):
        out.pop()
    return out


def table_rows(demo: Demo) -> list[list[str]]:
    rows = CanaryStore(demo.stores.db).tab()
    rows.sort(key=lambda r: (r["Skill"], r["Version"], r["Order ID"]))
    return [[cell_text(r[h]) or "" for h in SHEET_HEADERS] for r in rows]


def shadowed_triage(demo: Demo) -> SkillResult:
    maya = Roster.load(demo.stores.workbook).resolve(MANAGER)
    result = execute(with_candidate(demo.registry), demo.stores, TRIAGE, maya, {})
    assert result.data["canary"]["outcome"] == "ok"
    return result


@pytest.fixture
def mirrored(on_engine, fake):
    """A real shadowed triage on each engine, then one sync cycle on a sheet without the tab."""
    result = shadowed_triage(on_engine)
    told: list[str] = []
    sync = SheetSync(on_engine.stores, grid_of(fake), notify=told.append)
    seen = len(fake.requests)
    first = sync.run_once()
    assert first.skipped is None, first.skipped
    return on_engine, fake, sync, told, result, first, fake.kinds(seen)


def test_a_shadow_plan_is_in_the_canary_tab_after_one_cycle_which_creates_the_tab(mirrored):
    demo, fake, sync, told, result, first, kinds = mirrored
    # the tab was missing: the read failed once, the tab was made, the cycle read again
    assert kinds == ["batchGet", "metadata", "structure", "batchUpdate", "batchGet", "batchUpdate"]
    assert first.requests == 6 and first.created == [
        f"tab {CANARY_TAB!r} with headers {', '.join(SHEET_HEADERS)}"
    ]
    assert fake.sheet(CANARY_TAB).rows[0] == list(SHEET_HEADERS)
    rows = tab_rows(fake, CANARY_TAB)
    assert rows == table_rows(demo)
    assert len(rows) == result.data["canary"]["orders"]
    col = {h: i for i, h in enumerate(SHEET_HEADERS)}
    run_id = result.data["canary"]["run"]
    for row in rows:
        assert (row[col["Skill"]], row[col["Version"]]) == (TRIAGE, "1.1.0")
        assert row[col["Canary Run"]] == run_id and row[col["Live Run"]] == result.execution_id
        assert row[col["Workflow ID"]] == result.workflow_id
        assert row[col["Priority"]] in ("P1", "P2", "P3", "P4", "P5")
    assert not first.rejected and told == []
    # nothing changed: the next cycle is one read, and writes nothing
    again = sync.run_once()
    assert again.requests == 1 and again.pushed == 0 and not again.created


def test_the_live_assignments_tab_shows_the_live_plan_not_the_candidates(mirrored):
    demo, fake, _, _, result, _, _ = mirrored
    columns = TAB_COLUMNS["Assignments"]
    live = [[r[h] or "" for h in columns] for r in demo.rows("Assignments")]
    assert tab_rows(fake, "Assignments") == live
    sheet = {r[0]: dict(zip(columns, r, strict=True)) for r in tab_rows(fake, "Assignments")}
    differs = [r for r in CanaryStore(demo.stores.db).tab(TRIAGE) if r["Differs"]]
    assert differs  # the example candidate weighs amount above time: some priorities move
    for r in differs:
        if r["Order ID"] in sheet:
            shown = sheet[r["Order ID"]]
            assert (shown["Priority"], shown["Assigned Agent"]) == (
                r["Live Priority"] or "",
                r["Live Agent"] or "",
            )
    run_id = result.data["canary"]["run"]
    assert all(run_id not in cell for row in tab_rows(fake, "Assignments") for cell in row)


def newer_plan(demo: Demo, keep: int) -> tuple[ShadowRun, dict[str, Placement]]:
    """A later shadow run of the same version whose plan holds only ``keep`` orders."""
    old = sorted(CanaryStore(demo.stores.db).tab(TRIAGE), key=lambda r: r["Order ID"])[:keep]
    live = {r["Order ID"]: Placement(r["Live Agent"] or "", r["Live Priority"] or "") for r in old}
    plan = {oid: Placement("", "P5") for oid in live}  # the candidate now leaves them all
    run = ShadowRun("run-newer", TRIAGE, "1.1.0", "exec-newer", "wf-newer", "2026-12-02 12:00:00",
                    "ok", 12.5)  # fmt: skip
    CanaryStore(demo.stores.db).record(run, diff_plans(live, plan), live, plan)
    return run, plan


def test_a_newer_plan_rewrites_the_tab_and_its_stale_rows_are_cleared(mirrored):
    demo, fake, sync, told, _, _, _ = mirrored
    before = len(tab_rows(fake, CANARY_TAB))
    run, plan = newer_plan(demo, keep=5)
    report = sync.run_once()
    assert report.requests == 2 and not report.rejected and told == []  # the bot's own change
    rows = tab_rows(fake, CANARY_TAB)
    assert rows == table_rows(demo) and len(rows) == 5 < before
    col = {h: i for i, h in enumerate(SHEET_HEADERS)}
    assert [r[col["Order ID"]] for r in rows] == sorted(plan)
    assert {(r[col["Canary Run"]], r[col["Priority"]], r[col["Assigned Agent"]]) for r in rows} == {
        (run.id, "P5", "")
    }
    assert all(not any(r) for r in fake.sheet(CANARY_TAB).rows[6 : before + 1])  # cleared
    assert sync.run_once().pushed == 0  # in step


def test_a_hand_edit_in_the_canary_tab_is_put_back_and_reported(mirrored):
    demo, fake, sync, told, _, _, _ = mirrored
    expected = table_rows(demo)
    agent, why = SHEET_HEADERS.index("Assigned Agent") + 1, SHEET_HEADERS.index("Why") + 1
    fake.set_cell(CANARY_TAB, 3, agent, "someone.else@example.com")
    fake.set_cell(CANARY_TAB, 4, why, "edited by hand")
    below = len(expected) + 2
    fake.set_cell(CANARY_TAB, below, 1, "a row added by hand")
    report = sync.run_once()
    assert tab_rows(fake, CANARY_TAB) == expected  # put back, the added row cleared
    assert len(report.rejected) == 2
    assert "2 row(s) changed by hand were put back (row 3, 4;" in report.rejected[0]
    assert f"1 row(s) added by hand were cleared (row {below};" in report.rejected[1]
    assert len(told) == 1 and CANARY_TAB in told[0]
    assert table_rows(demo) == expected  # the system of record is untouched
    assert not sync.run_once().rejected  # reported once


def test_without_a_canary_plan_the_sync_neither_reads_nor_creates_the_tab(triaged, fake):
    report = SheetSync(triaged.stores, grid_of(fake)).run_once()
    assert fake.kinds()[-2:] == ["batchGet", "batchUpdate"] and report.requests == 2
    assert CANARY_TAB not in [s.title for s in fake.sheets]
    assert all(CANARY_TAB not in str(r.query) for r in fake.requests)


def test_a_canary_tab_missing_a_header_gets_it_from_the_sync(triaged, fake):
    fake.add_sheet(CANARY_TAB, [list(SHEET_HEADERS[:-1])])
    shadowed_triage(triaged)
    report = SheetSync(triaged.stores, grid_of(fake)).run_once()
    assert report.skipped is None and report.created == [
        f"headers Updated At on tab {CANARY_TAB!r}"
    ]
    assert fake.sheet(CANARY_TAB).rows[0] == list(SHEET_HEADERS)
    assert tab_rows(fake, CANARY_TAB) == table_rows(triaged)


def test_sheets_init_creates_the_canary_tab_and_check_does_not_need_it(fake):
    workbook = SheetsWorkbook.from_client(fake.client(), fake.spreadsheet_id, check=False)
    workbook.check_headers()  # a sheet without the canary tab is whole
    assert workbook.init_tabs(SHEET_TABS) == [
        f"tab {CANARY_TAB!r} with headers {', '.join(SHEET_HEADERS)}"
    ]
    assert fake.sheet(CANARY_TAB).rows == [list(SHEET_HEADERS)]
    assert workbook.init_tabs(SHEET_TABS) == []
