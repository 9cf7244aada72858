"""Writes made outside a Slack request update Slack in place too (``bot.slack.outside_updates``):
a Google Sheet edit that moves a ticket (applied by the sheet sync) and a snooze waking up (the
SLA pass). The real Bolt app posts the triage and the DM queue over signed HTTP; the follow-ups
run through the real slack_sdk against the fake Web API and the fake Sheets API; a Slack that
refuses every call fails neither the sync nor the wake."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta

import pytest
import spawn
from conftest import SARAH, Demo
from fake_sheets import FakeSheets
from fake_slack import FakeSlack
from slack_harness import buttons_of, notifier, serve_bot
from test_slack_blocks import assert_within_limits, sdk_validates

from bot.cli.sla_cmd import sla_pass, woken_updates
from bot.clock import parse_ts
from bot.slack.outside_updates import OutsideUpdates
from bot.slack.settings import SlackSettings
from bot.stores.sheets_grid import SheetsGrid
from bot.stores.slack_messages import Posted, SlackMessages
from bot.stores.snoozes import Snoozes
from bot.stores.workbook import TAB_COLUMNS
from bot.sync.sheets_sync import SheetSync, sync_status

MAYA, SARAH_ID = "U0MAYA0001", "U0SARAH003"
JAMES, JAMES_ID = "james.ops@example.com", "U0JAMES007"
NOTE = "waiting on LULU confirmation"
REFUSE = ("chat.update", "chat.postMessage", "conversations.open", "views.publish")


@pytest.fixture
def sheet():
    with FakeSheets() as server:
        server.add_workbook_tabs()
        yield server


@pytest.fixture
def engine_slack(on_engine, monkeypatch):
    """The real Bolt app on the triaged data of each engine of the system of record."""
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    served = serve_bot(on_engine.registry, on_engine.path, fake)
    served.demo = on_engine  # type: ignore[attr-defined]  # as conftest.slack does
    yield served
    served.stop()
    fake.stop()


def refs(demo: Demo) -> SlackMessages:
    return SlackMessages(demo.stores.db)


def updates_of(fake: FakeSlack, ts: str) -> list[dict]:
    return [p for p in fake.of("chat.update") if p["ts"] == ts]


def item_text(blocks: list[dict], oid: str) -> str:
    (item,) = [
        b
        for b in blocks
        if b.get("block_id", "").startswith("item:") and b["block_id"].endswith(":" + oid)
    ]
    return item["text"]["text"]


def valid(payloads: list[dict]) -> None:
    for p in payloads:
        assert_within_limits(p["blocks"], 50)
        sdk_validates(p["blocks"])


def dms_to(fake: FakeSlack, user: str, since: int = 0) -> list[str]:
    return [
        p["text"]
        for m, p in fake.calls[since:]
        if m == "chat.postMessage" and p["channel"] == "D" + user
    ]


def until_of(demo: Demo, oid: str) -> datetime:
    snooze = Snoozes(demo.stores.db).get(oid)
    assert snooze is not None
    return parse_ts(snooze.until)


def owner_of(demo: Demo, oid: str) -> str:
    return str((demo.stores.workbook.find("Assignments", oid) or {}).get("Assigned Agent"))


def queue_of(slack, who: str = SARAH, user: str = SARAH_ID) -> Posted:
    """``who``'s DM queue, asked for in their DM and recorded."""
    slack.dm(user, "my tickets")
    return slack.fake.wait_for(lambda f: refs(slack.demo).latest("dm_queue", agent=who))


def updates(slack) -> OutsideUpdates:
    settings = SlackSettings(bot_token="xoxb-test", api_url=slack.fake.url)
    return OutsideUpdates.from_settings(
        settings, registry=slack.demo.registry, stores=lambda: slack.demo.stores
    )


@pytest.fixture
def posted(untriaged_slack, sheet):
    """A triage posted in #COPS (summary, one thread reply per agent), Sarah's DM queue, and
    the sheet synced once; ``oid`` is one of Sarah's tickets both show."""
    slack = untriaged_slack
    slack.mention(MAYA, "triage", channel="COPS")
    slack.fake.wait_for(lambda f: f.of("reactions.remove"))  # the run's messages are out
    queue = queue_of(slack)
    thread = refs(slack.demo).latest("agent_thread", channel="COPS", agent=SARAH)
    assert thread is not None
    shown = {m.ts for m in refs(slack.demo).showing(slack.demo.tickets_of(SARAH)[0]["Order ID"])}
    assert shown == {queue.ts, thread.ts}
    grid = SheetsGrid.from_env(sheet.env(), backoff_factor=0.01, retries=2)
    assert grid is not None
    assert SheetSync(slack.demo.stores, grid).run_once().skipped is None
    return slack, sheet, grid, queue, thread


