"""The queue lives in Slack: messages the bot posted are recorded in the system of record and
edited in place after a change (chat.update), and a re-triage posts only what changed. The
real Bolt app over signed HTTP against the fake Slack Web API, on both engines where the
message references matter."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import MANAGER, SARAH, Demo
from fake_slack import FakeSlack
from slack_harness import serve_bot
from test_slack_blocks import assert_within_limits, sdk_validates

from bot.demo.seed import seed_demo
from bot.stores.factory import open_stores
from bot.stores.slack_messages import Posted, SlackMessages

MAYA, SARAH_ID = "U0MAYA0001", "U0SARAH003"


def _serve(demo: Demo, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    served = serve_bot(demo.registry, demo.path, fake)
    served.demo = demo
    return served


@pytest.fixture
def fresh(demo, monkeypatch):
    """The app on seeded, not yet triaged data (embedded SQLite)."""
    served = _serve(demo, monkeypatch)
    yield served
    served.stop()
    served.fake.stop()


@pytest.fixture
def on_engine(engine_env, tmp_path, registry, monkeypatch):
    """The app on seeded, not yet triaged data, on each engine of the system of record."""
    for key, value in engine_env.items():
        monkeypatch.setenv(key, value)
    if "ECM_DATABASE_URL" not in engine_env:
        monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    stores = open_stores(tmp_path, env=engine_env)
    seed_demo(tmp_path, stores.workbook, orders=60, seed=3)
    served = _serve(Demo(tmp_path, registry, stores), monkeypatch)
    yield served
    served.stop()
    served.fake.stop()


def posts(fake: FakeSlack) -> list[dict]:
    return fake.of("chat.postMessage")


def triage_in_channel(slack, channel: str = "COPS") -> None:
    """@-mention triage and wait until the run's messages are out (the 👀 is removed last)."""
    before = len(slack.fake.of("reactions.remove"))
    slack.mention(MAYA, "triage", channel=channel)
    slack.fake.wait_for(lambda f: len(f.of("reactions.remove")) > before)


def assert_valid(payloads: list[dict]) -> None:
    for p in payloads:
        if p.get("blocks"):
            assert_within_limits(p["blocks"], 50)
            sdk_validates(p["blocks"])


def refs(slack) -> SlackMessages:
    return SlackMessages(slack.demo.stores.db)


def resolve_in_modal(slack, oid: str, note: str = "Replayed webhook, partner confirmed") -> None:
    slack.click(SARAH_ID, "ticket_resolve", oid, channel=f"D{SARAH_ID}")
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[-1]["view"]
    values = {"notes": {"notes": {"type": "plain_text_input", "value": note}}}
    assert slack.submit(SARAH_ID, "resolve_submit", values, json.loads(view["private_metadata"]))


def updates_of(fake: FakeSlack, ts: str) -> list[dict]:
    return [p for p in fake.of("chat.update") if p["ts"] == ts]


def test_a_first_triage_posts_one_summary_and_records_every_message(on_engine):
    slack = on_engine
    triage_in_channel(slack)
    sent = [p for p in posts(slack.fake) if p["channel"] == "COPS"]  # not the escalations
    summary, threads = sent[0], sent[1:]
    assert "ECM Triage" in json.dumps(summary["blocks"], ensure_ascii=False)
    summary_ts = "1700000000.000001"  # the fake's first ts
    assert threads and all(p["thread_ts"] == summary_ts for p in threads)
    assert "thread_ts" not in summary or not summary["thread_ts"]
    assert_valid(sent)
    db = slack.demo.stores.db
    recorded = db.query(
        "SELECT kind, agent, thread_ts FROM slack_messages WHERE channel = 'COPS' ORDER BY ts"
    )
    kinds = [r["kind"] for r in recorded]
    assert kinds.count("triage_summary") == 1
    agents = {r["agent"] for r in recorded if r["kind"] == "agent_thread"}
    assert kinds.count("agent_thread") == len(agents) > 1  # one reply per agent
    assert len(recorded) == len(sent)  # each posted message, written when posted
    sarah = refs(slack).latest("agent_thread", channel="COPS", agent=SARAH)
    assert sarah is not None and sarah.thread_ts
    theirs = {t["Order ID"] for t in slack.demo.tickets_of(SARAH)}
    shown = {m.ts for oid in theirs for m in refs(slack).showing(oid) if m.kind != "escalation"}
    assert shown == {sarah.ts}  # every ticket of hers is found in her thread reply


