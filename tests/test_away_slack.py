"""Away in Slack, end to end over signed HTTP: an agent's "away until tomorrow" in a DM answers
there and sends one DM to each new owner and (for what stays) each manager; the last agent on
shift is refused and the managers get the DM; a malformed time answers politely, changing
nothing. The real Bolt app on 127.0.0.1 against the fake Slack Web API."""

from __future__ import annotations

from datetime import timedelta

from conftest import SARAH

from bot.clock import now
from bot.runtime.roster import Roster
from bot.stores.away import AwayStore
from bot.stores.pins import Pins
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

SARAH_ID = "U0SARAH003"
MANAGERS = {"U0MAYA0001", "U0OMAR0002"}


def dms_to(fake, user_id: str) -> list[str]:
    return [p["text"] for p in fake.of("chat.postMessage") if p["channel"] == f"D{user_id}"]


def test_away_in_a_dm_sends_one_dm_to_each_person_concerned(slack):
    demo, fake = slack.demo, slack.fake
    mine = demo.tickets_of(SARAH, OPEN_STATUSES)
    pinned = mine[0]["Order ID"]
    Pins(demo.stores.db).pin(pinned, SARAH, by="maya.manager@example.com", reason="x", at="")
    roster = Roster.load(demo.stores.workbook)

    slack.dm(SARAH_ID, "away until tomorrow")
    fake.wait_for(lambda f: any("is away until" in p["text"] for p in f.of("chat.postMessage")))
    fake.wait_for(lambda f: all(dms_to(f, m) for m in MANAGERS))

    reply = dms_to(fake, SARAH_ID)
    assert len(reply) == 1 and "🌴 You are away until" in reply[0]  # the answer, no extra DM
    moved = [r for r in demo.rows("Assignments") if r["Order ID"] in {t["Order ID"] for t in mine}]
    owners = {r["Assigned Agent"] for r in moved if r["Assigned Agent"] != SARAH}
    assert owners
    for email in owners:
        member = roster.by_email(email)
        assert member is not None
        got = dms_to(fake, member.slack_id)
        assert len(got) == 1 and "@sarah.ops is away until" in got[0]
        assert all(r["Order ID"] in got[0] for r in moved if r["Assigned Agent"] == email)
    for manager in MANAGERS:
        (text,) = dms_to(fake, manager)
        assert pinned in text and "pinned by a manager" in text
    assert AwayStore(demo.stores.db).current(SARAH, now()) is not None
    ids = {m.slack_id for m in roster.members if m.email in owners} | {SARAH_ID}
    fake.wait_for(lambda f: ids <= {p.get("user_id") for p in f.of("views.publish")})
    home = next(p for p in fake.of("views.publish") if p.get("user_id") == SARAH_ID)
    assert "You are away until" in str(home["view"])  # her App Home (her queue) says so


def test_the_last_agent_on_shift_is_refused_in_slack_and_the_managers_are_told(slack):
    demo, fake = slack.demo, slack.fake
    moment = now()
    off = f"{(moment + timedelta(hours=3)):%H}:00-{(moment + timedelta(hours=4)):%H}:00"
    for m in Roster.load(demo.stores.workbook).field_agents():
        if m.email != SARAH and m.specializations & {"ops", "payments"}:
            demo.stores.workbook.update("Agents", [RowUpdate(m.email, {"Working Hours": off})])
    before = demo.rows("Assignments")

    slack.dm(SARAH_ID, "away until tomorrow")
    fake.wait_for(lambda f: all(dms_to(f, m) for m in MANAGERS) and dms_to(f, SARAH_ID))
    assert "last agent on shift for ops, payments" in dms_to(fake, SARAH_ID)[0]
    for manager in MANAGERS:
        (text,) = dms_to(fake, manager)
        assert "@sarah.ops asked to be away" in text and "nothing moved" in text
    assert demo.rows("Assignments") == before
    assert AwayStore(demo.stores.db).current(SARAH, now()) is None


def test_a_malformed_time_in_slack_answers_politely_and_changes_nothing(slack):
    demo, fake = slack.demo, slack.fake
    before = demo.rows("Assignments")
    slack.dm(SARAH_ID, "away until blursday")
    fake.wait_for(lambda f: dms_to(f, SARAH_ID))
    (text,) = dms_to(fake, SARAH_ID)
    assert "can't read 'blursday'" in text and "Traceback" not in text
    assert demo.rows("Assignments") == before
    assert len(fake.of("chat.postMessage")) == 1  # nobody else was told anything
