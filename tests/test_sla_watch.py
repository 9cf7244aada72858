"""The SLA watch (bot/sla): warnings before and at a ticket's deadline, reminders for a
breached P1/P2 that has not moved, then one escalation; each notice once, also from two
processes at once. Real SQLite, the real Slack SDK against the fake Web API, a given clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import spawn
from conftest import SARAH
from fake_slack import FakeSlack
from slack_harness import notifier
from slack_sdk.errors import SlackApiError

from bot.clock import parse_ts
from bot.errors import EcmError
from bot.paths import CONFIG_DIR
from bot.resources import load_yaml
from bot.sla.policy import load_policy
from bot.sla.watch import CLAIM_LEASE, NoticeLog, Ticket, plan, run_pass

POLICY = load_policy()
REASONS = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]
STUCK = datetime(2026, 12, 1, 6, 0)
REASON = {"sla_hours": 4, "escalate_to": "Payments operations lead (#ecm-payments)"}


def ticket(priority: str = "P1", updated: datetime | None = None) -> Ticket:
    assigned = STUCK + timedelta(minutes=30)
    return Ticket(
        "AE136ABC00",
        SARAH,
        priority,
        "LULU_NOT_CONFIRMED",
        "721",
        "AED",
        assigned,
        updated or assigned,
    )


def kinds(moment: datetime, t: Ticket | None = None) -> list[str]:
    return [n.kind for n in plan(t or ticket(), STUCK, REASON, POLICY, moment)]


def test_warnings_come_before_and_at_the_deadline_never_a_late_early_warning():
    deadline = STUCK + timedelta(hours=4)
    assert kinds(deadline - timedelta(minutes=61)) == []
    assert kinds(deadline - timedelta(minutes=60)) == ["warn:60"]
    assert kinds(deadline) == ["warn:0"]  # the hour-before warning is not sent after it
    text = plan(ticket(), STUCK, REASON, POLICY, deadline - timedelta(minutes=30))[0].text
    assert "`AE136ABC00` (P1, LULU_NOT_CONFIRMED, 721 AED) reaches its 4h SLA in 30 min" in text


def test_a_breached_p1_that_does_not_move_is_reminded_then_escalated_once():
    deadline = STUCK + timedelta(hours=4)
    assert kinds(deadline + timedelta(minutes=59)) == ["warn:0"]
    assert kinds(deadline + timedelta(minutes=60)) == ["warn:0", "renotify:1"]
    assert kinds(deadline + timedelta(minutes=120)) == ["warn:0", "renotify:1", "renotify:2"]
    last = plan(ticket(), STUCK, REASON, POLICY, deadline + timedelta(minutes=180))[-1]
    assert last.kind == "escalate" and last.to_escalation
    assert "Escalates to: Payments operations lead (#ecm-payments)" in last.text


def test_progress_after_the_deadline_or_a_low_priority_stops_the_reminders():
    deadline = STUCK + timedelta(hours=4)
    later = deadline + timedelta(hours=5)
    moved = ticket(updated=deadline + timedelta(minutes=10))
    assert kinds(later, moved) == ["warn:0"]
    assert kinds(later, ticket("P3")) == ["warn:0"]


def test_a_malformed_policy_is_refused_naming_the_field(tmp_path):
    bad = tmp_path / "sla-policy.yaml"
    bad.write_text("warn_before_minutes: [60]\nrenotify: {every_minutes: 0, escalate_after: 1}\n")
    with pytest.raises(EcmError, match="renotify.every_minutes"):
        load_policy(bad)
    bad.write_text(
        "warn_before_minutes: [60]\nrenotify: {every_minutes: 5, escalate_after: 1}\nx: 1\n"
    )
    with pytest.raises(EcmError, match="x: Extra inputs"):
        load_policy(bad)


def late_moment(triaged) -> datetime:
    """A moment after every ticket's deadline plus its whole reminder chain."""
    latest = max(parse_ts(o["stuck_since"]) for o in pending(triaged))
    return latest + timedelta(days=3)


def pending(triaged) -> list[dict]:
    sql = (CONFIG_DIR.parent / "queries" / "ecm-pending-list.sql").read_text()
    return triaged.stores.warehouse.run(sql, {})