def test_a_resolve_updates_the_thread_the_summary_counts_the_dm_queue_and_app_home(on_engine):
    slack = on_engine
    triage_in_channel(slack)
    summary = refs(slack).latest("triage_summary", channel="COPS")
    thread = refs(slack).latest("agent_thread", channel="COPS", agent=SARAH)
    assert summary is not None and thread is not None
    slack.dm(SARAH_ID, "my tickets")
    queue = slack.fake.wait_for(lambda f: refs(slack).latest("dm_queue", agent=SARAH))
    listed = slack.demo.stores.db.query(
        "SELECT order_id FROM slack_message_orders WHERE ts = ? ORDER BY order_id", [queue.ts]
    )
    oid = listed[0]["order_id"]  # a ticket her DM queue shows

    resolve_in_modal(slack, oid)
    fake = slack.fake
    fake.wait_for(lambda f: updates_of(f, summary.ts) and updates_of(f, thread.ts))
    fake.wait_for(lambda f: updates_of(f, queue.ts) and f.of("views.publish"))

    (in_thread,) = updates_of(fake, thread.ts)
    assert in_thread["channel"] == "COPS"
    item = next(b for b in in_thread["blocks"] if b.get("block_id", "").endswith(":" + oid))
    assert item["text"]["text"].startswith(f"✅ Resolved by <@{SARAH_ID}>")
    assert "accessory" not in item  # its Reassign… menu is gone
    menus = sum("accessory" in b for b in in_thread["blocks"])
    assert menus == sum("accessory" in b for b in thread.blocks) - 1  # the others keep theirs

    (counts,) = updates_of(fake, summary.ts)
    run_total = len(slack.demo.stores.workbook.read("Assignments", {"Triage Run": summary.run_id}))
    progress = json.dumps(counts["blocks"], ensure_ascii=False)
    assert f"1 of {run_total} resolved" in progress

    (dm,) = updates_of(fake, queue.ts)
    assert dm["channel"] == f"D{SARAH_ID}"
    buttons = [
        e
        for b in dm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("value") == oid
    ]
    assert not buttons  # a closed ticket's buttons disappear
    assert SARAH_ID in {p["user_id"] for p in fake.of("views.publish")}
    assert_valid(fake.of("chat.update"))
    assert next(r for r in slack.demo.rows("Assignments") if r["Order ID"] == oid)["Status"] == (
        "RESOLVED"
    )


def test_a_failed_update_is_logged_and_the_resolve_still_stands(fresh, caplog):
    slack = fresh
    triage_in_channel(slack)
    slack.fake.fail_next("chat.update", status=400, times=10)  # Slack refuses every edit
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    resolve_in_modal(slack, oid)
    slack.fake.wait_for(lambda f: f.of("views.publish"))
    row = next(r for r in slack.demo.rows("Assignments") if r["Order ID"] == oid)
    assert row["Status"] == "RESOLVED"
    assert not slack.fake.of("chat.update")  # every attempt failed, and nothing was raised
    assert slack.fake.wait_for(lambda f: "chat.update of" in caplog.text)


