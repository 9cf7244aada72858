"""Unassigned work, all of it: the triage summary's unassigned and escalated lists end with
Show all, which opens the whole list in a modal a page at a time (views.open, then
views.update for Next / Previous), each order with Take and Assign… as on the summary; a Take
there redraws the page; a field agent is told privately it is a manager's view. The real
Bolt app over signed HTTP against the fake Slack Web API, on both engines."""

from __future__ import annotations

import itertools
import json

from slack_sdk.models.views import View as SdkView
from test_slack_blocks import assert_view_within_limits, sdk_validates
from test_slack_live import updates_of
from test_take_slack import (  # noqa: F401 - short_staffed_triaged is a fixture
    MAYA,
    agents_for,
    buttons,
    short_staffed_triaged,
    unassigned_list,
)

from bot.stores.slack_messages import SlackMessages
from bot.stores.workbook import RowUpdate

_ids = itertools.count(1)


def show_all_button(blocks: list[dict], which: str) -> dict:
    (found,) = [b for b in buttons(blocks) if b["action_id"] == "unowned_all"]
    assert found["value"] == which and found["text"]["text"] == "Show all"
    return found


def opened(fake, before: int) -> dict:
    return fake.wait_for(lambda f: f.of("views.open")[before:])[0]["view"]


def in_modal(slack, user: str, action_id: str, value: str, modal: dict, view_id: str) -> None:
    """A click on a button inside the list modal: no channel and no response_url."""
    action = {"action_id": action_id, "block_id": "b1", "type": "button", "value": value}
    if action_id == "ticket_overflow":
        action = {**action, "type": "overflow", "selected_option": {"value": value}}
    slack.interact(
        {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "trigger_id": f"trig-modal-{next(_ids)}",
            "container": {"type": "view", "view_id": view_id},
            "view": {
                "id": view_id,
                "hash": f"h{next(_ids)}",
                "type": "modal",
                "callback_id": modal["callback_id"],
                "private_metadata": modal["private_metadata"],
            },
            "actions": [{**action, "action_ts": f"{next(_ids)}.000001"}],
        }
    )


def listed(modal: dict) -> list[str]:
    return [b["value"] for b in buttons(modal["blocks"]) if b["action_id"] == "ticket_take"]


def check(modal: dict) -> None:
    SdkView(**modal).validate_json()
    assert_view_within_limits(modal)
    sdk_validates(modal["blocks"])


def test_show_all_opens_the_whole_unassigned_list_a_page_at_a_time(short_staffed_triaged):  # noqa: F811
    slack = short_staffed_triaged
    fake = slack.fake
    total = slack.demo.stores.state.last_triage_run()
    unassigned = json.loads(total["summary"])["unassigned"]
    assert unassigned > 20  # more than a page
    thread = unassigned_list(slack)
    show_all_button(thread.blocks, "unassigned")

    slack.click(MAYA, "unowned_all", "unassigned", message_ts=thread.ts)
    first = opened(fake, 0)
    check(first)
    assert first["callback_id"] == "unowned_list" and first["title"]["text"] == (
        f"Unassigned ({unassigned})"
    )
    text = json.dumps(first, ensure_ascii=False)
    assert f"⚠️ Unassigned — {unassigned}*" in text and "(1–20, most urgent first)" in text
    page1 = listed(first)
    assert len(page1) == 20
    menus = [b["accessory"]["options"][0]["value"] for b in first["blocks"] if "accessory" in b]
    assert menus == [f"reassign:{oid}" for oid in page1]  # Assign… on each
    nav = [b for b in buttons(first["blocks"]) if b["action_id"] == "unowned_page"]
    assert [(b["text"]["text"], b["value"]) for b in nav] == [("Next ▶", "unassigned:21")]
    priorities = [
        b["text"]["text"][1:3] for b in first["blocks"] if b.get("block_id", "").startswith("item:")
    ]
    assert priorities == sorted(priorities)  # most urgent first

    in_modal(slack, MAYA, "unowned_page", "unassigned:21", first, "VLIST1")
    (update,) = fake.wait_for(lambda f: f.of("views.update"))
    assert update["view_id"] == "VLIST1"
    second = update["view"]
    check(second)
    page2 = listed(second)
    assert page2 and not set(page2) & set(page1)
    assert json.loads(second["private_metadata"]) == {"which": "unassigned", "start": 21}
    nav = {b["action_id"]: b for b in buttons(second["blocks"]) if "unowned_" in b["action_id"]}
    assert nav["unowned_back"]["text"]["text"] == "◀ Previous"
    assert nav["unowned_back"]["value"] == "unassigned:1"
    in_modal(slack, MAYA, "unowned_back", "unassigned:1", second, "VLIST1")
    back = fake.wait_for(lambda f: f.of("views.update")[1:])[0]["view"]
    assert listed(back) == page1  # the first page again

    # Assign… inside the modal pushes the override form on top of it
    in_modal(slack, MAYA, "ticket_overflow", f"reassign:{page2[0]}", second, "VLIST1")
    (pushed,) = fake.wait_for(lambda f: f.of("views.push"))
    assert pushed["view"]["callback_id"] == "override_submit"
    assert pushed["view"]["blocks"][0]["element"]["initial_value"] == page2[0]


