"""Overrides stick, in Slack: the real Bolt app over signed HTTP against the fake Web API. A
manager's override survives the next triage, the previous owner is told in a DM and both
agents' queue messages change in place; an agent who doesn't fit is assigned only after a
confirmation (the word ``confirm`` in chat, a confirmation step in the override form)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SARAH
from fake_slack import FakeSlack
from test_slack_blocks import assert_view_within_limits, assert_within_limits, sdk_validates

from bot.stores.pins import Pins
from bot.stores.slack_messages import SlackMessages
from bot.yaml_safe import parse_yaml

MAYA, SARAH_ID, JAMES_ID = "U0MAYA0001", "U0SARAH003", "U0JAMES007"
JAMES = "james.ops@example.com"  # works ops only
TEAMS = {
    code: entry["team"]
    for code, entry in parse_yaml(
        (Path(__file__).resolve().parents[1] / "shared/config/stuck-reasons.yaml").read_text()
    )["reasons"].items()
}


@pytest.fixture
def slack(untriaged_slack):
    """The app on seeded, not yet triaged data (embedded SQLite)."""
    return untriaged_slack


def triage_in_channel(slack, channel: str = "COPS") -> None:
    """@-mention triage and wait until its messages are out (the 👀 is removed last)."""
    before = len(slack.fake.of("reactions.remove"))
    slack.mention(MAYA, "triage", channel=channel)
    slack.fake.wait_for(lambda f: len(f.of("reactions.remove")) > before)


def outside_james(demo) -> str:
    """One of Sarah's tickets whose team James (ops) does not work."""
    return next(r["Order ID"] for r in demo.tickets_of(SARAH) if TEAMS[r["Stuck Reason"]] != "ops")


def owner(demo, oid: str) -> str:
    return next(r for r in demo.rows("Assignments") if r["Order ID"] == oid)["Assigned Agent"]


def dms_to(fake: FakeSlack, user: str) -> list[dict]:
    return [p for p in fake.of("chat.postMessage") if p["channel"] == f"D{user}"]


def updates_of(fake: FakeSlack, ts: str) -> list[dict]:
    return [p for p in fake.of("chat.update") if p["ts"] == ts]


def assert_every_payload_valid(fake: FakeSlack) -> None:
    """Every message, edit and view the bot sent passes slack_sdk's Block Kit validation."""
    for _method, params in fake.calls:
        if params.get("blocks"):
            assert_within_limits(params["blocks"], 50)
            sdk_validates(params["blocks"])
        view = params.get("view")
        if isinstance(view, dict) and view.get("blocks"):
            sdk_validates(view["blocks"])


def override_values(oid: str, agent: str, reason: str) -> dict:
    return {
        "ticket": {"order_id": {"type": "plain_text_input", "value": oid}},
        "agent": {"agent": {"type": "static_select", "selected_option": {"value": agent}}},
        "reason": {"reason": {"type": "plain_text_input", "value": reason}},
    }


def test_an_override_survives_the_next_triage_and_the_previous_owner_is_told(slack):
    fake, demo = slack.fake, slack.demo
    triage_in_channel(slack)
    refs = SlackMessages(demo.stores.db)
    thread = refs.latest("agent_thread", channel="COPS", agent=SARAH)
    slack.dm(SARAH_ID, "my tickets")
    queue = fake.wait_for(lambda f: refs.latest("dm_queue", agent=SARAH))
    slack.dm(JAMES_ID, "my tickets")
    his = fake.wait_for(lambda f: refs.latest("dm_queue", agent=JAMES))
    oid = outside_james(demo)
    assert oid not in json.dumps(his.blocks)
    assert thread is not None and oid in json.dumps(thread.blocks)

    # James doesn't work this ticket's team: the manager is asked to confirm, privately
    slack.mention(MAYA, f"assign {oid} <@{JAMES_ID}> partner desk backlog")
    (asked,) = fake.wait_for(lambda f: f.of("chat.postEphemeral"))
    assert asked["user"] == MAYA and "works ops, not" in asked["text"]
    assert f"assign {oid} @james.ops confirm partner desk backlog" in asked["text"]
    assert owner(demo, oid) == SARAH
    assert not [p for p in dms_to(fake, JAMES_ID) if oid in p["text"]]

    slack.mention(MAYA, f"assign {oid} <@{JAMES_ID}> confirm partner desk backlog")
    (told,) = fake.wait_for(lambda f: [p for p in dms_to(f, SARAH_ID) if oid in p["text"]])
    assert told["text"].startswith(f"↪️ <@{MAYA}> moved `{oid}`")
    assert f"from your queue to <@{JAMES_ID}>" in told["text"]
    assert "partner desk backlog" in told["text"]
    (new,) = fake.wait_for(lambda f: [p for p in dms_to(f, JAMES_ID) if oid in p["text"]])
    assert "assigned you" in new["text"] and "pinned to you" in new["text"]
    # the old owner's thread reply and DM queue show it moved; both Home tabs are republished
    for ts in (thread.ts, queue.ts):
        (edit,) = fake.wait_for(lambda f, ts=ts: updates_of(f, ts))
        item = next(b for b in edit["blocks"] if b.get("block_id", "").endswith(":" + oid))
        assert item["text"]["text"].startswith(f"↪️ Moved to <@{JAMES_ID}>")
    (mine,) = fake.wait_for(lambda f: updates_of(f, his.ts))  # the new owner's queue, redrawn
    assert mine["channel"] == f"D{JAMES_ID}" and oid in json.dumps(mine["blocks"])
    # recorded right after the edit, so later changes edit it too
    fake.wait_for(lambda f: his.ts in {m.ts for m in refs.showing(oid)})
    fake.wait_for(lambda f: {SARAH_ID, JAMES_ID} <= {p["user_id"] for p in f.of("views.publish")})

    dms_before = len(dms_to(fake, SARAH_ID))
    posts_before = len(fake.of("chat.postMessage"))
    triage_in_channel(slack)
    assert owner(demo, oid) == JAMES  # the next triage kept the override
    again = json.dumps(fake.of("chat.postMessage")[posts_before:], ensure_ascii=False)
    assert oid not in again  # no thread says it moved back
    assert len(dms_to(fake, SARAH_ID)) == dms_before  # nobody is told it came back
    assert Pins(demo.stores.db).get(oid).agent == JAMES
    assert_every_payload_valid(fake)


