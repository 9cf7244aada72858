"""One delivery path: whichever way a request comes in (mention, DM, /ecm, a button or a modal),
a skill's result reaches people the same way — the reply where they asked, then the follow-ups
registered for the skill (the new assignee's DM, the escalation channel, the triage threads)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SARAH

from bot.skills.registry import Registry
from bot.slack.delivery import FOLLOW_UPS, ReplyTarget, send

MAYA, SARAH_ID, JAMES = "U0MAYA0001", "U0SARAH003", "U0JAMES007"
LISTENERS = Path(__file__).resolve().parents[1] / "bot" / "slack" / "listeners"


def posts_to(fake, channel: str) -> list[dict]:
    return [p for p in fake.of("chat.postMessage") if p["channel"] == channel]


def assignee_of(demo, oid: str) -> str:
    return next(r for r in demo.rows("Assignments") if r["Order ID"] == oid)["Assigned Agent"]


def generic(text: str, oid: str) -> str:
    """A follow-up's text with what differs between tickets taken out."""
    text = text.replace(oid, "OID")
    return re.sub(r"\(P\d, [^)]*\)", "(P?, REASON)", text)


PATHS = {
    "mention": lambda s, user, text: s.mention(user, text),
    "dm": lambda s, user, text: s.dm(user, text),
    "slash": lambda s, user, text: s.command(user, text),
}


def test_an_at_mention_assign_by_the_manager_dms_the_new_assignee(slack):
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    slack.mention(MAYA, f"assign {oid} <@{JAMES}> confirm partner backlog")
    dm = slack.fake.wait_for(lambda f: posts_to(f, f"D{JAMES}"))[0]
    assert oid in dm["text"] and f"<@{MAYA}> assigned you" in dm["text"]
    assert "partner backlog" in dm["text"]
    assert assignee_of(slack.demo, oid) == "james.ops@example.com"
    reply = slack.fake.wait_for(lambda f: [p for p in posts_to(f, "COPS") if p.get("thread_ts")])[0]
    assert oid in json.dumps(reply, ensure_ascii=False)  # the manager is answered in the thread


def test_mention_dm_and_slash_assign_give_the_same_follow_ups(slack):
    tickets = [t["Order ID"] for t in slack.demo.tickets_of(SARAH)]
    assert len(tickets) >= len(PATHS)
    notes = {}
    for (path, send_request), oid in zip(PATHS.items(), tickets, strict=False):
        send_request(slack, MAYA, f"assign {oid} <@{JAMES}> confirm partner backlog")
        dm = slack.fake.wait_for(
            lambda f, oid=oid: [p for p in posts_to(f, f"D{JAMES}") if oid in p["text"]]
        )
        assert len(dm) == 1, path
        notes[path] = generic(dm[0]["text"], oid)
        assert assignee_of(slack.demo, oid) == "james.ops@example.com", path
    assert len(set(notes.values())) == 1, notes
    assert not posts_to(slack.fake, "CESC")


def test_mention_dm_and_slash_escalations_all_reach_the_escalation_channel(slack):
    tickets = [t["Order ID"] for t in slack.demo.tickets_of(SARAH)]
    notices = {}
    for (path, send_request), oid in zip(PATHS.items(), tickets, strict=False):
        send_request(slack, SARAH_ID, f"escalate {oid} partner portal down")
        post = slack.fake.wait_for(
            lambda f, oid=oid: [p for p in posts_to(f, "CESC") if oid in p["text"]]
        )
        assert len(post) == 1, path
        lines = generic(post[0]["text"], oid).splitlines()  # the ticket's facts differ
        labels = tuple(line.split(":*")[0] for line in lines[1:] if ":*" in line)
        notices[path] = (lines[0], lines[-1], labels)
    assert len(set(notices.values())) == 1, notices
    assert next(iter(notices.values()))[:2] == (
        f"🚨 <@{SARAH_ID}> escalated `OID`",
        "*Why:* partner portal down",
    )
    assert not posts_to(slack.fake, f"D{JAMES}")


def test_a_slash_triage_posts_the_summary_in_the_channel_and_says_where(slack):
    slack.command(MAYA, "triage", channel="CFLOOR")
    fake = slack.fake
    answer = fake.wait_for(
        lambda f: [p for p in f.of("response_url") if "Triage posted" in p.get("text", "")]
    )[0]
    assert "<#CFLOOR>" in answer["text"] and answer["response_type"] == "ephemeral"
    top = [p for p in posts_to(fake, "CFLOOR") if not p.get("thread_ts")]
    assert len(top) == 1 and "ECM Triage" in json.dumps(top[0]["blocks"], ensure_ascii=False)
    # the fixture had triaged already: no agent's queue changed, so no thread replies
    assert not [p for p in posts_to(fake, "CFLOOR") if p.get("thread_ts")]


def test_every_reply_kind_goes_where_it_says(slack):
    sc, fake = slack.sc, slack.fake
    responded: list[dict] = []
    send(sc, ReplyTarget.thread("C1", "1.1"), text="t")
    send(sc, ReplyTarget.in_channel("C2"), text="c")
    send(sc, ReplyTarget.direct("U0X"), text="d")
    send(sc, ReplyTarget.ephemeral("C3", "U0Y"), text="e")
    send(sc, ReplyTarget.response(lambda **kw: responded.append(kw)), text="r")
    send(sc, ReplyTarget.update(lambda **kw: responded.append(kw)), text="u")
    assert send(sc, ReplyTarget.silent(), text="n") is None
    posts = {p["text"]: p for p in fake.of("chat.postMessage")}
    assert posts["t"]["channel"] == "C1" and posts["t"]["thread_ts"] == "1.1"
    assert posts["c"]["channel"] == "C2" and "thread_ts" not in posts["c"]
    assert posts["d"]["channel"] == "DU0X"
    (ephemeral,) = fake.of("chat.postEphemeral")
    assert ephemeral["channel"] == "C3" and ephemeral["user"] == "U0Y"
    assert responded == [
        {"response_type": "ephemeral", "replace_original": False, "text": "r"},
        {"replace_original": True, "text": "u"},
    ]
    assert "n" not in posts


def test_follow_ups_are_named_per_skill_in_its_config():
    registry = Registry.load()
    names = {s.name: s.config.output.follow_ups for s in registry}
    assert names["assign-tickets"] == [
        "announce_in_triage_thread",
        "dm_new_assignee",
        "dm_previous_owner",
        "update_ticket_messages",
    ]
    assert names["escalate-ticket"] == ["post_to_escalation_channel", "update_ticket_messages"]
    assert names["resolve-ticket"] == ["update_ticket_messages"]
    assert names["triage-and-assign"] == ["post_triage_summary"]
    assert not registry.get("triage-and-assign").config.output.reply
    assert {n for ns in names.values() for n in ns} <= set(FOLLOW_UPS)


@pytest.mark.parametrize("module", sorted(p.name for p in LISTENERS.glob("*.py")))
def test_listeners_reach_people_only_through_delivery(module):
    source = (LISTENERS / module).read_text()
    for call in (
        "chat_postMessage",
        "chat_postEphemeral",
        "post_result",
        "post_triage",
        "respond(",
    ):
        assert call not in source, f"{module} calls {call}; use bot.slack.delivery"
