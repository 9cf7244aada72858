"""Block Kit rendering: real skill results become messages, modals and App Home views that stay
within Slack's limits and never let data text turn into a mention or a link."""

from __future__ import annotations

import copy
import html
import json

import pytest
from conftest import MANAGER, SARAH

from bot.present import as_view
from bot.present import field as field_views
from bot.present import manager as manager_views
from bot.runtime.roster import Roster
from bot.slack import views
from bot.slack.blocks import kit
from bot.slack.blocks.render import messages

HOSTILE = "<!here> <@U999> <http://evil.example|click>"

# ---------------------------------------------------------------- limit checks


def _text_len(obj: dict | None) -> int:
    return len((obj or {}).get("text", ""))


def _check_option(option: dict) -> None:
    assert 0 < _text_len(option["text"]) <= 75
    assert 0 < len(option["value"]) <= 150


def _check_element(element: dict) -> None:
    assert len(element.get("action_id", "")) <= 255
    kind = element["type"]
    if kind == "button":
        assert 0 < _text_len(element["text"]) <= 75
        assert len(element.get("value", "")) <= 2000
        assert element.get("style") in (None, "primary", "danger")
    elif kind == "overflow":
        assert 1 <= len(element["options"]) <= 5
        for option in element["options"]:
            _check_option(option)
    elif kind == "static_select":
        assert 1 <= len(element["options"]) <= 100
        for option in element["options"]:
            _check_option(option)
    elif kind == "plain_text_input":
        assert len(element.get("initial_value", "")) <= 3000
    else:
        raise AssertionError(f"unexpected element type {kind}")


def assert_within_limits(blocks: list[dict], max_blocks: int) -> None:
    """Every block count, id and text length Slack checks on raw dicts."""
    assert 0 < len(blocks) <= max_blocks, len(blocks)
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "duplicate block_id"
    for block in blocks:
        assert len(block.get("block_id", "")) <= 255
        kind = block["type"]
        if kind == "section":  # text, or fields (the dashboard's counts), or both
            assert "text" in block or block.get("fields")
            if "text" in block:
                assert block["text"]["text"].strip() and _text_len(block["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(0 < _text_len(f) <= 2000 for f in block.get("fields", []))
            if "accessory" in block:
                _check_element(block["accessory"])
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in block["elements"])
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids)), "duplicate action_id in one actions block"
            for element in block["elements"]:
                _check_element(element)
        elif kind == "header":
            assert 0 < _text_len(block["text"]) <= 150
        elif kind == "input":
            assert 0 < _text_len(block["label"]) <= 2000
            _check_element(block["element"])
        else:
            assert kind == "divider", kind


def assert_view_within_limits(view: dict) -> None:
    assert_within_limits(view["blocks"], 100)
    if view["type"] == "modal":
        for key in ("title", "submit", "close"):  # a read-only modal has no submit
            assert key == "submit" and key not in view or 0 < _text_len(view[key]) <= 24
        assert len(view["callback_id"]) <= 255
        assert len(view["private_metadata"]) <= 3000


def sdk_validates(blocks: list[dict]) -> None:
    """slack_sdk's own validators agree (they run on model objects, not on raw dicts)."""
    from slack_sdk.models.blocks import Block

    for block in Block.parse_all(blocks):
        block.validate_json()


def all_blocks(pages: list[list[dict]]) -> list[dict]:
    return [b for page in pages for b in page]


def elements(blocks: list[dict]) -> list[dict]:
    found = []
    for b in blocks:
        found += b.get("elements", []) if b["type"] == "actions" else []
        found += [b["accessory"]] if "accessory" in b else []
        found += [b["element"]] if "element" in b else []
    return found


def slack_ids(demo) -> dict[str, str]:
    return {m.email: m.slack_id for m in Roster.load(demo.stores.workbook).members}


def summary(data: dict, ids: dict[str, str]) -> list[dict]:
    """The triage channel post (one message) as Slack gets it."""
    (page,) = messages(manager_views.triage(data), ids.get)
    return page


def thread(agent: dict, ids: dict[str, str]) -> list[list[dict]]:
    return messages(manager_views.agent_thread(agent), ids.get)


def queue_pages(data: dict) -> list[list[dict]]:
    return messages(field_views.my_tickets(data))


def order_pages(data: dict) -> list[list[dict]]:
    return messages(field_views.order_details(data))


def resolve_buttons(blocks: list[dict]) -> list[dict]:
    return [
        e for b in blocks for e in b.get("elements", []) if e.get("action_id") == "ticket_resolve"
    ]


