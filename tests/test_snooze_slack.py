"""Snooze in Slack, end to end over signed HTTP: the queue's Snooze button opens a small form
(duration and note), a submit sets the ticket WAITING and answers in the channel, a bad
duration or an empty note is shown under its field and writes nothing. The real Bolt app on
127.0.0.1 against the fake Slack Web API; Block Kit checked by slack_sdk's own models."""

from __future__ import annotations

import json

import pytest
from conftest import SARAH
from slack_sdk.models.views import View
from test_slack_blocks import assert_within_limits, sdk_validates

from bot.stores.snoozes import Snoozes

SARAH_ID = "U0SARAH003"
NOTE = "waiting on LULU confirmation"


def buttons(blocks, action_id):
    return [e for b in blocks for e in b.get("elements", []) if e.get("action_id") == action_id]


def row_of(demo, oid: str) -> dict:
    return next(r for r in demo.rows("Assignments") if r["Order ID"] == oid)


def values(duration: str, note: str) -> dict:
    return {
        "duration": {"duration": {"type": "plain_text_input", "value": duration}},
        "note": {"note": {"type": "plain_text_input", "value": note}},
    }


def open_form(slack) -> tuple[str, dict]:
    """Sarah's queue in her DM, then Snooze on its first ticket: the order and the form."""
    slack.dm(SARAH_ID, "my tickets")
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    sdk_validates(post["blocks"])
    assert_within_limits(post["blocks"], 50)
    snoozes = buttons(post["blocks"], "ticket_snooze")
    assert snoozes and all(
        b["accessibility_label"] == f"Snooze order {b['value']}" for b in snoozes
    )
    oid = snoozes[0]["value"]
    slack.click(SARAH_ID, "ticket_snooze", oid, channel=f"D{SARAH_ID}")
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    View(**view).validate_json()
    sdk_validates(view["blocks"])
    return oid, view


def test_the_snooze_button_opens_a_form_and_its_submit_sets_the_ticket_waiting(slack):
    oid, view = open_form(slack)
    assert (
        view["callback_id"] == "snooze_submit" and f"`{oid}`" in view["blocks"][0]["text"]["text"]
    )
    assert [b["block_id"] for b in view["blocks"][1:]] == ["duration", "note"]
    meta = json.loads(view["private_metadata"])
    assert meta == {"channel": f"D{SARAH_ID}", "order_id": oid}

    before = len(slack.fake.of("chat.postMessage"))
    done = slack.submit(SARAH_ID, "snooze_submit", values("2h", NOTE), meta)
    assert done.status == 200 and not done.body.strip()  # closed: no errors
    slack.fake.wait_for(lambda f: len(f.of("chat.postMessage")) > before)
    answer = slack.fake.of("chat.postMessage")[-1]
    assert answer["channel"] == f"D{SARAH_ID}" and "is waiting until" in answer["text"]
    sdk_validates(answer["blocks"])
    assert row_of(slack.demo, oid)["Status"] == "WAITING"
    stored = Snoozes(slack.demo.stores.db).get(oid)
    assert stored is not None and stored.note == NOTE and stored.agent == SARAH


@pytest.mark.parametrize(
    "duration, note, field, says",
    [
        ("3w", NOTE, "duration", "not a duration I know"),
        ("8d", NOTE, "duration", "longer than the 7 days"),
        ("2h", "   ", "note", "Please say how long and why"),
    ],
    ids=["bad-duration", "over-7-days", "no-note"],
)
def test_a_bad_snooze_form_is_shown_under_its_field_and_writes_nothing(
    slack, duration, note, field, says
):
    oid, view = open_form(slack)
    before = row_of(slack.demo, oid)
    meta = json.loads(view["private_metadata"])
    reply = slack.submit(SARAH_ID, "snooze_submit", values(duration, note), meta)
    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors" and says in body["errors"][field]
    assert row_of(slack.demo, oid) == before
    assert Snoozes(slack.demo.stores.db).get(oid) is None


def test_order_details_has_a_snooze_button_that_opens_the_same_form(slack):
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    slack.dm(SARAH_ID, f"order {oid}")
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    sdk_validates(post["blocks"])
    (button,) = buttons(post["blocks"], "ticket_snooze")
    assert button["value"] == oid and button["accessibility_label"] == f"Snooze order {oid}"
    slack.click(SARAH_ID, "ticket_snooze", oid, channel=f"D{SARAH_ID}")
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    assert view["callback_id"] == "snooze_submit"
    assert [b["block_id"] for b in view["blocks"][1:]] == ["duration", "note"]


def test_a_waiting_tickets_details_have_no_snooze_button(slack):
    from bot.present import present

    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    data = slack.demo.chat(SARAH, f"order {oid}").result.data
    shown = present("order-details", {**data, "status": "WAITING"})
    actions = [a.action_id for el in shown.elements for a in getattr(el, "actions", ())]
    assert "ticket_resolve" in actions and "ticket_snooze" not in actions
