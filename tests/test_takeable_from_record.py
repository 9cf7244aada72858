""" "Unassigned you can take" comes from the system of record and the warehouse, not from posted
Slack lists: an order stuck after the last triage (no list ever posted) is offered to an agent
of its team and to nobody else, an owned order is not, a full queue says so, the order is the
latest triage's recorded priority then oldest first, "what can I take" answers in chat, and
App Home lists it with Take. On both engines of the system of record; the ticket reads are
index searches."""

from __future__ import annotations

import json
import re
import sqlite3

from conftest import DINESH, SARAH
from test_history_cost import SMALL, Steps, _copy, _history, _plans
from test_queue_take_eligibility import offered
from test_take_slack import set_capacity

from bot.paths import CONFIG_DIR
from bot.present import result_text
from bot.resources.files import load_yaml
from bot.stores.slack_messages import SlackMessages
from bot.stores.workbook import RowUpdate

NEW = "ZZ000NEW01"
OLDEST = "2020-01-01 00:00:00"


def stuck_after_triage(demo, oid: str = NEW, reason: str = "LULU_NOT_CONFIRMED") -> None:
    """A new order stuck (for an ops reason) in the warehouse after the last triage, stuck
    longer than any other."""
    with sqlite3.connect(demo.path / "warehouse.db") as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM orders WHERE status = 'STUCK' LIMIT 1").fetchone())
        row.update(order_id=oid, stuck_reason=reason, stuck_since=OLDEST, send_amount=321.0)
        cols = ", ".join(row)
        conn.execute(
            f"INSERT INTO orders ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
    conn.close()


def room_for(demo, email: str, extra: int = 5) -> None:
    """Give ``email`` room for ``extra`` more tickets than they hold."""
    held = len(demo.tickets_of(email, ("ASSIGNED", "IN_PROGRESS", "WAITING")))
    set_capacity(demo.stores, held + extra, email)


def teams_reasons(*teams: str) -> set[str]:
    """The stuck reasons whose team is one of ``teams``."""
    reasons = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]  # parsed once
    return {code for code, r in reasons.items() if r["team"] in teams}


def takeable(demo, who: str) -> dict:
    return demo.run(who, "takeable-orders").data


def test_an_order_stuck_after_the_last_triage_is_offered_to_its_team_only(on_engine):
    demo = on_engine
    stuck_after_triage(demo)
    room_for(demo, SARAH)  # ops, payments
    room_for(demo, DINESH)  # kyc, compliance
    mine = takeable(demo, SARAH)
    assert not mine["full"] and mine["orders"][0]["order_id"] == NEW
    assert mine["orders"][0] == {
        "order_id": NEW,
        "priority": "",
        "reason_code": "LULU_NOT_CONFIRMED",
        "team": "ops",
        "amount": 321.0,
        "currency": mine["orders"][0]["currency"],
        "hours": mine["orders"][0]["hours"],
    }
    assert mine["orders"][0]["hours"] > 24 * 365
    theirs = takeable(demo, DINESH)
    assert NEW not in {o["order_id"] for o in theirs["orders"]}
    assert {o["team"] for o in theirs["orders"]} <= {"kyc", "compliance"}

    reply = demo.chat(SARAH, "what can I take?")  # the chat form, no App Home
    assert reply.result is not None and reply.result.skill == "takeable-orders"
    text = result_text(reply.result)
    assert "Unassigned you can take" in text and NEW in text


def test_an_owned_order_is_not_offered(on_engine):
    demo = on_engine
    stuck_after_triage(demo)
    room_for(demo, SARAH)
    room_for(demo, "james.ops@example.com")
    owned = {
        r["Order ID"]
        for r in demo.rows("Assignments")
        if r["Assigned Agent"] and r["Status"] in ("ASSIGNED", "IN_PROGRESS", "WAITING")
    }
    assert owned
    before = {o["order_id"] for o in takeable(demo, SARAH)["orders"]}
    assert NEW in before and not before & owned
    taken = demo.run("james.ops@example.com", "take-ticket", order_id=NEW)
    assert taken.data["order_id"] == NEW
    after = takeable(demo, SARAH)
    assert NEW not in {o["order_id"] for o in after["orders"]}