@pytest.fixture
def slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def test_one_pass_sends_each_ticket_its_newest_notice_and_a_second_pass_nothing(triaged, slack):
    moment = late_moment(triaged)
    first = run_pass(triaged.stores, REASONS, POLICY, moment, notifier(slack))
    assert first.sent and first.failed == 0
    posts = slack.of("chat.postMessage")
    per_ticket = {n.order_id for n in first.sent}
    assert len(per_ticket) == len(first.sent)  # one message per ticket, the most urgent
    escalations = [p for p in posts if p.get("channel") == "CESCALATE"]
    assert escalations and all("🚨 SLA escalation" in p["text"] for p in escalations)
    again = run_pass(triaged.stores, REASONS, POLICY, moment, notifier(slack))
    assert again.sent == [] and len(slack.of("chat.postMessage")) == len(posts)
    audit = triaged.stores.state.audit_entries(first.sent[0].order_id)
    assert any(a["action"].startswith("sla_") and a["actor"] == "sla-watch" for a in audit)


def test_a_failed_send_is_given_back_and_sent_by_the_next_pass(triaged, slack):
    moment = late_moment(triaged)
    slack.fail_next("chat.postMessage", 500, times=10_000)
    down = run_pass(triaged.stores, REASONS, POLICY, moment, notifier(slack))
    assert down.sent == [] and down.failed > 0
    assert NoticeLog(triaged.stores.db).sent() == []
    slack.failures.clear()  # Slack is back
    up = run_pass(triaged.stores, REASONS, POLICY, moment, notifier(slack))
    assert len(up.sent) == down.failed


def test_each_owners_dm_channel_is_opened_once_per_pass_and_again_after_a_failed_post(slack):
    notices = notifier(slack)
    for text in ("one", "two", "three"):
        notices.direct("U1", text)
    notices.direct("U2", "other")
    assert [c["users"] for c in slack.of("conversations.open")] == ["U1", "U2"]
    assert [p["channel"] for p in slack.of("chat.postMessage")] == ["DU1"] * 3 + ["DU2"]
    slack.fail_next("chat.postMessage", 500, times=10)  # beyond the client's retries
    with pytest.raises(SlackApiError):
        notices.direct("U1", "lost")
    slack.failures.clear()
    notices.direct("U1", "four")
    assert [c["users"] for c in slack.of("conversations.open")] == ["U1", "U2", "U1"]
    assert slack.of("chat.postMessage")[-1]["text"] == "four"


