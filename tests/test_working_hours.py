"""Working hours (issue 15): each roster member's time zone and shift; SLA warnings wait for
the owner's shift unless the ticket is a P1; new assignments go to agents on shift first.
Fixed moments, the real demo data set and SQLite, the real Slack SDK against the fake Web API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fake_slack import FakeSlack
from slack_harness import notifier

from bot.clock import parse_ts
from bot.doctor import check_roster
from bot.errors import InputError
from bot.paths import CONFIG_DIR, QUERIES_DIR
from bot.resources import load_yaml
from bot.runtime.roster import member_from_row
from bot.sla.policy import load_policy
from bot.sla.watch import run_pass
from bot.stores.workbook import OPEN_STATUSES, RowUpdate
from bot.sync.edits import check_edit
from bot.triage.assign import Agent, Ticket, plan_assignments

POLICY = load_policy()
REASONS = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]
WEIGHTS = {"P1": 8, "P2": 4, "P3": 2, "P4": 1}


def member(timezone: str = "", hours: str = ""):
    row = {"email": "a@example.com", "Timezone": timezone, "Working Hours": hours}
    return member_from_row(row)


@pytest.mark.parametrize(
    ("timezone", "hours", "utc", "expected"),
    [
        ("", "09:00-18:00", "2026-12-01 09:00", True),
        ("", "09:00-18:00", "2026-12-01 18:00", False),
        ("", "09:00-18:00", "2026-12-01 08:59", False),
        ("Asia/Dubai", "09:00-18:00", "2026-12-01 05:00", True),  # 09:00 in Dubai
        ("Asia/Dubai", "09:00-18:00", "2026-12-01 14:30", False),  # 18:30 in Dubai
        ("America/New_York", "09:00-17:00", "2026-12-01 14:00", True),  # 09:00 EST
        ("America/New_York", "09:00-17:00", "2026-07-01 13:00", True),  # 09:00 EDT
        ("America/New_York", "09:00-17:00", "2026-12-01 13:00", False),  # 08:00 EST
        ("", "22:00-06:00", "2026-12-01 23:00", True),
        ("", "22:00-06:00", "2026-12-01 05:59", True),
        ("", "22:00-06:00", "2026-12-01 06:00", False),
        ("", "22:00-06:00", "2026-12-01 12:00", False),
        ("Asia/Kolkata", "22:00-06:00", "2026-12-01 17:00", True),  # 22:30 in Kolkata
        ("", "00:00-24:00", "2026-12-01 23:59", True),
    ],
    ids=lambda v: str(v).replace(" ", "_"),
)
def test_a_member_is_on_shift_inside_their_hours_in_their_time_zone(timezone, hours, utc, expected):
    assert member(timezone, hours).on_shift(parse_ts(utc + ":00")) is expected


@pytest.mark.parametrize(
    ("timezone", "hours"),
    [
        ("", ""),
        ("Asia/Dubai", ""),
        ("Mars/Olympus", "09:00-18:00"),
        ("", "9 to 5"),
        ("", "25:00-26:00"),
        ("", "09:00-09:00"),
        ("../etc", "09:00-10:00"),
    ],
    ids=["blank", "zone-only", "bad-zone", "bad-hours", "bad-clock", "empty-range", "path"],
)
def test_blank_or_unreadable_hours_count_as_always_on_shift(timezone, hours):
    m = member(timezone, hours)
    assert m.on_shift(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    assert (m.shift_problem is None) is (timezone in ("", "Asia/Dubai") and hours == "")


def test_a_sheet_edit_of_bad_hours_is_rejected_and_good_ones_are_kept():
    assert check_edit("Agents", "Timezone", " Asia/Dubai ", set()) == "Asia/Dubai"
    assert check_edit("Agents", "Working Hours", "22:00-06:00", set()) == "22:00-06:00"
    assert check_edit("Agents", "Working Hours", "", set()) == ""
    with pytest.raises(InputError, match="IANA"):
        check_edit("Agents", "Timezone", "Dubai time", set())
    with pytest.raises(InputError, match="09:00-18:00"):
        check_edit("Agents", "Working Hours", "nine to six", set())


# ------------------------------------------------------------------ the planner


def agent(email: str, on_shift: bool, capacity: int = 2) -> Agent:
    return Agent(email, frozenset({"kyc"}), capacity, True, on_shift)


def test_new_assignments_go_to_an_agent_on_shift_even_with_more_load():
    tickets = [Ticket(f"ORD{i}", "P3", 50.0, "kyc") for i in range(3)]
    agents = [agent("a.off@example.com", False, 5), agent("b.on@example.com", True, 5)]
    plan = plan_assignments(tickets, agents, {}, WEIGHTS)
    assert set(plan.assigned.values()) == {"b.on@example.com"}


def test_an_agent_off_shift_takes_new_tickets_only_when_no_one_on_shift_has_room():
    tickets = [Ticket(f"ORD{i}", "P3", 50.0, "kyc") for i in range(3)]
    agents = [agent("a.off@example.com", False), agent("b.on@example.com", True)]
    plan = plan_assignments(tickets, agents, {}, WEIGHTS)
    assert plan.assigned == {
        "ORD0": "b.on@example.com",
        "ORD1": "b.on@example.com",
        "ORD2": "a.off@example.com",
    }
    assert plan.unassigned == []


def test_kept_and_pinned_tickets_stay_with_an_agent_off_shift():
    tickets = [Ticket("ORD0", "P3", 50.0, "kyc"), Ticket("ORD1", "P3", 40.0, "kyc")]
    agents = [agent("a.off@example.com", False), agent("b.on@example.com", True)]
    current = {"ORD0": "a.off@example.com"}
    plan = plan_assignments(tickets, agents, current, WEIGHTS, {"ORD1": "a.off@example.com"})
    assert plan.assigned == {"ORD0": "a.off@example.com", "ORD1": "a.off@example.com"}
    assert plan.kept == {"ORD0"} and plan.pinned == {"ORD1"}


# ------------------------------------------------------------------ the SLA watch


@pytest.fixture
def slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def open_ticket(triaged, priority: str) -> tuple[dict, datetime]:
    """An open ticket of ``priority`` and its SLA deadline."""
    sql = (QUERIES_DIR / "ecm-pending-list.sql").read_text(encoding="utf-8")
    since = {str(o["order_id"]): o["stuck_since"] for o in triaged.stores.warehouse.run(sql, {})}
    for row in triaged.stores.workbook.read("Assignments"):
        oid = str(row["Order ID"])
        sla = (REASONS.get(row["Stuck Reason"]) or {}).get("sla_hours")
        if row["Priority"] == priority and row["Status"] in OPEN_STATUSES and oid in since and sla:
            return row, parse_ts(since[oid]) + timedelta(hours=float(sla))
    raise AssertionError(f"the demo has no open {priority} ticket")


def give_hours(triaged, email: str, hours: str, timezone: str = "Asia/Dubai") -> None:
    change = {"Timezone": timezone, "Working Hours": hours}
    triaged.stores.workbook.update("Agents", [RowUpdate(email, change)])


def dubai_hours_starting(moment: datetime) -> str:
    """A two-hour shift in Dubai (UTC+4) starting one hour after ``moment``."""
    start = (moment + timedelta(hours=5)).hour
    return f"{start:02d}:00-{(start + 2) % 24:02d}:00"


def sent_to(report, order_id: str) -> list[str]:
    return [n.kind for n in report.sent or [] if n.order_id == order_id]


def test_a_p3_warning_waits_while_its_owner_is_off_shift_and_goes_on_their_shift(triaged, slack):
    row, deadline = open_ticket(triaged, "P3")
    off = (deadline + timedelta(hours=1)).replace(minute=0, second=0)
    give_hours(triaged, row["Assigned Agent"], dubai_hours_starting(off))
    held = run_pass(triaged.stores, REASONS, POLICY, off, notifier(slack))
    assert sent_to(held, row["Order ID"]) == []
    on = off + timedelta(hours=1, minutes=30)
    sent = run_pass(triaged.stores, REASONS, POLICY, on, notifier(slack))
    assert sent_to(sent, row["Order ID"]) == ["warn:0"]
    again = run_pass(triaged.stores, REASONS, POLICY, on + timedelta(minutes=5), notifier(slack))
    assert sent_to(again, row["Order ID"]) == []


def test_a_p1_warning_goes_even_when_its_owner_is_off_shift(triaged, slack):
    row, deadline = open_ticket(triaged, "P1")
    before = deadline - timedelta(minutes=30)
    give_hours(triaged, row["Assigned Agent"], dubai_hours_starting(before))
    assert not member_from_row(
        {
            "email": "x@example.com",
            "Timezone": "Asia/Dubai",
            "Working Hours": dubai_hours_starting(before),
        }
    ).on_shift(before)
    report = run_pass(triaged.stores, REASONS, POLICY, before, notifier(slack))
    assert sent_to(report, row["Order ID"]) == ["warn:60"]


def test_doctor_names_a_roster_row_whose_hours_cannot_be_read(triaged):
    assert check_roster({}) is None  # the demo roster reads
    give_hours(triaged, "sarah.ops@example.com", "nine to six")
    check = check_roster({})
    assert check is not None and check.status == "warning"
    assert "sarah.ops@example.com: Working Hours 'nine to six'" in check.detail
