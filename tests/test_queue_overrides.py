"""Overrides that stick, the edge cases, and queue messages that keep their flags when edited:
assigning a ticket to the agent who holds it pins it there; a sheet edit of a pinned ticket's
agent moves the pin; after an override the new owner's thread reply gains the ticket; an
edit after a snooze or a take shows the ticket's status flag as the first render does. The
real Bolt app over signed HTTP against the fake Slack Web API (payloads checked by slack_sdk),
and both engines of the system of record where the state is the point."""

from __future__ import annotations

import json

import pytest
from conftest import MANAGER, SARAH
from fake_sheets import FakeSheets
from slack_harness import buttons_of
from test_pins_slack import (
    JAMES,
    JAMES_ID,
    MAYA,
    SARAH_ID,
    TEAMS,
    assert_every_payload_valid,
    dms_to,
    triage_in_channel,
    updates_of,
)
from test_snooze_slack import NOTE, values
from test_take_slack import (  # noqa: F401 - short_staffed_triaged is a fixture
    agents_for,
    click_take,
    listed_order,
    set_capacity,
    short_staffed_triaged,
    unassigned_list,
)

from bot.errors import Conflict
from bot.stores.pins import Pins
from bot.stores.sheets_grid import SheetsGrid
from bot.stores.slack_messages import SlackMessages
from bot.stores.workbook import TAB_COLUMNS
from bot.sync.sheets_sync import SheetSync


@pytest.fixture
def slack(untriaged_slack):
    """The app on seeded, not yet triaged data: the first triage threads every agent."""
    return untriaged_slack


def owner(demo, oid: str) -> str:
    return demo.stores.workbook.find("Assignments", oid)["Assigned Agent"]


def item_block(blocks: list[dict], oid: str) -> dict:
    return next(
        b for b in blocks if b["type"] == "section" and b.get("block_id", "").endswith(":" + oid)
    )


def sarahs_fitting_james(demo) -> str:
    return next(r["Order ID"] for r in demo.tickets_of(SARAH) if TEAMS[r["Stuck Reason"]] == "ops")


# -- 1(a) assigning a ticket to its owner --------------------------------------------------------
def test_assigning_a_ticket_to_its_owner_pins_it_there_and_says_so(slack):
    fake, demo = slack.fake, slack.demo
    triage_in_channel(slack)
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    assert Pins(demo.stores.db).get(oid) is None

    slack.mention(MAYA, f"assign {oid} <@{SARAH_ID}> she knows the partner desk")
    said = fake.wait_for(
        lambda f: [
            p for p in f.of("chat.postMessage") if p.get("thread_ts") and "stays" in p["text"]
        ]
    )[0]
    assert said["channel"] == "COPS"
    text = json.dumps(said["blocks"], ensure_ascii=False)
    assert f"`{oid}`" in text and f"stays <@{SARAH_ID}>'s, now pinned" in text
    assert f"`unpin {oid}`" in text
    pin = Pins(demo.stores.db).get(oid)
    assert pin is not None and pin.agent == SARAH and pin.pinned_by == MANAGER
    assert owner(demo, oid) == SARAH
    actions = [a["action"] for a in demo.stores.state.audit_entries(oid)]
    assert actions[-1] == "pin"
    (told,) = fake.wait_for(lambda f: [p for p in dms_to(f, SARAH_ID) if oid in p["text"]])
    assert told["text"].startswith(f"📌 <@{MAYA}> pinned `{oid}`")
    assert "moved" not in told["text"]  # nothing left her queue

    # a second time there is nothing to do: said privately, nothing written
    before = demo.stores.state.audit_entries(oid)
    slack.mention(MAYA, f"assign {oid} <@{SARAH_ID}> once more")
    (again,) = fake.wait_for(lambda f: f.of("chat.postEphemeral"))
    assert again["user"] == MAYA and "already assigned and pinned" in again["text"]
    assert demo.stores.state.audit_entries(oid) == before

    triage_in_channel(slack)
    assert owner(demo, oid) == SARAH and Pins(demo.stores.db).get(oid).agent == SARAH
    assert_every_payload_valid(fake)


