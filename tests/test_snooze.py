"""Waiting on someone: a field agent snoozes their own ticket (WAITING, with a note, at most 7
days); triage keeps it with them and counts it; the SLA watch still warns about it; the wake
pass brings it back to the top of their queue with one DM, however many passes run. Through
the chat path on both engines of the system of record, the real Slack SDK against the fake Web
API, and a given clock (no sleeps)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from conftest import DINESH, MANAGER, SARAH, Demo
from fake_slack import FakeSlack
from slack_harness import notifier

from bot.cli.sla_cmd import sla_pass
from bot.clock import parse_ts
from bot.db.migrations import MIGRATIONS
from bot.errors import AccessDenied, Conflict, EcmError, InputError
from bot.paths import CONFIG_DIR
from bot.present import result_text
from bot.present.home import dashboard_fields
from bot.resources import load_yaml
from bot.sla.policy import load_policy
from bot.sla.wake import wake_pass
from bot.sla.watch import run_pass
from bot.stores.factory import open_stores
from bot.stores.snoozes import Snoozes
from bot.stores.workbook import RowUpdate

NOTE = "waiting on LULU confirmation"


@pytest.fixture
def slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def row_of(demo: Demo, oid: str) -> dict:
    return next(r for r in demo.rows("Assignments") if r["Order ID"] == oid)


def written(demo: Demo) -> tuple:
    """Everything a snooze may write: the rows, the snoozes and the audit log."""
    snoozes = demo.stores.db.query("SELECT * FROM ticket_snoozes ORDER BY order_id")
    return demo.rows("Assignments"), snoozes, demo.stores.state.audit_entries()


def snooze(demo: Demo, oid: str, duration: str = "2h", note: str = NOTE) -> dict:
    reply = demo.chat(SARAH, f"snooze {oid} {duration} {note}")
    assert reply.result is not None
    return reply.result.data


def back_dms(fake: FakeSlack) -> list[dict]:
    return [p for p in fake.of("chat.postMessage") if "is back in your queue" in p["text"]]


# -- the migration and the store -------------------------------------------------------------
def test_the_snoozes_migration_comes_right_after_m018():
    names = [n for n, _ in MIGRATIONS]
    assert names[names.index("m018_sla_notice_delivery") + 1] == "m019_snoozes"


# -- snoozing ---------------------------------------------------------------------------------
def test_a_snooze_sets_waiting_with_its_end_note_and_audit_row_on_each_engine(on_engine):
    oid = on_engine.tickets_of(SARAH)[0]["Order ID"]
    before = len(on_engine.tickets_of(SARAH))
    data = snooze(on_engine, oid)
    assert data["status"] == "WAITING" and data["note"] == NOTE and data["open"] == before
    row = row_of(on_engine, oid)
    assert row["Status"] == "WAITING" and row["Assigned Agent"] == SARAH
    stored = Snoozes(on_engine.stores.db).get(oid)
    assert stored is not None and stored.until == data["until"] and stored.note == NOTE
    assert parse_ts(stored.until) - parse_ts(data["at"]) == timedelta(hours=2)
    audit = on_engine.stores.state.audit_entries(f"order:{oid}")
    assert audit[-1]["action"] == "snooze_ticket" and audit[-1]["actor"] == SARAH
    queue = result_text(on_engine.chat(SARAH, f"my tickets from {before}").result)  # last
    assert f"⏳ waiting until {data['until'][:16]} UTC" in queue and NOTE in queue
    again = on_engine.chat(SARAH, f"snooze {oid} 30m still {NOTE}").result  # snoozed again
    assert "is waiting until" in result_text(again) and again.data["previous_status"] == "WAITING"
    assert again.data["resume_status"] == data["resume_status"] != "WAITING"


@pytest.mark.parametrize(
    "message, error, says",
    [
        ("snooze {mine} 3w " + NOTE, InputError, "not a duration I know"),
        ("snooze {mine} soon " + NOTE, InputError, "not a duration I know"),
        ("snooze {mine} 8d " + NOTE, InputError, "longer than the 7 days"),
        ("snooze {mine} 169h " + NOTE, InputError, "longer than the 7 days"),
        ("snooze {mine} 2h", InputError, "Please say how long and why"),
        ("snooze {mine}", InputError, "Please say how long and why"),
        ("snooze {theirs} 2h " + NOTE, AccessDenied, "is not in your queue"),
        ("snooze {closed} 2h " + NOTE, Conflict, "closed"),
        ("snooze {resolved} 2h " + NOTE, Conflict, "already resolved"),
    ],
    ids=[
        "unknown-unit",
        "words",
        "over-7-days",
        "over-7-days-in-hours",
        "no-note",
        "no-duration",
        "not-yours",
        "closed",
        "resolved",
    ],
)
def test_bad_input_is_one_polite_line_and_writes_nothing(on_engine, message, error, says):
    mine, done, shut = (r["Order ID"] for r in on_engine.tickets_of(SARAH)[:3])
    theirs = on_engine.tickets_of(DINESH)[0]["Order ID"]
    on_engine.chat(SARAH, f"resolve {done} replayed the webhook, LULU confirmed")
    on_engine.stores.workbook.update("Assignments", [RowUpdate(shut, {"Status": "CLOSED"})])
    before = written(on_engine)
    text = message.format(mine=mine, theirs=theirs, closed=shut, resolved=done)
    with pytest.raises(error) as refused:
        on_engine.chat(SARAH, text)
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert written(on_engine)[:2] == before[:2]
    assert [a["action"] for a in written(on_engine)[2]] == [a["action"] for a in before[2]]


def test_a_waiting_ticket_can_still_be_resolved_and_its_snooze_ends_quietly(triaged, slack):
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    until = parse_ts(snooze(triaged, oid)["until"])
    triaged.chat(SARAH, f"resolve {oid} LULU confirmed while it waited")
    assert row_of(triaged, oid)["Status"] == "RESOLVED"
    report = wake_pass(triaged.stores, until + timedelta(minutes=1), notifier(slack))
    assert report.woken == [] and report.ended == [oid] and back_dms(slack) == []
    assert row_of(triaged, oid)["Status"] == "RESOLVED"


# -- triage keeps it --------------------------------------------------------------------------
def test_triage_keeps_a_waiting_ticket_with_its_owner_and_counts_it(on_engine):
    oid = on_engine.tickets_of(SARAH)[-1]["Order ID"]
    snooze(on_engine, oid)
    on_engine.stores.workbook.update("Agents", [RowUpdate(SARAH, {"capacity": "1"})])
    data = on_engine.run(MANAGER, "triage-and-assign").data
    row = row_of(on_engine, oid)
    assert row["Status"] == "WAITING" and row["Assigned Agent"] == SARAH
    hers = [r["Order ID"] for r in on_engine.tickets_of(SARAH, ("ASSIGNED", "IN_PROGRESS"))]
    assert hers == []  # the waiting ticket used her one place: nothing else was given to her
    shown = next(a for a in data["agents"] if a["agent"] == SARAH)["tickets"]
    assert [(t["order_id"], t["status"]) for t in shown] == [(oid, "WAITING")]
    dashboard = on_engine.chat(MANAGER, "dashboard").result
    assert "WAITING 1" in result_text(dashboard)
    assert ("⏳ Waiting on someone", "1") in dashboard_fields(dashboard.data).pairs  # App Home


# -- the SLA watch still runs -----------------------------------------------------------------
def test_the_sla_watch_still_warns_about_a_waiting_ticket(triaged, slack):
    reasons = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]
    sql = (CONFIG_DIR.parent / "queries" / "ecm-pending-list.sql").read_text()
    pending = triaged.stores.warehouse.run(sql, {})
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    snooze(triaged, oid)
    late = max(parse_ts(o["stuck_since"]) for o in pending) + timedelta(days=3)
    report = run_pass(triaged.stores, reasons, load_policy(), late, notifier(slack))
    assert row_of(triaged, oid)["Status"] == "WAITING"
    assert oid in {n.order_id for n in report.sent or []}
    assert any(oid in p["text"] and "SLA" in p["text"] for p in slack.of("chat.postMessage"))


# -- the wake pass ----------------------------------------------------------------------------
def test_the_wake_pass_brings_it_back_to_the_top_with_one_dm_over_two_passes(on_engine, slack):
    tickets = on_engine.tickets_of(SARAH)
    oid = tickets[-1]["Order ID"]  # her least urgent: back, it goes above the rest
    was = row_of(on_engine, oid)["Status"]
    until = parse_ts(snooze(on_engine, oid)["until"])
    early = wake_pass(on_engine.stores, until - timedelta(minutes=1), notifier(slack))
    assert early.woken == [] and row_of(on_engine, oid)["Status"] == "WAITING"
    moment = until + timedelta(minutes=1)
    first = sla_pass(on_engine.stores, notifier(slack), moment)
    other = open_stores(on_engine.path, env=dict(os.environ))  # another replica's stores
    second = sla_pass(other, notifier(slack), moment + timedelta(minutes=5))
    assert first.woken == [oid] and not second.woken
    assert row_of(on_engine, oid)["Status"] == was
    dms = back_dms(slack)
    assert len(dms) == 1 and oid in dms[0]["text"] and NOTE in dms[0]["text"]
    assert dms[0]["channel"] == "DU0SARAH003"
    audit = on_engine.stores.state.audit_entries(f"order:{oid}")
    assert [a["action"] for a in audit][-2:] == ["snooze_ticket", "snooze_wake"]
    data = on_engine.chat(SARAH, "my tickets").result.data
    assert data["tickets"][0]["order_id"] == oid and data["tickets"][0]["back"]
    assert "⏰ Back from snooze" in result_text(on_engine.chat(SARAH, "my tickets").result)


def test_a_wake_dm_that_fails_is_retried_by_the_next_pass_once(on_engine, slack):
    """The ticket is back at once; its DM, failed, is given back and sent by the next pass,
    and never again after that (also from another replica)."""
    oid = on_engine.tickets_of(SARAH)[0]["Order ID"]
    was = row_of(on_engine, oid)["Status"]
    until = parse_ts(snooze(on_engine, oid)["until"])
    moment = until + timedelta(minutes=1)
    slack.fail_next("chat.postMessage", status=500, times=5)
    failed = wake_pass(on_engine.stores, moment, notifier(slack))
    assert failed.woken == [oid] and failed.dm_failed == [oid]
    assert row_of(on_engine, oid)["Status"] == was and back_dms(slack) == []
    retried = wake_pass(on_engine.stores, moment + timedelta(minutes=5), notifier(slack))
    assert retried.woken == [] and retried.resent == [oid]
    (dm,) = back_dms(slack)
    assert oid in dm["text"] and dm["channel"] == "DU0SARAH003"
    other = open_stores(on_engine.path, env=dict(os.environ))  # another replica's stores
    later = wake_pass(other, moment + timedelta(minutes=30), notifier(slack))
    assert later.resent == [] and len(back_dms(slack)) == 1


def test_a_wake_dm_for_a_ticket_moved_since_is_dropped_not_sent(on_engine, slack):
    oid = on_engine.tickets_of(SARAH)[0]["Order ID"]
    until = parse_ts(snooze(on_engine, oid)["until"])
    slack.fail_next("chat.postMessage", status=500, times=5)
    wake_pass(on_engine.stores, until + timedelta(minutes=1), notifier(slack))
    change = RowUpdate(oid, {"Assigned Agent": DINESH})
    assert not on_engine.stores.workbook.update("Assignments", [change])
    later = wake_pass(on_engine.stores, until + timedelta(minutes=6), notifier(slack))
    assert later.resent == [] and back_dms(slack) == []


def test_sla_watch_once_from_the_cli_wakes_a_due_snooze(triaged, slack, monkeypatch):
    import json

    from click.testing import CliRunner

    from bot.cli import load_commands

    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    snooze(triaged, oid, duration="1m")
    triaged.stores.db.execute(  # its minute is over (a given clock, no sleep)
        "UPDATE ticket_snoozes SET until_at = ? WHERE order_id = ?",
        ["2026-01-01 00:00:00", oid],
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("ECM_ESCALATION_CHANNEL", "CESCALATE")
    out = CliRunner().invoke(load_commands(), ["sla-watch", "--once", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["woken"] == [oid]
    assert row_of(triaged, oid)["Status"] != "WAITING" and len(back_dms(slack)) == 1


def test_a_bad_snooze_never_reaches_the_store(triaged):
    with pytest.raises(EcmError):
        triaged.chat(SARAH, "snooze AE000XXX00 2h " + NOTE)
    assert triaged.stores.db.query("SELECT * FROM ticket_snoozes") == []


def test_the_schedulers_pass_wakes_a_due_snooze(triaged, slack, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import load_commands

    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    snooze(triaged, oid, duration="1m")
    triaged.stores.db.execute(  # its minute is over (a given clock, no sleep)
        "UPDATE ticket_snoozes SET until_at = ? WHERE order_id = ?",
        ["2026-01-01 00:00:00", oid],
    )
    for key in ("ECM_TRIAGE_CHANNEL", "ECM_ALERT_CHANNEL", "PAGERDUTY_ROUTING_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    out = CliRunner().invoke(load_commands(), ["scheduler", "--once"])
    assert out.exit_code == 0, out.output
    assert row_of(triaged, oid)["Status"] != "WAITING" and len(back_dms(slack)) == 1


def test_a_sheet_edit_may_not_set_waiting_by_hand():
    from bot.sync.edits import check_edit

    with pytest.raises(InputError, match="snooze ORDER_ID DURATION NOTE"):
        check_edit("Assignments", "Status", "waiting", set())
    assert check_edit("Assignments", "Status", "in_progress", set()) == "IN_PROGRESS"