def test_an_agent_at_capacity_is_told_their_queue_is_full(on_engine):
    demo = on_engine
    stuck_after_triage(demo)
    held = len(demo.tickets_of(SARAH, ("ASSIGNED", "IN_PROGRESS", "WAITING")))
    set_capacity(demo.stores, held, SARAH)
    result = demo.run(SARAH, "takeable-orders")
    assert result.data["full"] and result.data["orders"] == []
    assert f"Your queue is full ({held} of {held})" in result_text(result)


def test_the_latest_triages_priority_comes_first_then_the_oldest(on_engine):
    demo = on_engine
    stuck_after_triage(demo)
    room_for(demo, SARAH)
    latest = demo.stores.state.last_triage_run()["id"]
    ops = [
        r
        for r in demo.rows("Assignments")
        if r["Triage Run"] == latest
        and r["Stuck Reason"] in teams_reasons("ops", "payments")
        and r["Assigned Agent"] != SARAH
    ]
    ops = sorted(ops, key=lambda r: r["Priority"])
    released, older = ops[-1], ops[0]  # the least urgent one stays ranked
    demo.stores.workbook.update(
        "Assignments",
        [
            RowUpdate(released["Order ID"], {"Assigned Agent": ""}),  # an open row, nobody on it
            # closed by an earlier triage's row: its priority is not the latest triage's
            RowUpdate(older["Order ID"], {"Status": "CLOSED", "Triage Run": "an-older-run"}),
        ],
    )
    data = takeable(demo, SARAH)
    ids = [o["order_id"] for o in data["orders"]]
    assert ids[0] == released["Order ID"]
    assert data["orders"][0]["priority"] == released["Priority"]
    assert ids[1] == NEW  # the oldest of those the latest triage gave no priority
    assert older["Order ID"] in ids or data["more"] > 0
    rest = [o for o in data["orders"] if not o["priority"]]
    assert [o["hours"] for o in rest] == sorted((o["hours"] for o in rest), reverse=True)
    assert all(o["priority"] == "" for o in data["orders"] if o["order_id"] == older["Order ID"])


def test_it_shows_five_and_says_how_many_more_bounded(on_engine):
    demo = on_engine
    for i in range(205):  # more than a page of candidates, all older than the demo's
        stuck_after_triage(demo, f"ZZ{i:08d}")
    room_for(demo, SARAH)
    result = demo.run(SARAH, "takeable-orders")
    data = result.data
    assert [o["order_id"] for o in data["orders"]] == [f"ZZ{i:08d}" for i in range(5)]
    assert data["more"] == 195 and not data["more_is_exact"]  # one page read: 200 of them
    assert "… and at least 195 more" in result_text(result)


def test_the_ticket_reads_are_index_searches(tmp_path, registry, triaged_dir, monkeypatch):
    demo = _copy(triaged_dir, tmp_path / "d", registry)
    _history(demo, SMALL)
    stuck_after_triage(demo)
    room_for(demo, SARAH)
    takeable(demo, SARAH)  # warm
    steps = Steps(demo, monkeypatch)
    assert NEW in {o["order_id"] for o in takeable(demo, SARAH)["orders"]}
    plans = _plans(demo, list(steps.statements))
    assert plans
    scans = [p for p in plans if re.search(r"\bSCAN (assignments|resolutions)\b", p)]
    assert not scans, scans


def test_app_home_lists_it_with_take_though_no_list_was_posted(slack):
    from test_home_dashboard import open_home

    demo = slack.demo
    assert SlackMessages(demo.stores.db).latest("triage_list", agent="unassigned") is None
    stuck_after_triage(demo)
    room_for(demo, SARAH)
    home = open_home(slack, "U0SARAH003")
    mine = offered(home)
    assert mine.get(NEW) == "ops" and len(mine) <= 5
    labels = [
        e.get("accessibility_label")
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ticket_take" and e["value"] == NEW
    ]
    assert labels == [f"Take order {NEW} into your queue"]
    assert "Unassigned you can take" in json.dumps(home, ensure_ascii=False)
