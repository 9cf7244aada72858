"""The shift digest (issue 15): when an agent's shift ends, one DM lists what is still open with
them; two passes or two replicas send it once (claimed in ``shift_digests``, like
``sla_notices``), a failed send is retried by the next pass, a pass long after the shift sends
nothing; the next shift sees the handover in their queue. Fixed moments (no sleeps), both
engines, the real Slack SDK against the fake Web API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import SARAH, Demo
from fake_slack import FakeSlack
from slack_harness import notifier

from bot.cli.sla_cmd import sla_pass
from bot.clock import ts
from bot.present import present
from bot.present.text import to_text
from bot.runtime.roster import Roster, member_from_row
from bot.sla.digest import WINDOW, digest_pass, last_shift_end, shift_notes
from bot.stores.away import AwayStore
from bot.stores.factory import open_stores
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

SARAH_ID = "U0SARAH003"
JAMES = "james.ops@example.com"
END = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 18:00 in Dubai: the end of Sarah's shift


@pytest.fixture
def fake():
    served = FakeSlack().start()
    yield served
    served.stop()


def digests_to(fake: FakeSlack, user: str) -> list[str]:
    return [
        p["text"]
        for p in fake.of("chat.postMessage")
        if p["channel"] == f"D{user}" and p["text"].startswith("🌙")
    ]


def hours(demo: Demo, email: str, tz: str, span: str) -> None:
    cells = {"Timezone": tz, "Working Hours": span}
    assert not demo.stores.workbook.update("Agents", [RowUpdate(email, cells)])


@pytest.mark.parametrize(
    ("tz", "span", "at", "expected"),
    [
        ("Asia/Dubai", "09:00-18:00", "2026-12-02 14:30:00", "2026-12-02 14:00:00"),
        ("Asia/Dubai", "09:00-18:00", "2026-12-02 13:59:00", "2026-12-01 14:00:00"),
        ("", "22:00-06:00", "2026-12-02 07:00:00", "2026-12-02 06:00:00"),
        ("", "", "2026-12-02 07:00:00", None),  # always on shift: no digest
    ],
)
def test_the_last_shift_end_in_the_agents_time_zone(tz, span, at, expected):
    m = member_from_row({"email": "a@x.com", "Timezone": tz, "Working Hours": span})
    found = last_shift_end(m, datetime.fromisoformat(at + "+00:00"))
    assert (ts(found) if found else None) == expected


def test_the_digest_lists_what_is_open_and_goes_once_over_two_passes(on_engine, fake):
    demo = on_engine
    hours(demo, SARAH, "Asia/Dubai", "09:00-18:00")
    open_ids = {r["Order ID"] for r in demo.tickets_of(SARAH, OPEN_STATUSES)}
    assert open_ids
    first = digest_pass(demo.stores, END + timedelta(minutes=3), notifier(fake))
    again = digest_pass(demo.stores, END + timedelta(minutes=8), notifier(fake))
    assert first.sent == [f"{SARAH}@{ts(END)}"] and again.sent == []
    (text,) = digests_to(fake, SARAH_ID)
    assert "Your shift ended at 18:00 (Asia/Dubai)" in text
    assert all(f"`{oid}`" in text for oid in open_ids)
    (row,) = AwayStore(demo.stores.db).digests()
    assert row["sent_at"] and set(json.loads(row["tickets"])) == open_ids
    actions = [e["action"] for e in demo.stores.state.audit_entries()]
    assert actions.count("shift_digest") == 1
    # the next day's shift end is a new digest
    digest_pass(demo.stores, END + timedelta(days=1, minutes=1), notifier(fake))
    assert len(digests_to(fake, SARAH_ID)) == 2


def test_two_replicas_send_the_digest_once(on_engine, fake, engine_env):
    demo = on_engine
    hours(demo, SARAH, "Asia/Dubai", "09:00-18:00")
    other = open_stores(demo.path, env=engine_env)  # a second process's stores, same database
    moment = END + timedelta(minutes=1)
    reports = [digest_pass(s, moment, notifier(fake)) for s in (demo.stores, other, demo.stores)]
    assert sum(len(r.sent) for r in reports) == 1
    assert len(digests_to(fake, SARAH_ID)) == 1


def test_a_failed_digest_is_retried_by_the_next_pass(on_engine, fake):
    demo = on_engine
    hours(demo, SARAH, "Asia/Dubai", "09:00-18:00")
    fake.fail_next("chat.postMessage", status=500, times=5)
    failed = digest_pass(demo.stores, END + timedelta(minutes=1), notifier(fake))
    assert failed.failed == 1 and failed.sent == [] and digests_to(fake, SARAH_ID) == []
    assert AwayStore(demo.stores.db).digests() == []  # given back
    retried = digest_pass(demo.stores, END + timedelta(minutes=6), notifier(fake))
    assert retried.sent and len(digests_to(fake, SARAH_ID)) == 1


def test_a_pass_long_after_the_shift_sends_nothing_for_it(on_engine, fake):
    demo = on_engine
    hours(demo, SARAH, "Asia/Dubai", "09:00-18:00")
    late = digest_pass(demo.stores, END + WINDOW + timedelta(minutes=1), notifier(fake))
    assert late.sent == [] and digests_to(fake, SARAH_ID) == []


def test_the_sla_pass_sends_the_digest_and_the_next_shift_sees_it_in_their_queue(triaged, fake):
    demo = triaged
    hours(demo, SARAH, "Asia/Dubai", "09:00-18:00")
    hours(demo, JAMES, "Asia/Dubai", "18:00-09:00")  # the next shift, ops like her
    report = sla_pass(demo.stores, notifier(fake), END + timedelta(minutes=2))
    assert "Shift digests: 1 sent" in report.line()
    assert len(digests_to(fake, SARAH_ID)) == 1
    james = Roster.load(demo.stores.workbook).by_email(JAMES)
    assert james is not None
    notes = shift_notes(demo.stores, james, END + timedelta(minutes=30))
    still = len(demo.tickets_of(SARAH, OPEN_STATUSES))
    assert notes == [{"agent": SARAH, "shift_end": ts(END), "open": still}]
    data = {"tickets": [], "shift_notes": notes}
    assert f"@sarah.ops's shift ended at 14:00 UTC with {still} open" in result_text_of(
        present("my-tickets", data)
    )


def result_text_of(view) -> str:
    return to_text(view)


def test_without_slack_the_digest_is_listed_as_due_and_not_claimed(on_engine):
    demo = on_engine
    hours(demo, SARAH, "Asia/Dubai", "09:00-18:00")
    report = digest_pass(demo.stores, END + timedelta(minutes=1), None)
    assert report.due == [f"{SARAH}@{ts(END)}"] and "1 shift digest(s) due" in report.line()
    assert AwayStore(demo.stores.db).digests() == []


def test_the_scheduler_sends_the_shift_digest_once(triaged, fake, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import load_commands
    from bot.clock import now

    moment = now()
    start, end = moment - timedelta(hours=3), moment - timedelta(minutes=30)
    hours(triaged, SARAH, "", f"{start:%H:%M}-{end:%H:%M}")  # her shift ended 30 min ago
    for key in ("ECM_TRIAGE_CHANNEL", "ECM_ALERT_CHANNEL", "PAGERDUTY_ROUTING_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_API_URL", fake.url)
    for _ in range(2):  # two scheduler runs: one digest
        out = CliRunner().invoke(load_commands(), ["scheduler", "--once"])
        assert out.exit_code == 0, out.output
    (text,) = digests_to(fake, SARAH_ID)
    assert f"Your shift ended at {end:%H:%M} (UTC)" in text
