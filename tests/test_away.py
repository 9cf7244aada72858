"""Away and handover (issue 15): an agent (or a manager for them) says "away until …"; their
open, unpinned tickets go to others by triage's planner (specializations, capacity, on shift),
pinned ones stay for the managers; one DM per person concerned; no new work while away (triage
and Take), work again once back; bad input changes nothing. Through the chat path on both
engines of the system of record; time parsing with fixed moments (no sleeps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from conftest import MANAGER, SARAH, Demo

from bot.clock import now, ts
from bot.db.migrations import MIGRATIONS
from bot.errors import Conflict, InputError
from bot.paths import CONFIG_DIR
from bot.resources import load_yaml
from bot.runtime.roster import Roster, member_from_row
from bot.sla.away_time import parse_until
from bot.stores.away import AwayStore
from bot.stores.pins import Pins
from bot.stores.workbook import OPEN_STATUSES, RowUpdate
from bot.triage.assign import Agent, Ticket, plan_assignments

REASONS = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]
JAMES, PRIYA, OMAR = "james.ops@example.com", "priya.payments@example.com", "omar.lead@example.com"


def team(row: dict) -> str:
    return REASONS[row["Stuck Reason"]]["team"]


def open_of(demo: Demo, email: str) -> list[dict]:
    return demo.tickets_of(email, OPEN_STATUSES)


def set_agent(demo: Demo, email: str, **cells: object) -> None:
    assert not demo.stores.workbook.update("Agents", [RowUpdate(email, cells)])


def fill_everyone_but(demo: Demo, room: dict[str, int]) -> None:
    """Every field agent but ``SARAH`` at capacity, except those in ``room`` (that many free)."""
    for m in Roster.load(demo.stores.workbook).field_agents():
        if m.email != SARAH:
            set_agent(
                demo, m.email, capacity=str(len(open_of(demo, m.email)) + room.get(m.email, 0))
            )


def written(demo: Demo) -> tuple:
    db = demo.stores.db
    return (
        demo.rows("Assignments"),
        db.query("SELECT * FROM agent_away"),
        db.query("SELECT * FROM ticket_handovers"),
        demo.stores.state.audit_entries(),
    )


def away(demo: Demo, who: str, text: str) -> dict:
    reply = demo.chat(who, text)
    assert reply.result is not None, reply.help_text
    return reply.result.data


# -- the migration ---------------------------------------------------------------------------
def test_the_away_migration_follows_m020():
    names = [n for n, _ in MIGRATIONS]
    assert names[names.index("m020_agent_hours") + 1] == "m021_agent_away"


# -- reading the time, in the agent's own time zone --------------------------------------------
DUBAI = member_from_row(
    {"email": "a@x.com", "Timezone": "Asia/Dubai", "Working Hours": "09:00-18:00"}
)
AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # 14:00 in Dubai


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow", "2026-12-03 05:00:00"),  # 09:00 Dubai, the start of her shift
        ("until tomorrow", "2026-12-03 05:00:00"),
        ("tomorrow 11:30", "2026-12-03 07:30:00"),
        ("17:00", "2026-12-02 13:00:00"),  # later today
        ("08:00", "2026-12-03 04:00:00"),  # passed today: tomorrow
        ("2026-12-03 09:00", "2026-12-03 05:00:00"),
        ("2026-12-05", "2026-12-05 05:00:00"),
        ("  Tomorrow  ", "2026-12-03 05:00:00"),
    ],
)
def test_times_are_read_in_the_agents_time_zone(text, expected):
    assert ts(parse_until(text, DUBAI, AT)) == expected


def test_without_working_hours_tomorrow_is_midnight_utc():
    plain = member_from_row({"email": "b@x.com"})
    assert ts(parse_until("tomorrow", plain, AT)) == "2026-12-03 00:00:00"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("blursday", "can't read 'blursday'"),
        ("", "Say when you are back"),
        ("next week", "can't read"),
        ("25:00", "can't read"),
        ("2026-02-30 09:00", "can't read"),
        ("tomorrow noon", "can't read"),
        ("2026-12-01 09:00", "has already passed"),
        ("2027-02-01 09:00", "more than 30 days"),
    ],
)
def test_a_time_i_cannot_read_is_refused_with_the_accepted_forms(text, says):
    with pytest.raises(InputError, match=says) as err:
        parse_until(text, DUBAI, AT)
    assert err.value.field == "until"


# -- the planner: away agents keep what they have and get nothing new --------------------------
def test_the_planner_gives_an_away_agent_nothing_new_but_keeps_their_tickets():
    agents = [
        Agent("a@x", frozenset({"ops"}), 5, True, True, away=True),
        Agent("b@x", frozenset({"ops"}), 5, True, True),
    ]
    tickets = [Ticket("T1", "P1", 9.0, "ops"), Ticket("T2", "P2", 5.0, "ops")]
    plan = plan_assignments(tickets, agents, {"T1": "a@x"}, {"P1": 8, "P2": 4})
    assert plan.assigned == {"T1": "a@x", "T2": "b@x"}
    alone = plan_assignments(tickets[1:], agents[:1], {}, {"P2": 4})
    assert alone.unassigned == ["T2"]


# -- going away ------------------------------------------------------------------------------
def test_away_hands_tickets_over_within_capacity_and_specializations_on_each_engine(on_engine):
    demo = on_engine
    mine = {r["Order ID"]: r for r in open_of(demo, SARAH)}
    by_team = {t: sorted((o for o, r in mine.items() if team(r) == t)) for t in ("ops", "payments")}
    assert by_team["ops"] and by_team["payments"]
    # room: james (ops only) for 1 ticket, priya (payments only) for all payments tickets
    fill_everyone_but(demo, {JAMES: 1, PRIYA: len(by_team["payments"])})
    capacity = {m.email: m.capacity for m in Roster.load(demo.stores.workbook).members}

    data = away(demo, SARAH, "away until tomorrow")

    moved = {t["order_id"]: t["to"] for t in data["moved"]}
    assert {o for o, to in moved.items() if to == PRIYA} == set(by_team["payments"])
    to_james = [o for o, to in moved.items() if to == JAMES]
    assert len(to_james) == 1 and to_james[0] in by_team["ops"]
    # the ops ticket james got is the most urgent one; the others stay (nobody has room)
    ops_rank = sorted(by_team["ops"], key=lambda o: (mine[o]["Priority"], -float(mine[o]["Score"])))
    assert to_james == ops_rank[:1]
    assert {t["order_id"] for t in data["kept"]} == set(by_team["ops"]) - set(to_james)
    assert all(t["why"] == "no_room" for t in data["kept"])
    for agent in (JAMES, PRIYA):  # within capacity
        assert len(open_of(demo, agent)) <= capacity[agent]
    for oid, to in moved.items():
        row = next(r for r in demo.rows("Assignments") if r["Order ID"] == oid)
        assert (row["Assigned Agent"], row["Status"]) == (to, "ASSIGNED")
    # the away row, one handover row per ticket, one audit row per ticket plus the away
    store = AwayStore(demo.stores.db)
    assert store.current(SARAH, now()) is not None
    assert store.count_by_kind() == {"moved": len(moved), "no_room": len(data["kept"])}
    actions = [e["action"] for e in demo.stores.state.audit_entries()]
    assert actions.count("handover") == len(moved) and actions.count("away") == 1
    # one DM per person concerned: sarah, james, priya and (for the unplaced) the managers
    dms = {dm["email"]: dm["text"] for dm in data["dms"]}
    assert set(dms) == {SARAH, JAMES, PRIYA, MANAGER, OMAR}
    assert all(o in dms[PRIYA] for o in by_team["payments"]) and to_james[0] in dms[JAMES]
    assert all(o in dms[MANAGER] for o in data_ids(data["kept"]))


def data_ids(items: list[dict]) -> list[str]:
    return [t["order_id"] for t in items]


def test_pinned_tickets_stay_and_go_to_the_managers_to_decide(on_engine):
    demo = on_engine
    pinned = open_of(demo, SARAH)[0]["Order ID"]
    Pins(demo.stores.db).pin(pinned, SARAH, by=MANAGER, reason="partner desk", at=ts(now()))
    data = away(demo, SARAH, "away until tomorrow")
    assert {"order_id": pinned, "why": "pinned"}.items() <= next(
        t for t in data["kept"] if t["order_id"] == pinned
    ).items()
    assert pinned not in data_ids(data["moved"]) and data["moved"]  # the rest did move
    row = next(r for r in demo.rows("Assignments") if r["Order ID"] == pinned)
    assert row["Assigned Agent"] == SARAH
    manager_dm = next(dm["text"] for dm in data["dms"] if dm["email"] == MANAGER)
    assert pinned in manager_dm and "pinned by a manager" in manager_dm
    assert AwayStore(demo.stores.db).count_by_kind()["pinned"] == 1


def test_a_manager_sets_an_agent_away_and_the_agent_gets_the_dm(on_engine):
    demo = on_engine
    data = away(demo, MANAGER, "away @sarah.ops until 2026-12-31 09:00")
    assert data["agent"] == SARAH and data["set_by"] == MANAGER
    assert data["until"] == "2026-12-31 05:00:00"  # 09:00 in Dubai, her time zone
    sarah_dm = next(dm["text"] for dm in data["dms"] if dm["email"] == SARAH)
    assert "set by @maya.manager" in sarah_dm and not open_of(demo, SARAH)
    back = away(demo, MANAGER, "back @sarah.ops")
    assert back["back"] and AwayStore(demo.stores.db).current(SARAH, now()) is None


# -- no new work while away; work again once back ----------------------------------------------
def test_no_new_work_while_away_and_work_again_once_back(on_engine):
    demo = on_engine
    away(demo, SARAH, "away until tomorrow")
    freed = open_of(demo, JAMES)[0]["Order ID"]  # an ops ticket nobody owns now
    assert not demo.stores.workbook.update(
        "Assignments", [RowUpdate(freed, {"Assigned Agent": "", "Status": "ASSIGNED"})]
    )
    fill_everyone_but(demo, {})  # sarah is the only one with room
    demo.run(MANAGER, "triage-and-assign")
    row = next(r for r in demo.rows("Assignments") if r["Order ID"] == freed)
    assert row["Assigned Agent"] != SARAH  # away: triage skips her
    with pytest.raises(Conflict, match="marked away"):
        demo.chat(SARAH, f"take {freed}")

    assert away(demo, SARAH, "back")["back"]
    demo.run(MANAGER, "triage-and-assign")
    row = next(r for r in demo.rows("Assignments") if r["Order ID"] == freed)
    assert row["Assigned Agent"] == SARAH  # back: she gets work again


def test_the_queue_and_the_dashboard_show_who_is_away_and_what_was_handed_over(on_engine):
    from bot.present import result_text

    demo = on_engine
    data = away(demo, SARAH, "away until tomorrow")
    got = data["moved"][0]
    queue = demo.run(SARAH, "my-tickets")
    assert queue.data["away_until"] == data["until"]
    assert "🌴 You are away until" in result_text(queue)
    theirs = demo.run(got["to"], "my-tickets")
    item = next(t for t in theirs.data["tickets"] if t["order_id"] == got["order_id"])
    assert item["handed_from"] == SARAH
    assert "Handed over from @sarah.ops (away)" in result_text(theirs)
    board = result_text(demo.run(MANAGER, "run-ecm"))
    assert "🌴 Away: @sarah.ops until" in board and "handed over" in board


# -- bad input: a clear message, nothing changed -------------------------------------------------
def test_a_malformed_time_changes_nothing(on_engine):
    demo = on_engine
    before = written(demo)
    with pytest.raises(InputError, match="can't read 'blursday'"):
        demo.chat(SARAH, "away until blursday")
    assert written(demo) == before


def test_the_last_agent_on_shift_for_a_team_is_refused_and_the_managers_are_told(on_engine):
    demo = on_engine
    moment = now()
    off = f"{(moment + timedelta(hours=3)):%H}:00-{(moment + timedelta(hours=4)):%H}:00"
    for m in Roster.load(demo.stores.workbook).field_agents():
        if m.email != SARAH and "ops" in m.specializations:
            set_agent(demo, m.email, **{"Working Hours": off, "Timezone": ""})
    before = written(demo)
    data = away(demo, SARAH, "away until tomorrow")
    assert data["refused"] and data["uncovered"] == ["ops"]
    assert written(demo) == before  # nothing moved, no away
    assert {dm["email"] for dm in data["dms"]} == {MANAGER, OMAR}
    assert all("last agent on shift for ops" in dm["text"] for dm in data["dms"])
    reply = demo.chat(SARAH, "away until tomorrow")
    from bot.present import result_text

    assert "🙅 You are the last agent on shift for ops, so nothing moved" in result_text(
        reply.result
    )


def test_back_when_not_away_and_back_for_someone_else_are_refused(on_engine):
    demo = on_engine
    before = written(demo)
    with pytest.raises(Conflict, match="isn't marked away"):
        demo.chat(SARAH, "back")
    with pytest.raises(InputError, match="only an ECM manager"):
        demo.chat(SARAH, "back @james.ops")
    assert written(demo) == before


# -- the CLI ---------------------------------------------------------------------------------
def test_away_through_the_cli_chat(triaged, monkeypatch):
    from fake_slack import FakeSlack

    from bot.cli import cli

    runner = CliRunner()
    bad = runner.invoke(cli, ["chat", "--as", SARAH, "away until blursday"])
    assert bad.exit_code != 0 and "can't read 'blursday'" in bad.output
    assert "Traceback" not in bad.output
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    alone = runner.invoke(cli, ["chat", "--as", JAMES, "away until tomorrow"])
    assert alone.exit_code == 0 and "🌴 You are away until" in alone.output
    assert "not sent: Slack is not configured" in alone.output  # honest about the DMs

    fake = FakeSlack().start()
    try:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
        monkeypatch.setenv("SLACK_API_URL", fake.url)
        done = runner.invoke(cli, ["chat", "--as", SARAH, "away until tomorrow"])
        assert done.exit_code == 0, done.output
        assert "🌴 You are away until" in done.output and "not sent" not in done.output
        told = {p["channel"] for p in fake.of("chat.postMessage")}
        assert "DU0SARAH003" not in told and told  # the others, not her: she read the reply
        assert all("sarah.ops" in p["text"] for p in fake.of("chat.postMessage"))
    finally:
        fake.stop()


def test_a_refused_away_exits_non_zero_from_the_cli(triaged):
    from bot.cli import cli

    moment = now()
    off = f"{(moment + timedelta(hours=3)):%H}:00-{(moment + timedelta(hours=4)):%H}:00"
    for m in Roster.load(triaged.stores.workbook).field_agents():
        if m.email != SARAH and m.specializations & {"ops", "payments"}:
            set_agent(triaged, m.email, **{"Working Hours": off, "Timezone": ""})
    done = CliRunner().invoke(cli, ["chat", "--as", SARAH, "away until tomorrow"])
    assert done.exit_code == 1 and "🙅 You are the last agent on shift" in done.output


# -- visible in the trace and on /metrics ------------------------------------------------------
def test_the_days_trace_shows_the_away_and_each_handover(triaged):
    from bot.cli import cli

    data = away(triaged, SARAH, "away until tomorrow")
    done = CliRunner().invoke(cli, ["trace"])
    assert done.exit_code == 0, done.output
    assert "Away: sarah.ops@ until" in done.output
    got = data["moved"][0]
    to = got["to"].split("@")[0]
    assert f"Handover: {got['order_id']} from sarah.ops@ (away) to {to}@" in done.output
    assert "Field (sarah.ops@): set-away" in done.output


def test_metrics_count_the_handovers_by_kind(on_engine, engine_env, registry):
    import os
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from bot.gauges import metrics_app
    from bot.health import serve_health
    from bot.observability import metrics

    demo = on_engine
    pinned = open_of(demo, SARAH)[0]["Order ID"]
    Pins(demo.stores.db).pin(pinned, SARAH, by=MANAGER, reason="desk", at=ts(now()))
    data = away(demo, SARAH, "away until tomorrow")
    server = serve_health(0, metrics=metrics_app(registry, env={**os.environ, **engine_env}))
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    found = {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == metrics.HANDOVERS
    }
    assert found == {"moved": len(data["moved"]), "pinned": 1, "no_room": 0}


def test_a_manager_naming_someone_not_on_the_roster_changes_nothing(on_engine):
    from bot.errors import NotOnRoster

    demo = on_engine
    before = written(demo)
    with pytest.raises(NotOnRoster):
        demo.chat(MANAGER, "away @nobody.here until tomorrow")
    with pytest.raises(InputError, match="not an active field agent"):
        demo.chat(MANAGER, "away @maya.manager until tomorrow")
    assert written(demo) == before


def test_the_handover_prefers_agents_on_shift_then_those_off_shift(on_engine):
    demo = on_engine
    noah = "noah.ops@example.com"
    ops = sorted(
        (r for r in open_of(demo, SARAH) if team(r) == "ops"),
        key=lambda r: (r["Priority"], -float(r["Score"]), r["Order ID"]),
    )
    assert len(ops) >= 2
    fill_everyone_but(demo, {JAMES: 5, noah: 1})
    moment = now()
    off = f"{(moment + timedelta(hours=3)):%H}:00-{(moment + timedelta(hours=4)):%H}:00"
    set_agent(demo, JAMES, **{"Working Hours": off, "Timezone": ""})  # off shift, with room
    moved = {t["order_id"]: t["to"] for t in away(demo, SARAH, "away until tomorrow")["moved"]}
    assert moved[ops[0]["Order ID"]] == noah  # on shift: the most urgent one
    assert all(moved[r["Order ID"]] == JAMES for r in ops[1:])  # then off shift, who has room


def test_a_manager_may_leave_a_team_without_anyone_on_shift_and_is_told(on_engine):
    from bot.present import result_text

    demo = on_engine
    moment = now()
    off = f"{(moment + timedelta(hours=3)):%H}:00-{(moment + timedelta(hours=4)):%H}:00"
    for m in Roster.load(demo.stores.workbook).field_agents():
        if m.email != SARAH and "ops" in m.specializations:
            set_agent(demo, m.email, **{"Working Hours": off, "Timezone": ""})
    reply = demo.chat(MANAGER, "away @sarah.ops until tomorrow")
    assert reply.result is not None and not reply.result.data["refused"]
    assert "⚠️ Nobody else is on shift for ops now." in result_text(reply.result)
    assert AwayStore(demo.stores.db).current(SARAH, now()) is not None