def test_a_take_in_the_modal_takes_it_and_redraws_the_page(short_staffed_triaged):  # noqa: F811
    slack = short_staffed_triaged
    fake, stores = slack.fake, slack.demo.stores
    # Maya leads and works tickets too: a manager and a field agent of every team
    teams = "ops,payments,kyc,compliance,vda,treasury"
    changes = {"role": "field,manager", "specializations": teams, "capacity": "10"}
    stores.workbook.update("Agents", [RowUpdate("maya.manager@example.com", changes)])
    slack.click(MAYA, "unowned_all", "unassigned")
    modal = opened(fake, 0)
    oid = listed(modal)[0]

    in_modal(slack, MAYA, "ticket_take", oid, modal, "VLIST2")
    told = fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{MAYA}"]
    )[0]
    assert told["text"].startswith(f"🙋 {oid} is yours now")
    assert stores.workbook.find("Assignments", oid)["Assigned Agent"] == "maya.manager@example.com"
    (update,) = fake.wait_for(lambda f: f.of("views.update"))
    assert update["view_id"] == "VLIST2" and oid not in listed(update["view"])
    check(update["view"])
    thread = unassigned_list(slack)
    fake.wait_for(lambda f: updates_of(f, thread.ts))  # the channel's list says who took it


def test_a_field_agent_is_told_privately_that_show_all_is_a_managers(short_staffed_triaged):  # noqa: F811
    slack = short_staffed_triaged
    fake = slack.fake
    (_, agent_id), *_ = agents_for(slack.demo.stores, "ops")
    before = len(fake.of("chat.postEphemeral"))
    slack.click(agent_id, "unowned_all", "unassigned")
    (told,) = fake.wait_for(lambda f: f.of("chat.postEphemeral")[before:])
    assert told["user"] == agent_id
    assert told["text"].startswith("🙅 Seeing all unowned work is for ECM managers.")
    assert "unowned-orders" not in told["text"] and "DEC-011" not in told["text"]
    assert not fake.of("views.open")


def test_the_escalated_list_has_show_all_and_the_command_works_in_a_dm(short_staffed_triaged):  # noqa: F811
    slack = short_staffed_triaged
    fake = slack.fake
    escalated = slack.demo.rows("Escalations")
    thread = SlackMessages(slack.demo.stores.db).latest("triage_list", agent="escalated")
    assert thread is not None and escalated
    offers = [b for b in buttons(thread.blocks) if b["action_id"] == "unowned_all"]
    assert bool(offers) == (len(escalated) > 5)  # Show all when the list has more than its top
    slack.click(MAYA, "unowned_all", "escalated")
    modal = opened(fake, 0)
    check(modal)
    shown = {
        b["block_id"].split(":")[-1]
        for b in modal["blocks"]
        if b.get("block_id", "").startswith("item:")
    }
    assert shown and shown <= {e["Order ID"] for e in escalated}
    assert "🚨 Escalated by triage" in json.dumps(modal, ensure_ascii=False)

    slack.dm(MAYA, "show all unassigned from 21")
    reply = fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{MAYA}"]
    )[0]
    assert "(21–" in json.dumps(reply["blocks"], ensure_ascii=False)
    sdk_validates(reply["blocks"])
    slack.dm(MAYA, "show all pending")
    refused = fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{MAYA}"][1:]
    )[0]
    assert "There are two lists, unassigned and escalated" in refused["text"]


def test_the_managers_app_home_opens_the_same_list(short_staffed_triaged):  # noqa: F811
    from test_home_dashboard import home_click, open_home

    slack = short_staffed_triaged
    home = open_home(slack, MAYA)
    (see,) = [b for b in buttons(home["blocks"]) if b["action_id"] == "unowned_all"]
    assert see["text"]["text"] == "See unassigned" and see["value"] == "unassigned"
    home_click(slack, MAYA, "unowned_all", "unassigned")
    modal = opened(slack.fake, 0)
    check(modal)
    assert modal["callback_id"] == "unowned_list" and len(listed(modal)) == 20
