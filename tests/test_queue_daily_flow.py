"""The daily flow as a plain triage is posted: its triage's own escalations go to the
escalation channel (amount, age, priority, reason, target, Acknowledge and Take). The real
Bolt app against the fake Slack Web API, on both engines."""

from __future__ import annotations

import json

from test_escalation_post_slack import actions_of, escalation_posts, order_of
from test_slack_live import assert_valid
from test_take_slack import MAYA, short_staffed  # noqa: F401 - short_staffed is a fixture

from bot.stores.slack_messages import SlackMessages

FLOW = "ecm-daily-flow"


def text_of(post: dict) -> str:
    return json.dumps([post.get("text"), post.get("blocks")], ensure_ascii=False)


def assert_posted_like_triage(slack) -> None:
    """One post per escalation the triage wrote, with its facts and buttons, recorded."""
    posts = escalation_posts(slack.fake)
    escalated = slack.demo.rows("Escalations")
    assert len(posts) == len(escalated) > 0
    assert {order_of(p) for p in posts} == {e["Order ID"] for e in escalated}
    for post in posts:
        oid = order_of(post)
        text = json.dumps(post["blocks"], ensure_ascii=False)
        assert f"🚨 *Triage* escalated `{oid}`\\n*P1* | " in text and "| stuck " in text
        assert "escalation_ack" in actions_of(post["blocks"])
        if slack.demo.stores.workbook.find("Assignments", oid) is None:
            assert "ticket_take" in actions_of(post["blocks"])
    assert_valid(posts)
    recorded = SlackMessages(slack.demo.stores.db)
    assert all(any(m.kind == "escalation" for m in recorded.showing(order_of(p))) for p in posts)


def test_the_daily_flow_posts_triages_escalations_to_the_escalation_channel(
    short_staffed,  # noqa: F811
):
    slack = short_staffed
    slack.dm(MAYA, "daily flow")
    slack.fake.wait_for(lambda f: f.of("files.completeUploadExternal"))
    assert_posted_like_triage(slack)
    summary = [p for p in slack.fake.of("chat.postMessage") if "ECM Triage" in text_of(p)]
    assert summary and summary[0]["channel"] == "CTRIAGE"
