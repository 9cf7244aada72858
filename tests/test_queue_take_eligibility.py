"""Take only for those who can: the channel's list is the same for everyone, so a field agent
sees, on their own App Home, the orders the latest triage offered that they can take now
(their team, nobody on it, room in their queue) under "Unassigned you can take", with Take; an
agent of other teams sees none of them, a full queue says so, and a Take from Home gives the
order and redraws the Home. (A click on the channel's Take by someone who cannot take it is
answered privately, saying why: tests/test_take_slack.py.) The real Bolt app over signed HTTP
against the fake Slack Web API, on both engines."""

from __future__ import annotations

import json
import re

from test_home_dashboard import home_click, open_home, published
from test_slack_blocks import assert_view_within_limits, sdk_validates
from test_slack_live import triage_in_channel
from test_take_slack import (  # noqa: F401 - short_staffed is a fixture
    agents_for,
    listed_order,
    set_capacity,
    short_staffed,
    unassigned_list,
)

HEADING = "Unassigned you can take"


def offered(view: dict) -> dict[str, str]:
    """The orders with Take below the "Unassigned you can take" heading, with their teams."""
    blocks = view["blocks"]
    at = next(
        (i for i, b in enumerate(blocks) if HEADING in json.dumps(b, ensure_ascii=False)), None
    )
    if at is None:
        return {}
    takes = {
        e["value"]
        for b in blocks[at:]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ticket_take"
    }
    return {
        oid: re.search(r"\(needs (\w+)\)", b["text"]["text"]).group(1)
        for b in blocks[at:]
        if b["type"] == "section" and (oid := b.get("block_id", "").split(":")[-1]) in takes
    }


def specializations(stores, email: str) -> set[str]:
    row = next(a for a in stores.workbook.read("Agents") if a["email"] == email)
    return set(str(row["specializations"]).split(","))


def test_a_field_agent_sees_what_they_can_take_on_app_home_and_takes_it(short_staffed):  # noqa: F811
    slack = short_staffed
    stores = slack.demo.stores
    triage_in_channel(slack)
    oid, team = listed_order(unassigned_list(slack).blocks)
    (who, who_id), *_ = agents_for(stores, team)
    set_capacity(stores, 5, who)

    home = open_home(slack, who_id)
    assert_view_within_limits(home)
    sdk_validates(home["blocks"])
    text = json.dumps(home, ensure_ascii=False)
    assert f"🙋 *{HEADING}*" in text and "room for 4 more" in text
    mine = offered(home)
    assert oid in mine and len(mine) <= 5
    owned = {r["Order ID"] for r in stores.workbook.read("Assignments") if r["Assigned Agent"]}
    assert set(mine.values()) <= specializations(stores, who)  # only their teams' orders
    assert not set(mine) & owned  # that nobody has
    labels = [
        e["accessibility_label"]
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ticket_take"
    ]
    assert f"Take order {oid} into your queue" in labels

    home_click(slack, who_id, "ticket_take", oid)
    told = slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{who_id}"]
    )[0]
    assert told["text"].startswith(f"🙋 {oid} is yours now")
    assert stores.workbook.find("Assignments", oid)["Assigned Agent"] == who
    again = published(slack, who_id, 2)  # the Home is redrawn: it is in their queue now
    assert oid not in offered(again) and oid in json.dumps(again["blocks"])
    sdk_validates(again["blocks"])


def test_other_teams_see_none_of_it_and_a_full_queue_says_so(short_staffed):  # noqa: F811
    slack = short_staffed
    stores = slack.demo.stores
    triage_in_channel(slack)
    oid, team = listed_order(unassigned_list(slack).blocks)
    (stranger, stranger_id), *_ = agents_for(stores, team, fits=False)
    set_capacity(stores, 5, stranger)
    seen = offered(open_home(slack, stranger_id))
    assert oid not in seen and set(seen.values()) <= specializations(stores, stranger)

    (busy, busy_id), *_ = agents_for(stores, team)  # capacity one, one ticket from triage
    full = open_home(slack, busy_id)
    assert offered(full) == {}
    assert "🙋 Your queue is full (1 of 1)" in json.dumps(full, ensure_ascii=False)
    sdk_validates(full["blocks"])
