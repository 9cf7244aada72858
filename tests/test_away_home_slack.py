"""Away from App Home, end to end over signed HTTP: a field agent's Home has Away…, which opens
a form asking until when; a good time makes them away (the handover DMs sent, the Home shows
I'm back), a time it can't read is shown under the field and changes nothing, the last agent
on shift is told in the form, and I'm back ends it. The real Bolt app on 127.0.0.1 against the
fake Slack Web API; Block Kit checked by slack_sdk's own models."""

from __future__ import annotations

from datetime import timedelta

from conftest import SARAH
from slack_sdk.models.views import View
from test_away_slack import MANAGERS, dms_to
from test_home_dashboard import home_click, open_home
from test_slack_blocks import sdk_validates
from test_snooze_slack import buttons

from bot.clock import now
from bot.runtime.roster import Roster
from bot.stores.away import AwayStore
from bot.stores.workbook import OPEN_STATUSES, RowUpdate

SARAH_ID = "U0SARAH003"


def until(text: str) -> dict:
    return {"until": {"until": {"type": "plain_text_input", "value": text}}}


def open_form(slack) -> dict:
    """Sarah's Home has Away… (with its label); pressing it opens the form."""
    home = open_home(slack, SARAH_ID)
    sdk_validates(home["blocks"])
    (away,) = buttons(home["blocks"], "home_away")
    assert away["accessibility_label"].startswith("Set yourself away")
    assert not buttons(home["blocks"], "home_back")
    home_click(slack, SARAH_ID, "home_away", away["value"])
    (opened,) = slack.fake.wait_for(lambda f: f.of("views.open"))
    view = opened["view"]
    View(**view).validate_json()
    sdk_validates(view["blocks"])
    assert view["callback_id"] == "away_submit" and view["blocks"][-1]["block_id"] == "until"
    assert "tomorrow, 17:00" in view["blocks"][-1]["element"]["placeholder"]["text"]
    return view


def home_with(slack, action_id: str) -> dict:
    """Sarah's App Home as last published, once it has the button ``action_id``."""

    def last(f) -> dict:
        return [p for p in f.of("views.publish") if p["user_id"] == SARAH_ID][-1]["view"]

    slack.fake.wait_for(lambda f: buttons(last(f)["blocks"], action_id))
    return last(slack.fake)


def test_away_from_home_hands_over_with_the_dms_and_i_am_back_ends_it(slack):
    demo, fake = slack.demo, slack.fake
    mine = {t["Order ID"] for t in demo.tickets_of(SARAH, OPEN_STATUSES)}
    assert mine
    open_form(slack)
    done = slack.submit(SARAH_ID, "away_submit", until("tomorrow"), {})
    assert done.status == 200 and not done.body.strip()  # closed: no errors
    home = home_with(slack, "home_back")  # republished: I'm back instead of Away…
    sdk_validates(home["blocks"])
    assert not buttons(home["blocks"], "home_away")
    away = AwayStore(demo.stores.db).current(SARAH, now())
    assert away is not None and away.set_by == SARAH
    (answer,) = dms_to(fake, SARAH_ID)
    assert "🌴 You are away until" in answer
    told = [p for p in fake.of("chat.postMessage") if p["channel"] != f"D{SARAH_ID}"]
    assert told and any("@sarah.ops is away until" in p["text"] for p in told)
    moved = [r for r in demo.rows("Assignments") if r["Order ID"] in mine]
    roster = Roster.load(demo.stores.workbook)
    assert {r["Assigned Agent"] for r in moved} - {SARAH}  # something was handed over
    for email in {r["Assigned Agent"] for r in moved} - {SARAH}:  # one DM per new owner
        member = roster.by_email(email)
        assert member is not None
        (got,) = dms_to(fake, member.slack_id)
        assert all(r["Order ID"] in got for r in moved if r["Assigned Agent"] == email)

    home_click(slack, SARAH_ID, "home_back", "back")
    home = home_with(slack, "home_away")
    assert not buttons(home["blocks"], "home_back")
    assert "👋 Welcome back" in dms_to(fake, SARAH_ID)[-1]
    assert AwayStore(demo.stores.db).current(SARAH, now()) is None


def test_a_time_the_form_cannot_read_is_shown_under_the_field_and_changes_nothing(slack):
    demo, fake = slack.demo, slack.fake
    open_form(slack)
    before = demo.rows("Assignments")
    reply = slack.submit(SARAH_ID, "away_submit", until("blursday"), {})
    body = reply.json()
    assert body["response_action"] == "errors"
    error = body["errors"]["until"]
    assert "can't read 'blursday'" in error and len(error) <= 150
    assert demo.rows("Assignments") == before
    assert AwayStore(demo.stores.db).get(SARAH) is None
    assert not fake.of("chat.postMessage")  # nobody was told anything


def test_the_last_agent_on_shift_is_told_in_the_form_and_nothing_moves(slack):
    demo, fake = slack.demo, slack.fake
    moment = now()
    off = f"{(moment + timedelta(hours=3)):%H}:00-{(moment + timedelta(hours=4)):%H}:00"
    for m in Roster.load(demo.stores.workbook).field_agents():
        if m.email != SARAH and m.specializations & {"ops", "payments"}:
            demo.stores.workbook.update("Agents", [RowUpdate(m.email, {"Working Hours": off})])
    open_form(slack)
    before = demo.rows("Assignments")
    reply = slack.submit(SARAH_ID, "away_submit", until("tomorrow"), {})
    body = reply.json()
    assert body["response_action"] == "update"
    assert "last agent on shift for ops, payments" in str(body["view"]["blocks"])
    fake.wait_for(lambda f: all(dms_to(f, m) for m in MANAGERS))
    assert demo.rows("Assignments") == before
    assert AwayStore(demo.stores.db).current(SARAH, now()) is None


def test_i_am_back_when_not_away_answers_politely(slack):
    home_click(slack, SARAH_ID, "home_back", "back")
    slack.fake.wait_for(lambda f: dms_to(f, SARAH_ID))
    (text,) = dms_to(slack.fake, SARAH_ID)
    assert "isn't marked away" in text and "Traceback" not in text
