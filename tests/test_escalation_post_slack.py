"""Triage's own escalations are posted to the escalation channel with amount, age, priority,
reason and target team, and Acknowledge / Take; acting on the post edits it in place
(chat.update) to say who acknowledged and who took it. A field agent's escalation gets the
same post. The real Bolt app over signed HTTP against the fake Slack Web API, on both
engines of the system of record."""

from __future__ import annotations

import json

import pytest
from helpers_flow import triaged_short_staffed
from test_slack_live import assert_valid, refs, updates_of
from test_take_slack import MAYA, agents_for, buttons, set_capacity

from bot.stores.escalation_acks import EscalationAcks

ESC = "CESC"  # the escalation channel serve_bot configures


@pytest.fixture
def short_staffed_triaged(engine_env, tmp_path, registry, monkeypatch):
    """As in test_take_slack: every field agent holds one ticket at most, on each engine,
    after one triage @-mentioned in #COPS (a copy of the triage made once per process and
    engine, the fake having received all it posted)."""
    yield from triaged_short_staffed(engine_env, tmp_path, registry, monkeypatch)


def escalation_posts(fake) -> list[dict]:
    return [p for p in fake.of("chat.postMessage") if p.get("channel") == ESC]


def order_of(post: dict) -> str:
    return next(b["block_id"].split(":")[-1] for b in post["blocks"] if b["type"] == "section")


def actions_of(blocks: list[dict]) -> set[str]:
    return {b["action_id"] for b in buttons(blocks)}


def click(slack, user: str, action_id: str, oid: str, ts: str) -> dict:
    before = len(slack.fake.answers())
    slack.click(user, action_id, oid, channel=ESC, message_ts=ts)
    return slack.fake.wait_for(lambda f: f.answers()[before:])[0]


def test_triage_posts_each_escalation_with_its_facts_and_buttons(short_staffed_triaged):
    slack = short_staffed_triaged
    posts = escalation_posts(slack.fake)
    escalated = slack.demo.rows("Escalations")
    assert len(posts) == len(escalated) > 0  # one post per escalation triage wrote
    assert {order_of(p) for p in posts} == {e["Order ID"] for e in escalated}
    assert_valid(posts)
    for post in posts:
        oid = order_of(post)
        row = next(e for e in escalated if e["Order ID"] == oid)
        text = json.dumps(post["blocks"], ensure_ascii=False)
        assert f"🚨 *Triage* escalated `{oid}`\\n*P1* | " in text  # priority
        assert "| stuck " in text and row["Target"] in text  # age, target team
        assert "(needs " in text and " | " in text  # amount | age | reason (team)
        assert row["Reason"].split(" (")[0] in text  # why
        owner = slack.demo.stores.workbook.find("Assignments", oid)
        labels = {b["accessibility_label"] for b in buttons(post["blocks"])}
        assert f"Acknowledge the escalation of order {oid}" in labels
        if owner is None:  # nobody has it: Take is offered
            assert actions_of(post["blocks"]) == {"escalation_ack", "ticket_take"}
            assert "Nobody has it yet" in text
        else:
            assert actions_of(post["blocks"]) == {"escalation_ack"}
    recorded = slack.demo.stores.db.query(
        "SELECT order_id FROM slack_messages WHERE kind = 'escalation' AND channel = ?", [ESC]
    )
    assert sorted(r["order_id"] for r in recorded) == sorted(map(order_of, posts))


def test_acknowledge_then_take_on_the_escalation_post_update_it_in_place(short_staffed_triaged):
    slack = short_staffed_triaged
    post = next(p for p in escalation_posts(slack.fake) if "ticket_take" in actions_of(p["blocks"]))
    oid = order_of(post)
    ts = next(m for m in refs(slack).showing(oid) if m.kind == "escalation").ts

    acked = click(slack, MAYA, "escalation_ack", oid, ts)
    assert acked["response_type"] == "ephemeral"
    assert acked["text"].startswith(f"👍 Acknowledged the escalation of {oid}")
    (first,) = slack.fake.wait_for(lambda f: updates_of(f, ts))
    assert first["channel"] == ESC
    status = next(b for b in first["blocks"] if b.get("block_id") == "escalation_status")
    assert status["elements"][0]["text"].startswith("👍 Acknowledged by <@U0MAYA0001>")
    assert actions_of(first["blocks"]) == {"ticket_take"}  # Acknowledge is used up
    db = slack.demo.stores.db
    at = next(e["At"] for e in slack.demo.rows("Escalations") if e["Order ID"] == oid)
    ack = EscalationAcks(db).of(oid, at)
    assert ack is not None and ack.by == "maya.manager@example.com"
    audit = slack.demo.stores.state.audit_entries(f"order:{oid}")
    assert [a["action"] for a in audit] == ["acknowledge_escalation"]

    again = click(slack, MAYA, "escalation_ack", oid, ts)  # the first acknowledgement stands
    assert "already acknowledged by @maya.manager" in again["text"]

    team = next(b for b in post["blocks"] if b["type"] == "section")["text"]["text"]
    team = team.split("(needs ")[1].split(")")[0]
    (who, who_id), *_ = agents_for(slack.demo.stores, team)
    set_capacity(slack.demo.stores, 5, who)
    taken = click(slack, who_id, "ticket_take", oid, ts)
    assert taken["text"].startswith(f"🙋 {oid} is yours now")
    second = slack.fake.wait_for(lambda f: updates_of(f, ts)[1:])[0]
    text = json.dumps(second["blocks"], ensure_ascii=False)
    assert f"👤 with <@{who_id}>" in text and "Nobody has it yet" not in text
    lines = [
        e["text"]
        for b in second["blocks"]
        if b.get("block_id") == "escalation_status"
        for e in b["elements"]
    ]
    assert lines[0].startswith("👍 Acknowledged by <@U0MAYA0001>")
    assert lines[1] == f"🙋 Taken by <@{who_id}>"
    assert actions_of(second["blocks"]) == set()  # both buttons used
    assert slack.demo.stores.workbook.find("Assignments", oid)["Assigned Agent"] == who
    assert_valid([first, second, acked, taken])


def test_a_field_agent_cannot_acknowledge_and_is_told_in_plain_words(short_staffed_triaged):
    slack = short_staffed_triaged
    post = escalation_posts(slack.fake)[0]
    oid = order_of(post)
    ts = next(m for m in refs(slack).showing(oid) if m.kind == "escalation").ts
    answer = click(slack, "U0SARAH003", "escalation_ack", oid, ts)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("🙅 Acknowledging escalations is for ECM managers.")
    assert "DEC-011" not in answer["text"]
    assert not updates_of(slack.fake, ts)
    assert slack.demo.stores.db.query("SELECT * FROM escalation_acks") == []


def test_a_field_escalation_is_posted_with_its_facts_and_acknowledge(short_staffed_triaged):
    slack = short_staffed_triaged
    mine = slack.demo.tickets_of("sarah.ops@example.com")
    oid = mine[0]["Order ID"]
    before = len(escalation_posts(slack.fake))
    slack.dm("U0SARAH003", f"escalate {oid} partner says the beneficiary bank is down")
    post = slack.fake.wait_for(lambda f: escalation_posts(f)[before:])[0]
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert f"<@U0SARAH003> escalated `{oid}`\\n*{mine[0]['Priority']}* | " in text
    assert "beneficiary bank is down" in text and "👤 with <@U0SARAH003>" in text
    assert actions_of(post["blocks"]) == {"escalation_ack"}  # hers still: nothing to take
    assert_valid([post])
