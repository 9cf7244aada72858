"""Unassigned work is actionable in Slack: the triage summary's unassigned list offers Take
(and a manager's Assign…); taking assigns the order to the clicker in one conditional write
with its audit row, the list is edited in place, and a second taker, someone outside the
team, at capacity or a manager is refused privately. The real Bolt app over signed HTTP
against the fake Slack Web API, on both engines of the system of record."""

from __future__ import annotations

import json
import re
import threading

import pytest
from conftest import Demo
from fake_slack import FakeSlack
from helpers_flow import set_capacity, short_staffed_demo, triaged_short_staffed
from slack_harness import serve_bot
from test_slack_live import assert_valid, refs, updates_of

MAYA = "U0MAYA0001"


def _serve(demo: Demo, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    served = serve_bot(demo.registry, demo.path, fake)
    served.demo = demo
    return served


@pytest.fixture
def short_staffed(engine_env, tmp_path, registry, monkeypatch):
    """The app on 60 seeded orders where every field agent can hold one ticket, so a triage
    leaves most orders unassigned and escalates some with nobody on them; on each engine (a
    copy of the data set seeded once per process and engine)."""
    yield from serve_short_staffed(engine_env, tmp_path, registry, monkeypatch)


@pytest.fixture
def short_staffed_triaged(engine_env, tmp_path, registry, monkeypatch):
    """``short_staffed`` after one triage @-mentioned in #COPS (``triage_in_channel``), the
    fake having received all it posted: a copy of that triage made once per process and
    engine (``helpers_flow.triaged_short_staffed``)."""
    yield from triaged_short_staffed(engine_env, tmp_path, registry, monkeypatch)


def serve_short_staffed(engine_env, tmp_path, registry, monkeypatch):
    for key, value in engine_env.items():
        monkeypatch.setenv(key, value)
    if "ECM_DATABASE_URL" not in engine_env:
        monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    served = _serve(short_staffed_demo(engine_env, tmp_path, registry), monkeypatch)
    yield served
    served.stop()
    served.fake.stop()


def buttons(blocks: list[dict]) -> list[dict]:
    return [
        e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"
    ]


def unassigned_list(slack):
    listed = refs(slack).latest("triage_list", channel="COPS", agent="unassigned")
    assert listed is not None
    return listed


def listed_orders(blocks: list[dict]) -> list[tuple[str, str]]:
    """The orders with a Take button in a list, with their teams, in order."""
    takeable = {e["value"] for e in buttons(blocks) if e["action_id"] == "ticket_take"}
    return [
        (oid, re.search(r"\(needs (\w+)\)", block["text"]["text"]).group(1))
        for block in blocks
        if block["type"] == "section"
        and (oid := str(block.get("block_id") or "").split(":")[-1]) in takeable
    ]


def listed_order(blocks: list[dict], stores=None, agents: int = 1) -> tuple[str, str]:
    """The first order with Take in a list (whose team has ``agents`` fitting agents)."""
    for oid, team in listed_orders(blocks):
        if stores is None or len(agents_for(stores, team)) >= agents:
            return oid, team
    raise AssertionError("no such order with Take in the list")


def agents_for(stores, team: str, fits: bool = True) -> list[tuple[str, str]]:
    """Active field agents (email, Slack ID) whose specializations include ``team`` (or,
    with ``fits=False``, don't), in roster order."""
    return [
        (a["email"], a["Slack user ID"])
        for a in stores.workbook.read("Agents")
        if str(a["role"]) == "field"
        and a["active"] == "TRUE"
        and (team in str(a["specializations"]).split(",")) == fits
    ]


def answers_about(fake: FakeSlack, oid: str) -> list[dict]:
    return [a for a in fake.answers() if oid in json.dumps(a, ensure_ascii=False)]


def click_take(slack, user: str, oid: str, message_ts: str, channel: str = "COPS") -> dict:
    """Click Take and return the private answer the clicker got."""
    before = len(slack.fake.answers())
    slack.click(user, "ticket_take", oid, channel=channel, message_ts=message_ts)
    return slack.fake.wait_for(lambda f: f.answers()[before:])[0]


def test_the_unassigned_list_offers_take_and_assign_with_labels_and_counts_the_rest(
    short_staffed_triaged,
):
    slack = short_staffed_triaged
    listed = unassigned_list(slack)
    found = buttons(listed.blocks)
    takes = [b for b in found if b["action_id"] == "ticket_take"]
    assert len(takes) == 5  # the top ones have buttons; the rest are lines to type
    assert all(
        b["accessibility_label"] == f"Take order {b['value']} into your queue" for b in takes
    )
    menus = [b["accessory"] for b in listed.blocks if "accessory" in b]
    assert [m["options"][0]["text"]["text"] for m in menus] == ["Assign…"] * 5
    assert {m["options"][0]["value"] for m in menus} == {f"reassign:{b['value']}" for b in takes}
    text = json.dumps(listed.blocks, ensure_ascii=False)
    assert "⚠️ Unassigned — 48" in text and "`take " in text
    assert_valid([{"blocks": listed.blocks}])


def test_take_from_the_unassigned_thread_assigns_it_and_marks_the_list(short_staffed_triaged):
    slack = short_staffed_triaged
    listed = unassigned_list(slack)
    oid, team = listed_order(listed.blocks)
    (who, who_id), *_ = agents_for(slack.demo.stores, team)
    set_capacity(slack.demo.stores, 5, who)

    answer = click_take(slack, who_id, oid, listed.ts)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(f"🙋 {oid} is yours now")
    row = slack.demo.stores.workbook.find("Assignments", oid)
    assert row["Assigned Agent"] == who and row["Status"] == "IN_PROGRESS"
    audit = slack.demo.stores.state.audit_entries(f"order:{oid}")
    assert [a["action"] for a in audit] == ["take_ticket"] and audit[0]["actor"] == who

    (edit,) = slack.fake.wait_for(lambda f: updates_of(f, listed.ts))
    assert edit["channel"] == "COPS"
    item = next(b for b in edit["blocks"] if b.get("block_id", "").endswith(":" + oid))
    assert item["text"]["text"].startswith(f"🙋 Taken by <@{who_id}>")
    assert "accessory" not in item
    assert oid not in {b["value"] for b in buttons(edit["blocks"])}
    assert len(buttons(edit["blocks"])) == len(buttons(listed.blocks)) - 1  # others keep theirs
    assert_valid([edit, answer])


def test_two_takes_at_once_one_wins_and_the_other_is_told_politely(short_staffed_triaged):
    slack = short_staffed_triaged
    listed = unassigned_list(slack)
    oid, team = listed_order(listed.blocks, slack.demo.stores, agents=2)
    (first, first_id), (second, second_id), *_ = agents_for(slack.demo.stores, team)
    set_capacity(slack.demo.stores, 5, first, second)

    start = threading.Barrier(2)

    def take(user: str) -> None:
        start.wait()
        slack.click(user, "ticket_take", oid, channel="COPS", message_ts=listed.ts)

    racers = [threading.Thread(target=take, args=(u,)) for u in (first_id, second_id)]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    got = slack.fake.wait_for(lambda f: len(answers_about(f, oid)) >= 2 and answers_about(f, oid))
    texts = sorted(a["text"] for a in got)
    won = [t for t in texts if "is yours now" in t]
    lost = [t for t in texts if t.startswith("🙅")]
    assert len(won) == 1 and len(lost) == 1, texts
    owner = slack.demo.stores.workbook.find("Assignments", oid)["Assigned Agent"]
    assert owner in (first, second)
    assert re.search(rf"{oid} (was taken by|is) @{owner.split('@')[0]}", lost[0]), lost[0]
    assert "nothing was changed" in lost[0]
    audit = slack.demo.stores.state.audit_entries(f"order:{oid}")
    assert [a["action"] for a in audit] == ["take_ticket"]  # one write, one audit row
    assert all(a["response_type"] == "ephemeral" for a in got)


def test_an_agent_outside_the_team_at_capacity_or_a_manager_is_refused_privately(
    short_staffed_triaged,
):
    slack = short_staffed_triaged
    listed = unassigned_list(slack)
    oid, team = listed_order(listed.blocks)
    (stranger, stranger_id), *_ = agents_for(slack.demo.stores, team, fits=False)
    set_capacity(slack.demo.stores, 5, stranger)
    (busy, busy_id), *_ = agents_for(slack.demo.stores, team)

    outside = click_take(slack, stranger_id, oid, listed.ts)
    assert outside["response_type"] == "ephemeral"
    assert f"needs the {team} team" in outside["text"] and "your specializations" in outside["text"]
    full = click_take(slack, busy_id, oid, listed.ts)  # one ticket, capacity one
    assert "your capacity of 1" in full["text"]
    manager = click_take(slack, MAYA, oid, listed.ts)
    assert manager["text"].startswith("🙅 Taking a ticket is for ECM field agents.")
    assert "DEC-011" not in manager["text"] and "take-ticket" not in manager["text"]
    assert slack.demo.stores.workbook.find("Assignments", oid) is None  # nothing written
    assert not updates_of(slack.fake, listed.ts)


def test_take_typed_in_a_dm_does_the_same(short_staffed_triaged):
    slack = short_staffed_triaged
    listed = unassigned_list(slack)
    oid, team = listed_order(listed.blocks)
    (who, who_id), *_ = agents_for(slack.demo.stores, team)
    set_capacity(slack.demo.stores, 5, who)
    slack.dm(who_id, f"take {oid}")
    reply = slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p.get("channel") == f"D{who_id}"]
    )[-1]
    assert reply["text"].startswith(f"🙋 {oid} is yours now")
    assert slack.demo.stores.workbook.find("Assignments", oid)["Assigned Agent"] == who
    slack.fake.wait_for(lambda f: updates_of(f, listed.ts))  # the list is marked as well
    assert_valid([reply])