def test_a_re_triage_with_one_new_order_posts_at_most_two_messages(fresh):
    slack = fresh
    triage_in_channel(slack)
    first = len(posts(slack.fake))
    assert first > 2  # a first triage: the summary and a thread per agent
    with sqlite3.connect(slack.demo.path / "warehouse.db") as conn:
        conn.row_factory = sqlite3.Row
        open_ids = {r["Order ID"] for r in slack.demo.rows("Assignments")}
        row = next(
            dict(r)
            for r in conn.execute("SELECT * FROM orders ORDER BY order_id")
            if r["order_id"] in open_ids
        )
        row["order_id"] = "ZZ000NEW01"
        cols = ", ".join(row)
        conn.execute(
            f"INSERT INTO orders ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
    triage_in_channel(slack)
    again = posts(slack.fake)[first:]
    assert 1 <= len(again) <= 2, [p.get("text") for p in again]
    text = json.dumps(again, ensure_ascii=False)
    assert "ZZ000NEW01" in text and "ECM Triage" in text
    if len(again) == 2:  # the summary, and the one thread of the agent who got it
        assert "your queue changed: 1 new" in text
    assert_valid(again)


def test_a_re_triage_that_changes_nothing_edits_the_last_summary_and_posts_nothing(fresh):
    slack = fresh
    triage_in_channel(slack)
    first = len(posts(slack.fake))
    summary = refs(slack).latest("triage_summary", channel="COPS")
    triage_in_channel(slack)
    assert len(posts(slack.fake)) == first  # no new message at all
    (edit,) = updates_of(slack.fake, summary.ts)
    assert "Re-checked" in json.dumps(edit["blocks"], ensure_ascii=False)
    assert_valid([edit])
    triage_in_channel(slack)  # and again: the same line is replaced, not added
    last = updates_of(slack.fake, summary.ts)[-1]
    assert json.dumps(last["blocks"]).count("Re-checked") == 1
    resolve_in_modal(slack, slack.demo.tickets_of(SARAH)[0]["Order ID"])
    # the re-checked summary stands for the latest run: its progress line follows it
    edits = slack.fake.wait_for(lambda f: updates_of(f, summary.ts)[2:])
    assert " resolved" in json.dumps(edits[0]["blocks"], ensure_ascii=False)


def test_message_references_round_trip_on_each_engine(engine_env, tmp_path):
    db = open_stores(tmp_path, env=engine_env).db
    messages = SlackMessages(db)
    blocks = [
        {"type": "section", "block_id": "item:1:AE1", "text": {"type": "mrkdwn", "text": "x"}}
    ]
    messages.record(Posted("C1", "1.1", "triage_summary", run_id="r1", blocks=[]))
    messages.record(
        Posted("C1", "1.2", "agent_thread", "r1", "Sarah@X", "", "1.1", "t", blocks), ["AE1", "AE2"]
    )
    messages.record(Posted("D1", "2.1", "dm_queue", agent="sarah@x", blocks=blocks), ["AE1"])
    assert [m.ts for m in messages.showing("AE1")] == ["1.2", "2.1"]
    assert [m.ts for m in messages.of_run("r1")] == ["1.1"]
    thread = messages.latest("agent_thread", channel="C1", agent="sarah@x")
    assert thread is not None and thread.blocks == blocks and thread.thread_ts == "1.1"
    messages.edited("C1", "1.2", [], "done")
    assert messages.showing("AE2")[0].text == "done"
    messages.record(Posted("C1", "1.2", "agent_thread", "r1", "sarah@x"), ["AE3"])  # reposted
    assert not messages.showing("AE2") and messages.showing("AE3")


def test_a_manager_triage_summary_data_says_how_each_ticket_changed(triaged):
    data = triaged.run(MANAGER, "triage-and-assign").data
    changes = {t["change"] for a in data["agents"] for t in a["tickets"]}
    assert changes == {"kept"} and data["closed"] == []


def test_a_reassignment_marks_the_ticket_moved_in_the_old_agents_thread(fresh):
    slack = fresh
    triage_in_channel(slack)
    thread = refs(slack).latest("agent_thread", channel="COPS", agent=SARAH)
    assert thread is not None
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    slack.mention(MAYA, f"assign {oid} <@U0JAMES007> confirm partner desk backlog")
    fake = slack.fake
    (edit,) = fake.wait_for(lambda f: updates_of(f, thread.ts))
    item = next(b for b in edit["blocks"] if b.get("block_id", "").endswith(":" + oid))
    assert item["text"]["text"].startswith("↪️ Moved to <@U0JAMES007>")
    assert "accessory" not in item
    published = fake.wait_for(
        lambda f: {SARAH_ID, "U0JAMES007", MAYA} <= {p["user_id"] for p in f.of("views.publish")}
    )
    assert published
    assert_valid([edit])