def test_keeping_an_owner_pins_on_each_engine_and_refuses_a_ticket_that_moved(on_engine):
    demo = on_engine
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    reply = demo.chat(MANAGER, f"assign {oid} @sarah.ops she knows the partner desk")
    assert reply.result is not None and reply.result.data["kept"] is True
    assert Pins(demo.stores.db).get(oid).agent == SARAH
    with pytest.raises(Conflict, match="already assigned and pinned"):
        demo.chat(MANAGER, f"assign {oid} @sarah.ops again")
    assert [a["action"] for a in demo.stores.state.audit_entries(oid)].count("pin") == 1


# -- 1(b) a sheet edit moves the pin -----------------------------------------------------------
@pytest.fixture
def sheets():
    with FakeSheets() as server:
        server.add_workbook_tabs()
        yield server


def test_a_sheet_edit_of_a_pinned_tickets_agent_moves_the_pin(on_engine, sheets):
    demo = on_engine
    sync = SheetSync(demo.stores, SheetsGrid.from_env(sheets.env(), backoff_factor=0.01))
    assert sync.run_once().skipped is None
    oid = sarahs_fitting_james(demo)
    demo.chat(MANAGER, f"assign {oid} @james.ops confirm partner desk backlog")
    assert Pins(demo.stores.db).get(oid).agent == JAMES
    sync.run_once()  # the move reaches the sheet

    column = TAB_COLUMNS["Assignments"].index("Assigned Agent") + 1
    sheets.set_cell("Assignments", sheets.find_row("Assignments", "Order ID", oid), column, SARAH)
    report = sync.run_once()
    assert report.pulled and not report.rejected
    assert owner(demo, oid) == SARAH
    pin = Pins(demo.stores.db).get(oid)
    assert pin is not None and pin.agent == SARAH and pin.pinned_by == "sheet"
    assert JAMES in pin.reason
    moved = [
        a for a in demo.stores.state.audit_entries(f"order:{oid}") if a["action"] == "pin_moved"
    ]
    assert len(moved) == 1 and moved[0]["actor"] == "sheet"

    demo.run(MANAGER, "triage-and-assign")  # the pin holds: the ticket stays where the sheet put it
    assert owner(demo, oid) == SARAH and Pins(demo.stores.db).get(oid).agent == SARAH


def test_a_sheet_edit_of_an_unpinned_ticket_pins_nothing(on_engine, sheets):
    demo = on_engine
    sync = SheetSync(demo.stores, SheetsGrid.from_env(sheets.env(), backoff_factor=0.01))
    sync.run_once()
    oid = sarahs_fitting_james(demo)
    column = TAB_COLUMNS["Assignments"].index("Assigned Agent") + 1
    sheets.set_cell("Assignments", sheets.find_row("Assignments", "Order ID", oid), column, JAMES)
    assert sync.run_once().pulled
    assert owner(demo, oid) == JAMES and Pins(demo.stores.db).get(oid) is None