def test_without_slack_the_cli_says_nothing_was_sent_and_claims_nothing(triaged):
    done = spawn.run(
        [str(Path(sys.executable).parent / "ecm-bot"), "sla-watch", "--once", "--json"],
        env={"PATH": "/usr/bin:/bin", "ECM_DATA_DIR": str(triaged.path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sent"] is False
    assert NoticeLog(triaged.stores.db).sent() == []


def test_two_processes_running_the_watch_at_once_send_each_notice_once(triaged, slack):
    """Both passes at once: each SLA notice goes once, and a due snooze wakes once with one DM."""
    from test_snooze import back_dms, snooze

    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    snooze(triaged, oid, duration="1m")
    triaged.stores.db.execute(  # its minute is over (a given clock, no sleep)
        "UPDATE ticket_snoozes SET until_at = ? WHERE order_id = ?", ["2026-01-01 00:00:00", oid]
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "ECM_DATA_DIR": str(triaged.path),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_API_URL": slack.url,
        "ECM_ESCALATION_CHANNEL": "CESCALATE",
    }
    cmd = [str(Path(sys.executable).parent / "ecm-bot"), "sla-watch", "--once", "--json"]
    procs = [
        spawn.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    sent = [(n["order_id"], n["kind"]) for out in outs for n in out["notices"]]
    assert sent and len(sent) == len(set(sent))
    assert len(NoticeLog(triaged.stores.db).sent()) >= len(sent)
    assert [o for out in outs for o in out["woken"]] == [oid]  # one process woke it
    assert len(back_dms(slack)) == 1


def test_a_claim_left_unsent_by_a_dead_process_is_sent_after_its_lease(triaged, slack):
    """A process that claimed notices and died before sending them (the claims are made here
    exactly as a pass makes them, and nothing is sent): a pass within the lease leaves them
    alone (their owner may still be sending), a pass after it sends them."""
    moment = late_moment(triaged)
    due = run_pass(triaged.stores, REASONS, POLICY, moment, None).unsent or []
    log = NoticeLog(triaged.stores.db)
    assert due and all(log.claim(n, moment) for n in due)
    within = run_pass(
        triaged.stores, REASONS, POLICY, moment + timedelta(minutes=5), notifier(slack)
    )
    assert within.sent == [] and slack.of("chat.postMessage") == []
    later = moment + CLAIM_LEASE + timedelta(minutes=1)
    after = run_pass(triaged.stores, REASONS, POLICY, later, notifier(slack))
    assert {n.order_id for n in due} <= {n.order_id for n in after.sent or []}
    assert all(r["sent_at"] for r in log.sent() if r["order_id"] in {n.order_id for n in due})
    again = run_pass(triaged.stores, REASONS, POLICY, later + CLAIM_LEASE * 2, notifier(slack))
    claimed = {(n.order_id, n.kind) for n in due}
    assert not {(n.order_id, n.kind) for n in again.sent or []} & claimed  # sent: never again


def test_the_days_trace_shows_each_notice_under_the_triage_that_assigned_its_ticket(
    triaged, slack, monkeypatch
):
    from click.testing import CliRunner

    from bot.cli import load_commands

    sent = run_pass(triaged.stores, REASONS, POLICY, late_moment(triaged), notifier(slack)).sent
    assert sent
    monkeypatch.setenv("ECM_DATA_DIR", str(triaged.path))
    out = CliRunner().invoke(load_commands(), ["trace"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    triage_at = next(i for i, line in enumerate(lines) if "triage-and-assign" in line)
    notices = [i for i, line in enumerate(lines) if "— SLA watch: " in line]
    assert len(notices) == len(sent) and min(notices) > triage_at
    assert all(lines[i].startswith("  ") for i in notices)  # inside the triage's workflow
    first = sent[0]
    assert any(first.order_id in lines[i] for i in notices)
    as_json = json.loads(CliRunner().invoke(load_commands(), ["trace", "--json"]).output)
    assert {n["target"] for n in as_json["sla_notices"]} == {n.order_id for n in sent}


def test_the_dry_run_counts_tickets_and_lists_held_warnings_marked_held(triaged, monkeypatch):
    """Without Slack: the line says how many tickets are due a notice (one each, the most
    urgent) and how many warnings wait for their owner's shift; the list marks those held."""
    from click.testing import CliRunner
    from test_working_hours import dubai_hours_starting, give_hours, open_ticket

    from bot.cli import cli
    from bot.sla.watch import newest

    row, deadline = open_ticket(triaged, "P3")
    off = (deadline + timedelta(hours=1)).replace(minute=0, second=0)
    give_hours(triaged, row["Assigned Agent"], dubai_hours_starting(off))
    report = run_pass(triaged.stores, REASONS, POLICY, off, None)
    due = newest(report.unsent or [])
    held = newest(report.held or [])
    assert [(n.order_id, n.kind, n.held) for n in held if n.order_id == row["Order ID"]] == [
        (row["Order ID"], "warn:0", True)
    ]
    assert len({n.order_id for n in due}) == len(due)  # one a ticket
    line = report.line()
    assert line.startswith(f"SLA watch: {len(due)} ticket(s) due a notice (")
    assert f"{len(held)} warning(s) held until their owner's shift" in line
    assert "None sent: Slack is not configured" in line

    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setattr("bot.cli.sla_cmd.now", lambda: off)
    done = CliRunner().invoke(cli, ["sla-watch", "--once"])
    assert done.exit_code == 0, done.output
    listed = [ln for ln in done.output.splitlines() if row["Order ID"] in ln]
    assert listed and listed[0].endswith("(held: off shift)")
    assert len(done.output.splitlines()) == 1 + len(due) + len(held)
    as_json = json.loads(CliRunner().invoke(cli, ["sla-watch", "--once", "--json"]).output)
    assert any(n["order_id"] == row["Order ID"] and n["held"] for n in as_json["held"])