def edit_sheet(sheet: FakeSheets, oid: str, header: str, value: str) -> None:
    row = sheet.find_row("Assignments", "Order ID", oid)
    sheet.set_cell("Assignments", row, TAB_COLUMNS["Assignments"].index(header) + 1, value)


# -- a sheet edit ------------------------------------------------------------------------------
def test_a_sheet_edit_that_moves_a_ticket_edits_slack_in_place_and_tells_both_owners(posted):
    """Through ``ecm-bot sheets sync --once`` with Slack configured, as deployed."""
    slack, sheet, _, queue, thread = posted
    demo, fake = slack.demo, slack.fake
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    summary = refs(demo).latest("triage_summary", channel="COPS")
    james = refs(demo).latest("agent_thread", channel="COPS", agent=JAMES)
    assert summary is not None and james is not None and james.thread_ts == thread.thread_ts
    edit_sheet(sheet, oid, "Assigned Agent", JAMES)
    seen = len(fake.calls)
    env = {**os.environ, **sheet.env(), "ECM_DATA_DIR": str(demo.path)}
    env |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.url}
    done = spawn.run(
        [sys.executable, "-m", "bot", "sheets", "sync", "--once"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and "1 edit(s) pulled" in done.stderr, done.stderr
    assert owner_of(demo, oid) == JAMES

    (dm_queue,) = updates_of(fake, queue.ts)  # Sarah's DM queue: marked moved, no buttons
    assert item_text(dm_queue["blocks"], oid).startswith(f"↪️ Moved to <@{JAMES_ID}>")
    assert buttons_of(dm_queue["blocks"], oid) == []
    (hers,) = updates_of(fake, thread.ts)  # her thread reply under the summary
    assert item_text(hers["blocks"], oid).startswith(f"↪️ Moved to <@{JAMES_ID}>")
    (his,) = updates_of(fake, james.ts)  # and his, under the same summary
    assert item_text(his["blocks"], oid).startswith(f"📥 Moved in from <@{SARAH_ID}>")
    (progress,) = updates_of(fake, summary.ts)
    run = demo.stores.workbook.read("Assignments", {"Triage Run": summary.run_id})
    assert f"0 of {len(run)} resolved" in json.dumps(progress["blocks"], ensure_ascii=False)
    valid([dm_queue, hers, his, progress])
    published = {p["user_id"] for m, p in fake.calls[seen:] if m == "views.publish"}
    assert {SARAH_ID, JAMES_ID} <= published
    (to_james,) = dms_to(fake, JAMES_ID, seen)
    assert to_james.startswith(f"📥 A Google Sheet edit assigned you `{oid}` (")
    assert f"Say `order {oid}` here to open it." in to_james
    (to_sarah,) = dms_to(fake, SARAH_ID, seen)
    assert to_sarah.startswith(f"↪️ A Google Sheet edit moved `{oid}` (")
    assert f"from your queue to <@{JAMES_ID}>" in to_sarah


def test_a_rejected_sheet_edit_makes_no_slack_call(posted):
    slack, sheet, grid, _, _ = posted
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    told: list[str] = []
    sync = SheetSync(
        slack.demo.stores, grid, notify=told.append, on_changed=updates(slack).sheet_edits
    )
    edit_sheet(sheet, oid, "Assigned Agent", "nobody@example.com")
    seen = len(slack.fake.calls)
    report = sync.run_once()
    assert report.rejected and not report.pulled and report.changed_orders == []
    assert len(told) == 1 and slack.fake.calls[seen:] == []
    assert owner_of(slack.demo, oid) == SARAH


def test_a_sheet_status_edit_marks_the_ticket_in_place(posted):
    slack, sheet, grid, queue, thread = posted
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    sync = SheetSync(slack.demo.stores, grid, on_changed=updates(slack).sheet_edits)
    edit_sheet(sheet, oid, "Status", "RESOLVED")
    seen = len(slack.fake.calls)
    assert sync.run_once().changed_orders == [oid]
    for ts in (queue.ts, thread.ts):
        (edit,) = updates_of(slack.fake, ts)
        assert item_text(edit["blocks"], oid).startswith("✅ Resolved · ")
        assert buttons_of(edit["blocks"], oid) == []
    assert dms_to(slack.fake, SARAH_ID, seen) == []  # not moved: nobody to tell
    assert SARAH_ID in {p["user_id"] for p in slack.fake.of("views.publish")}


def test_a_slack_that_refuses_every_call_fails_neither_the_sheet_edit_nor_the_sync(posted, caplog):
    slack, sheet, grid, _, _ = posted
    demo, fake = slack.demo, slack.fake
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    sync = SheetSync(demo.stores, grid, on_changed=updates(slack).sheet_edits)
    edit_sheet(sheet, oid, "Assigned Agent", JAMES)
    for method in REFUSE:
        fake.fail_next(method, status=400, times=50)
    report = sync.run_once()
    assert report.skipped is None and report.changed_orders == [oid] and report.pulled
    assert owner_of(demo, oid) == JAMES
    assert (sync_status(demo.stores) or {}).get("last_error") is None
    assert not fake.of("chat.update") and not fake.of("views.publish")
    assert any(m == "chat.update!400" for m, _ in fake.calls)  # it was tried, and refused
    assert "chat.update of" in caplog.text and "DM to" in caplog.text


# -- a snooze waking up ------------------------------------------------------------------------
def snooze_in_slack(slack, queue: Posted) -> str:
    """Snooze the first ticket of Sarah's DM queue through its form; wait until her queue
    shows it waiting."""
    (oid, *_) = [
        e["value"]
        for b in queue.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ticket_snooze"
    ]
    values = {
        "duration": {"duration": {"type": "plain_text_input", "value": "2h"}},
        "note": {"note": {"type": "plain_text_input", "value": NOTE}},
    }
    meta = {"channel": f"D{SARAH_ID}", "order_id": oid}
    assert slack.submit(SARAH_ID, "snooze_submit", values, meta).status == 200
    (waiting,) = slack.fake.wait_for(lambda f: updates_of(f, queue.ts))
    assert "⏳ waiting until" in item_text(waiting["blocks"], oid)
    assert "ticket_snooze" not in buttons_of(waiting["blocks"], oid)
    return oid


def test_a_snooze_woken_by_the_sla_pass_loses_its_waiting_flag_and_gets_snooze_back(
    engine_slack,
):
    slack = engine_slack
    demo, fake = slack.demo, slack.fake
    queue = queue_of(slack)
    oid = snooze_in_slack(slack, queue)
    until = until_of(demo, oid)
    on_woken = woken_updates({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.url})
    assert on_woken is not None and woken_updates({}) is None
    seen = len(fake.calls)
    report = sla_pass(demo.stores, notifier(fake), until + timedelta(minutes=1), on_woken)
    assert report.woken == [oid]
    back = updates_of(fake, queue.ts)[-1]
    text = item_text(back["blocks"], oid)
    assert "⏳" not in text and f"`{oid}`" in text
    assert text.split("\n")[1] == f"⏰ Back from snooze: {NOTE}"  # as my tickets draws it
    assert buttons_of(back["blocks"], oid) == [
        "ticket_details",
        "ticket_resolve",
        "ticket_escalate",
        "ticket_snooze",
    ]
    (snooze,) = [
        e
        for b in back["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "ticket_snooze" and e.get("value") == oid
    ]
    assert snooze["accessibility_label"] == f"Snooze order {oid}"
    valid([back])
    assert SARAH_ID in {p["user_id"] for m, p in fake.calls[seen:] if m == "views.publish"}
    assert any("is back in your queue" in t for t in dms_to(fake, SARAH_ID, seen))


def test_a_slack_that_refuses_every_call_does_not_fail_the_wake(slack, caplog):
    demo, fake = slack.demo, slack.fake
    oid = snooze_in_slack(slack, queue_of(slack))
    until = until_of(demo, oid)
    for method in REFUSE:
        fake.fail_next(method, status=400, times=50)
    seen = len(fake.calls)
    report = sla_pass(demo.stores, None, until + timedelta(minutes=1), updates(slack).woken)
    assert report.woken == [oid]
    assert (demo.stores.workbook.find("Assignments", oid) or {}).get("Status") != "WAITING"
    assert any(m == "chat.update!400" for m, _ in fake.calls[seen:])
    assert not [m for m, _ in fake.calls[seen:] if m in ("chat.update", "views.publish")]
    assert "chat.update of" in caplog.text