# -- 1(c) the new owner's thread reply -----------------------------------------------------------
def test_after_an_override_both_agents_thread_replies_and_queues_change(slack):
    fake, demo = slack.fake, slack.demo
    triage_in_channel(slack)
    refs = SlackMessages(demo.stores.db)
    oid = sarahs_fitting_james(demo)
    hers = refs.latest("agent_thread", channel="COPS", agent=SARAH)
    his = refs.latest("agent_thread", channel="COPS", agent=JAMES)
    assert hers is not None and his is not None and hers.thread_ts == his.thread_ts
    assert oid in json.dumps(hers.blocks) and oid not in json.dumps(his.blocks)

    slack.mention(MAYA, f"assign {oid} <@{JAMES_ID}> confirm partner desk backlog")
    (old,) = fake.wait_for(lambda f: updates_of(f, hers.ts))
    assert item_block(old["blocks"], oid)["text"]["text"].startswith(f"↪️ Moved to <@{JAMES_ID}>")
    (new,) = fake.wait_for(lambda f: updates_of(f, his.ts))
    assert new["channel"] == "COPS"
    added = item_block(new["blocks"], oid)
    assert added["block_id"] == f"item:in:{oid}"
    first, second = added["text"]["text"].split("\n")[:2]
    assert first == f"📥 Moved in from <@{SARAH_ID}>" and f"`{oid}`" in second
    assert added["accessory"]["options"][0]["value"] == f"reassign:{oid}"
    assert new["blocks"][: len(his.blocks)] == his.blocks  # the rest of his reply as it was
    fake.wait_for(lambda f: his.ts in {m.ts for m in refs.showing(oid)})  # recorded

    # James resolves it: his thread reply marks it, as it would a ticket triage gave him
    slack.dm(JAMES_ID, f"resolve {oid} partner confirmed the payout by phone")
    edits = fake.wait_for(lambda f: len(updates_of(f, his.ts)) >= 2 and updates_of(f, his.ts))
    done = item_block(edits[-1]["blocks"], oid)["text"]["text"]
    assert done.startswith(f"✅ Resolved by <@{JAMES_ID}>") and f"`{oid}`" in done
    assert_every_payload_valid(fake)


# -- 5 flags in edited messages ----------------------------------------------------------------
def test_a_snooze_edits_the_queue_and_thread_to_show_the_waiting_flag(slack):
    fake, demo = slack.fake, slack.demo
    triage_in_channel(slack)
    refs = SlackMessages(demo.stores.db)
    slack.dm(SARAH_ID, "my tickets")
    queue = fake.wait_for(lambda f: refs.latest("dm_queue", agent=SARAH))
    thread = refs.latest("agent_thread", channel="COPS", agent=SARAH)
    oid = next(
        e["value"]
        for b in queue.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ticket_snooze"
    )
    assert oid in json.dumps(thread.blocks)
    meta = {"channel": f"D{SARAH_ID}", "order_id": oid}
    assert slack.submit(SARAH_ID, "snooze_submit", values("2h", NOTE), meta).status == 200

    for message in (queue, thread):
        (edit,) = fake.wait_for(lambda f, ts=message.ts: updates_of(f, ts))
        lines = item_block(edit["blocks"], oid)["text"]["text"].split("\n")
        assert " · ⏳ waiting until " in lines[0] and lines[0].endswith(" UTC")
        assert f"⏳ Snoozed: {NOTE}" in lines
        assert "ticket_snooze" not in buttons_of(edit["blocks"], oid)
    (queue_edit,) = updates_of(fake, queue.ts)
    assert {"ticket_details", "ticket_resolve"} <= set(buttons_of(queue_edit["blocks"], oid))
    assert_every_payload_valid(fake)


def test_a_take_redraws_the_takers_queue_with_the_in_progress_flag(
    short_staffed_triaged,  # noqa: F811
):
    slack = short_staffed_triaged
    listed = unassigned_list(slack)
    oid, team = listed_order(listed.blocks)
    (who, who_id), *_ = agents_for(slack.demo.stores, team)
    set_capacity(slack.demo.stores, 5, who)
    refs = SlackMessages(slack.demo.stores.db)
    slack.dm(who_id, "my tickets")
    queue = slack.fake.wait_for(lambda f: refs.latest("dm_queue", agent=who))
    assert oid not in json.dumps(queue.blocks)

    answer = click_take(slack, who_id, oid, listed.ts)
    assert "is yours now" in answer["text"]
    (edit,) = slack.fake.wait_for(lambda f: updates_of(f, queue.ts))
    assert edit["channel"] == f"D{who_id}"
    assert " · 🔧 in progress" in item_block(edit["blocks"], oid)["text"]["text"].split("\n")[0]
    assert_every_payload_valid(slack.fake)