def test_the_override_form_asks_to_confirm_an_unfitting_agent_before_writing(slack):
    fake, demo = slack.fake, slack.demo
    triage_in_channel(slack)
    oid = outside_james(demo)
    rows = demo.rows("Assignments")
    meta = {"channel": "COPS", "thread_ts": "1700000000.000001"}

    asked = slack.submit(
        MAYA, "override_submit", override_values(oid, JAMES, "partner desk backlog"), meta
    ).json()
    assert asked["response_action"] == "push"
    step = asked["view"]
    assert step["callback_id"] == "override_confirm"
    assert_view_within_limits(step)
    sdk_validates(step["blocks"])
    text = json.dumps(step, ensure_ascii=False)
    assert "works ops, not" in text and "Assign anyway" in text and oid in text
    assert demo.rows("Assignments") == rows and Pins(demo.stores.db).all() == {}  # nothing yet

    done = slack.submit(MAYA, "override_confirm", {}, json.loads(step["private_metadata"]))
    assert done.json() == {"response_action": "clear"}  # the step and the form close
    assert owner(demo, oid) == JAMES and Pins(demo.stores.db).get(oid).agent == JAMES
    fake.wait_for(lambda f: [p for p in dms_to(f, SARAH_ID) if oid in p["text"]])
    fake.wait_for(lambda f: [p for p in dms_to(f, JAMES_ID) if oid in p["text"]])
    in_thread = fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p.get("thread_ts") == meta["thread_ts"]]
    )
    assert oid in in_thread[-1]["text"]

    triage_in_channel(slack)
    assert owner(demo, oid) == JAMES
    assert_every_payload_valid(fake)


def test_a_confirmation_that_comes_too_late_says_why_and_writes_nothing(slack):
    demo = slack.demo
    triage_in_channel(slack)
    oid = outside_james(demo)
    asked = slack.submit(
        MAYA, "override_submit", override_values(oid, JAMES, "partner desk backlog"), {}
    ).json()
    demo.chat(SARAH, f"resolve {oid} partner confirmed the payout by phone")  # meanwhile
    late = slack.submit(
        MAYA, "override_confirm", {}, json.loads(asked["view"]["private_metadata"])
    ).json()
    assert late["response_action"] == "update"
    assert "changed since you were asked to confirm" in json.dumps(late["view"])
    sdk_validates(late["view"]["blocks"])
    assert owner(demo, oid) == SARAH and Pins(demo.stores.db).all() == {}


def test_a_field_agent_cannot_confirm_an_override(slack):
    demo = slack.demo
    triage_in_channel(slack)
    oid = outside_james(demo)
    meta = {"order_id": oid, "agent": JAMES, "reason": "mine to give"}
    refused = slack.submit(SARAH_ID, "override_confirm", {}, meta).json()
    assert refused["response_action"] == "update"
    assert "Only ECM managers" in json.dumps(refused["view"])
    assert owner(demo, oid) == SARAH


def test_unpin_in_a_dm_answers_politely_for_a_ticket_that_isnt_pinned(slack):
    fake, demo = slack.fake, slack.demo
    triage_in_channel(slack)
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    slack.dm(MAYA, f"unpin {oid}")
    (reply,) = fake.wait_for(lambda f: dms_to(f, MAYA))
    assert f"{oid} isn't pinned, so there is nothing to unpin" in reply["text"]
    slack.dm(MAYA, "unpin ZZ000XXX00")
    replies = fake.wait_for(lambda f: dms_to(f, MAYA)[1:])
    assert "is not on the Assignments tab" in replies[0]["text"]
    assert not [a for a in demo.stores.state.audit_entries(oid) if a["action"] == "unpin"]