def sixty_tickets(queue: dict) -> dict:
    tickets = (queue["tickets"] * (60 // len(queue["tickets"]) + 1))[:60]
    return {**queue, "count": 60, "tickets": copy.deepcopy(tickets)}


# ---------------------------------------------------------------- text


def test_escape_makes_broadcasts_mentions_and_links_inert():
    assert kit.escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"
    assert kit.escape("<http://x|y>") == "&lt;http://x|y&gt;"
    assert kit.escape(None) == ""
    assert kit.escape(42) == "42"


def test_paginate_splits_blocks_into_messages_of_at_most_the_limit():
    blocks = [{"type": "divider"} for _ in range(120)]
    assert [len(p) for p in kit.paginate(blocks)] == [50, 50, 20]
    assert [len(p) for p in kit.paginate(blocks, 100)] == [100, 20]
    assert kit.paginate([]) == []


def test_a_twenty_thousand_character_text_splits_into_sections_of_at_most_3000():
    lines = [f"line {i} " + "x" * (i % 170) for i in range(240)]
    text = "\n".join(lines) + "\n" + "&<" * 2600  # one line far too long once escaped
    assert len(text) > 20_000
    pages = kit.text_messages(text)
    sections = all_blocks(pages)
    assert len(sections) >= 8
    for page in pages:
        assert_within_limits(page, 50)
    joined = "".join(html.unescape(s["text"]["text"]) for s in sections)
    assert joined.replace("\n", "") == text.replace("\n", "")  # nothing lost, no entity cut
    texts = [s["text"]["text"] for s in sections]
    assert all(any(line in t.split("\n") for t in texts) for line in lines)  # split between lines


# ---------------------------------------------------------------- manager: triage


def test_triage_summary_mentions_agents_and_offers_dashboard_and_override(triaged):
    result = triaged.run(MANAGER, "triage-and-assign")
    data = result.data
    ids = slack_ids(triaged)
    blocks = summary(data, ids)
    assert_within_limits(blocks, 50)
    sdk_validates(blocks)
    text = json.dumps(blocks, ensure_ascii=False)
    assert f"ECM Triage — {data['counts']['assigned']} tickets assigned" in text
    first = data["agents"][0]
    assert f"<@{ids[first['agent']]}> — {len(first['tickets'])} tickets" in text
    buttons = {e["action_id"]: e for e in elements(blocks)}
    assert set(buttons) == {"dashboard_view", "override_open"}
    assert buttons["override_open"]["value"] == data["run_id"]
    assert "dry run" not in text


def test_triage_summary_falls_back_to_the_handle_and_marks_a_dry_run(triaged):
    data = triaged.run(MANAGER, "triage-and-assign", dry_run=True).data
    text = json.dumps(summary(data, {}), ensure_ascii=False)
    assert "<@" not in text
    assert f"@{data['agents'][0]['agent'].split('@')[0]} —" in text
    assert "dry run" in text


def test_a_malformed_slack_id_on_the_roster_is_not_trusted_as_a_mention(triaged):
    data = triaged.run(MANAGER, "triage-and-assign").data
    ids = {data["agents"][0]["agent"]: "U1><!channel"}
    text = json.dumps(summary(data, ids))
    assert "<!channel" not in text


def test_triage_summary_with_hundreds_of_agents_stays_within_fifty_blocks(triaged):
    data = triaged.run(MANAGER, "triage-and-assign").data
    many = [
        {**data["agents"][0], "agent": f"agent{i:04d}.with.a.long.name@example.com"}
        for i in range(3000)
    ]
    blocks = summary({**data, "agents": many}, {})
    assert_within_limits(blocks, 50)
    assert "more agents" in json.dumps(blocks)


def test_agent_thread_offers_reassign_on_every_ticket(triaged):
    data = triaged.run(MANAGER, "triage-and-assign").data
    ids = slack_ids(triaged)
    assert data["agents"]
    for agent in data["agents"]:
        pages = thread(agent, ids)
        for page in pages:
            assert_within_limits(page, 50)
            sdk_validates(page)
        first = pages[0][0]["text"]["text"]
        assert first.startswith(f"<@{ids[agent['agent']]}> — your {len(agent['tickets'])} tickets")
        menus = [e for e in elements(all_blocks(pages)) if e["type"] == "overflow"]
        assert all(m["action_id"] == "ticket_overflow" for m in menus)
        values = [m["options"][0]["value"] for m in menus]
        assert values == [f"reassign:{t['order_id']}" for t in agent["tickets"]]


def test_agent_thread_line_shows_priority_order_amount_hours_reason_and_steps():
    agent = {
        "agent": "sarah.ops@example.com",
        "tickets": [
            {
                "order_id": "AE136ABC00",
                "priority": "P1",
                "amount": 721.3,
                "currency": "AED",
                "hours": 14.2,
                "reason": "LULU_NOT_CONFIRMED",
                "actions": ["Check Checkout", "Check LULU", "Replay webhook"],
            }
        ],
    }
    pages = thread(agent, {})
    assert pages[0][0]["text"]["text"].startswith("@sarah.ops — your 1 tickets")
    assert pages[0][1]["text"]["text"] == (
        "*P1* | `AE136ABC00` | 721 AED | 14h | LULU_NOT_CONFIRMED → "
        "1) Check Checkout 2) Check LULU 3) Replay webhook"
    )


# ---------------------------------------------------------------- field: queue and order


def test_queue_shows_each_ticket_with_details_resolve_escalate_and_snooze(triaged):
    data = triaged.run(SARAH, "my-tickets").data
    pages = queue_pages(data)
    blocks = all_blocks(pages)
    for page in pages:
        assert_within_limits(page, 50)
        sdk_validates(page)
    assert f"{data['count']} open" in blocks[0]["text"]["text"]
    actions = [b for b in blocks if b["type"] == "actions"]
    *per_ticket, more = actions
    assert len(per_ticket) == min(10, len(data["tickets"]))  # the top ten fit a phone
    for block, ticket in zip(per_ticket, data["tickets"], strict=False):
        by_id = {e["action_id"]: e for e in block["elements"]}
        oid = ticket["order_id"]
        assert set(by_id) == {
            "ticket_details",
            "ticket_resolve",
            "ticket_escalate",
            "ticket_snooze",
        }
        assert {e["value"] for e in block["elements"]} == {oid}
        # one primary button per ticket, and no danger outside a confirmation
        assert [e.get("style") for e in block["elements"]] == [None, "primary", None, None]
        assert [e["accessibility_label"] for e in block["elements"]] == [
            f"Details of order {oid}",
            f"Resolve order {oid}",
            f"Escalate order {oid}",
            f"Snooze order {oid}",
        ]
    (show_more,) = more["elements"]
    assert show_more["action_id"] == "tickets_more" and show_more["value"] == "11"
    assert show_more["text"]["text"] == f"Show more ({len(data['tickets']) - 10})"
    diagnosis = data["tickets"][0]["diagnosis"]
    assert any(b["type"] == "context" and diagnosis in b["elements"][0]["text"] for b in blocks)


def test_a_queue_of_sixty_tickets_shows_ten_in_one_message_then_pages_on(triaged):
    data = sixty_tickets(triaged.run(SARAH, "my-tickets").data)
    pages = queue_pages(data)
    assert len(pages) == 1  # ten tickets and Show more fit one message
    for page in pages:
        assert_within_limits(page, 50)
        # a ticket's buttons are in the same message as the ticket they act on
        for i, block in enumerate(page):
            if block["type"] == "actions":
                assert any(b["type"] == "section" for b in page[:i])
    assert len(resolve_buttons(all_blocks(pages))) == 10
    data["offset"] = 50  # the last page: no Show more
    last = all_blocks(queue_pages(data))
    assert len(resolve_buttons(last)) == 10 and "tickets_more" not in json.dumps(last)


def test_queue_flags_show_tickets_in_progress(triaged):
    data = triaged.run(SARAH, "my-tickets").data
    data["tickets"][0]["status"] = "IN_PROGRESS"
    blocks = all_blocks(queue_pages(data))
    items = [b["text"]["text"] for b in blocks if b.get("block_id", "").startswith("item:")]
    assert items[0].endswith("· 🔧 in progress") and "in progress" not in items[1]


def test_an_empty_queue_is_one_friendly_section():
    pages = queue_pages({"count": 0, "by_priority": {}, "tickets": [], "live_error": None})
    assert len(pages) == 1 and len(pages[0]) == 1
    assert pages[0][0]["type"] == "section" and "No open tickets" in pages[0][0]["text"]["text"]


def test_order_details_shows_facts_timeline_runbook_and_resolve_escalate(triaged):
    oid = triaged.run(SARAH, "my-tickets").data["tickets"][0]["order_id"]
    data = triaged.run(SARAH, "order-details", order_id=oid).data
    assert data["runbook"]
    pages = order_pages(data)
    for page in pages:
        assert_within_limits(page, 50)
        sdk_validates(page)
    blocks = all_blocks(pages)
    text = json.dumps(blocks, ensure_ascii=False)
    assert oid in blocks[0]["text"]["text"]
    assert "Timeline" in text and data["timeline"][-1]["event_type"] in text
    assert f"Runbook — {data['reason']['code']}" in text
    assert "**" not in text  # Markdown bold became mrkdwn bold
    # a short summary, then the actions; the runbook follows
    kinds = [b["type"] for b in blocks]
    first_actions = kinds.index("actions")
    runbook_at = next(
        i for i, b in enumerate(blocks) if "Runbook —" in json.dumps(b, ensure_ascii=False)
    )
    assert first_actions <= 2 < runbook_at
    buttons = blocks[first_actions]["elements"]
    assert [e["action_id"] for e in buttons] == [
        "ticket_resolve",
        "ticket_escalate",
        "ticket_snooze",
    ]
    assert buttons[1]["value"] == oid and buttons[1].get("style") is None
    resolve = json.loads(buttons[0]["value"])  # the runbook's resolution-note template
    assert resolve == {"order_id": oid, "note": data["note_template"]} and data["note_template"]
    assert kinds.count("actions") == 1


def test_a_long_runbook_is_split_into_sections_and_pages(triaged):
    oid = triaged.run(SARAH, "my-tickets").data["tickets"][0]["order_id"]
    data = triaged.run(SARAH, "order-details", order_id=oid).data
    data["runbook"] = "\n".join([data["runbook"]] * 40)  # ~200,000 characters
    pages = order_pages(data)
    assert len(pages) >= 2
    for page in pages:
        assert_within_limits(page, 50)


def test_hostile_ticket_text_never_reaches_slack_unescaped(triaged):
    triage = triaged.run(MANAGER, "triage-and-assign").data
    queue_data = triaged.run(SARAH, "my-tickets").data
    oid = queue_data["tickets"][0]["order_id"]
    order = triaged.run(SARAH, "order-details", order_id=oid).data
    for t in [t for a in triage["agents"] for t in a["tickets"]] + queue_data["tickets"]:
        t.update(reason=HOSTILE, diagnosis=HOSTILE, actions=[HOSTILE], note=HOSTILE)
        t["currency"] = HOSTILE
    for a in triage["agents"]:
        a["agent"] = HOSTILE + "@example.com"
        a["by_priority"] = {HOSTILE: 1}
    queue_data["live_error"] = HOSTILE
    order["reason"].update(code=HOSTILE, title=HOSTILE, escalate_to=HOSTILE, actions=[HOSTILE])
    order.update(diagnosis=HOSTILE, checks=[HOSTILE], runbook=f"# {HOSTILE}\n**{HOSTILE}**")
    order["order"].update(corridor=HOSTILE, payout_partner=HOSTILE, status=HOSTILE)
    for e in order["timeline"]:
        e.update(detail=HOSTILE, system=HOSTILE, event_type=HOSTILE)

    rendered = [
        summary(triage, {}),
        [thread(a, {}) for a in triage["agents"]],
        queue_pages(queue_data),
        order_pages(order),
        order_pages({**order, "runbook": None, "runbook_missing": HOSTILE}),
        kit.text_messages(HOSTILE),
        views.override_modal([(HOSTILE, "a@example.com")], oid, ""),
        views.note_modal("resolve", HOSTILE, ""),
        views.home_view(
            ("manager", "field"),
            field_views.my_tickets(queue_data),
            as_view(HOSTILE),
        ),
    ]
    text = json.dumps(rendered, ensure_ascii=False)
    assert "&lt;!here&gt;" in text
    for raw in ("<!here>", "<@U999>", "<http://evil"):
        assert raw not in text


# ---------------------------------------------------------------- modals


def test_override_modal_has_its_callback_blocks_and_at_most_100_agents():
    agents = [(f"Agent {i}", f"agent{i}@example.com") for i in range(150)]
    view = views.override_modal(agents, "AE136ABC00", '{"channel": "C1"}')
    assert_view_within_limits(view)
    assert view["callback_id"] == "override_submit"
    assert view["title"]["text"] == "Override assignment"
    assert view["submit"]["text"] == "Reassign"
    assert view["private_metadata"] == '{"channel": "C1"}'
    by_block = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert list(by_block) == ["ticket", "agent", "reason"]
    assert by_block["ticket"]["action_id"] == "order_id"
    assert by_block["ticket"]["initial_value"] == "AE136ABC00"
    assert by_block["agent"]["action_id"] == "agent"
    assert by_block["agent"]["type"] == "static_select"
    assert len(by_block["agent"]["options"]) == 100
    assert by_block["agent"]["options"][0]["value"] == "agent0@example.com"
    assert by_block["reason"] == {
        "type": "plain_text_input",
        "action_id": "reason",
        "multiline": True,
    }
    assert "initial_value" not in views.override_modal(agents, None, "")["blocks"][0]["element"]


@pytest.mark.parametrize(
    "kind, callback_id, title, block_id, label",
    [
        ("resolve", "resolve_submit", "Resolve ticket", "notes", "Resolution note"),
        ("escalate", "escalate_submit", "Escalate ticket", "reason", "Why escalate?"),
    ],
    ids=["resolve", "escalate"],
)
def test_note_modal_asks_for_a_required_note_on_one_order(
    kind, callback_id, title, block_id, label
):
    view = views.note_modal(kind, "AE136ABC00", "meta")
    assert_view_within_limits(view)
    assert (view["callback_id"], view["title"]["text"]) == (callback_id, title)
    assert "AE136ABC00" in view["blocks"][0]["text"]["text"]
    (field,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert field["block_id"] == block_id and field["label"]["text"] == label
    assert field["element"]["action_id"] == block_id and field["element"]["multiline"]
    assert "optional" not in field
    assert view["private_metadata"] == "meta"


def test_a_note_modal_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        views.note_modal("delete", "AE136ABC00", "")


def test_private_metadata_over_3000_characters_is_refused():
    agents = [("Sarah", SARAH)]
    assert views.override_modal(agents, None, "m" * 3000)["private_metadata"] == "m" * 3000
    with pytest.raises(ValueError):
        views.override_modal(agents, None, "m" * 3001)
    with pytest.raises(ValueError):
        views.note_modal("resolve", "AE136ABC00", "m" * 3001)


# ---------------------------------------------------------------- App Home


def manager_dashboard(triaged, breaches: int | None = None):
    """The manager's App Home dashboard view (``bot.present.home``), from run-ecm's result;
    with ``breaches``, that many SLA breaches (copies of the first)."""
    from bot.present.home import manager_home

    data = triaged.run(MANAGER, "run-ecm").data
    if breaches is not None:
        first = data["sla_breaches"][0]
        data = {
            **data,
            "sla_breaches": [{**first, "order_id": f"EU{i:08d}"} for i in range(breaches)],
        }
    return manager_home(data)


def test_home_view_for_both_roles_shows_dashboard_and_queue_within_100_blocks(triaged):
    dashboard = manager_dashboard(triaged)
    queue_data = sixty_tickets(triaged.run(SARAH, "my-tickets").data)
    view = views.home_view(("manager", "field"), field_views.my_tickets(queue_data), dashboard)
    assert view["type"] == "home"
    assert_view_within_limits(view)
    sdk_validates(view["blocks"])
    text = json.dumps(view, ensure_ascii=False)
    assert "ECM dashboard" in text and "Your queue" in text
    ids = [e["action_id"] for e in elements(view["blocks"])]
    assert {"home_refresh", "run_triage", "ticket_resolve"} <= set(ids)
    assert ids.count("ticket_resolve") <= 10 and "tickets_more" in ids


def test_home_view_shows_each_role_only_its_own_part(triaged):
    dashboard = manager_dashboard(triaged)
    queue_data = triaged.run(SARAH, "my-tickets").data
    field_ids = [
        e["action_id"]
        for e in elements(
            views.home_view(("field",), field_views.my_tickets(queue_data), None)["blocks"]
        )
    ]
    manager = views.home_view(("manager",), None, dashboard)
    assert_view_within_limits(manager)
    assert "run_triage" not in field_ids and "ticket_resolve" in field_ids
    manager_ids = {e["action_id"] for e in elements(manager["blocks"])}
    assert {"home_refresh", "run_triage"} <= manager_ids and "ticket_resolve" not in manager_ids
    # a manager whose dashboard could not be built still gets a hint and Run triage
    bare = views.home_view(("manager",), None, None)
    assert [e["action_id"] for e in elements(bare["blocks"])] == ["run_triage"]
    assert views.home_view((), None, None)["blocks"]  # never an empty Home tab


def test_home_view_keeps_a_huge_dashboard_within_100_blocks(triaged):
    queue_data = sixty_tickets(triaged.run(SARAH, "my-tickets").data)
    huge = manager_dashboard(triaged, breaches=2000)
    view = views.home_view(("manager", "field"), field_views.my_tickets(queue_data), huge)
    assert_view_within_limits(view)
    sdk_validates(view["blocks"])
    ids = [e["action_id"] for e in elements(view["blocks"])]
    assert "run_triage" in ids and "ticket_resolve" in ids
    assert "See all 2000 breaches" in json.dumps(view, ensure_ascii=False)
