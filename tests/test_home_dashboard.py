"""The manager's App Home is a dashboard built from blocks: counts as fields, the last triage,
the SLA breaches as rows with Details and Assign…, See all, Refresh; its figures are the
dashboard skill's and the triage summary's. Field agents' Home stays their queue."""

from __future__ import annotations

import json
import time

import pytest
from conftest import MANAGER, SARAH
from fake_slack import FakeSlack
from slack_harness import serve_bot
from test_slack_blocks import sdk_validates

from bot.present.home import BREACHES_SHOWN, manager_home
from bot.present.text import to_text

MAYA, SARAH_ID, OMAR = "U0MAYA0001", "U0SARAH003", "U0OMAR0002"


@pytest.fixture
def slack(triaged):
    fake = FakeSlack().start()
    served = serve_bot(triaged.registry, triaged.path, fake)
    served.demo = triaged
    yield served
    served.stop()
    fake.stop()


def home_click(slack, user: str, action_id: str, value: str = ""):
    """A button on the Home tab: no channel, no response_url."""
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"trig-{action_id}-{time.monotonic_ns()}",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"type": "home", "id": "VHOME"},
        "actions": [
            {
                "action_id": action_id,
                "type": "button",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    assert slack.interact(payload).status == 200


def published(slack, user: str, n: int = 1) -> dict:
    views = slack.fake.wait_for(
        lambda f: len([p for p in f.of("views.publish") if p["user_id"] == user]) >= n and f
    )
    return [p for p in views.of("views.publish") if p["user_id"] == user][n - 1]["view"]


def open_home(slack, user: str, n: int = 1) -> dict:
    slack.event({"type": "app_home_opened", "user": user, "tab": "home"})
    return published(slack, user, n)


def fields(blocks: list[dict]) -> dict[str, str]:
    found = {}
    for block in blocks:
        for f in block.get("fields") or []:
            label, _, value = f["text"].partition("\n")
            found[label.strip("*")] = value
    return found


def action_ids(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_managers_home_is_a_dashboard_of_fields_rows_and_controls(slack):
    view = open_home(slack, MAYA)
    blocks = view["blocks"]
    assert view["type"] == "home" and len(blocks) <= 100
    sdk_validates(blocks)
    assert blocks[0]["type"] == "header" and "ECM dashboard" in blocks[0]["text"]["text"]
    shown = fields(blocks)
    assert {"Open tickets", "⏱️ SLA breaches", "By priority", "✅ Resolved today"} <= set(shown)
    ids = action_ids(blocks)
    assert {"home_refresh", "home_see_all", "run_triage"} <= set(ids)
    rows = [b for b in blocks if b["type"] == "actions" and "home_breach_details" in json.dumps(b)]
    assert len(rows) == BREACHES_SHOWN
    for row in rows:
        details, assign = row["elements"]
        assert (details["action_id"], assign["action_id"]) == ("home_breach_details", "home_assign")
        assert details["value"] in details["accessibility_label"]
    assert "Last triage" in json.dumps(blocks, ensure_ascii=False)
    assert "ticket_resolve" not in json.dumps(blocks)  # a manager only: no queue


def test_home_counts_agree_with_the_dashboard_skill_and_the_triage_summary(slack):
    demo = slack.demo
    dashboard = demo.run(MANAGER, "run-ecm").data
    blocks = open_home(slack, MAYA)["blocks"]
    shown = fields(blocks)
    assert shown["Open tickets"] == str(dashboard["open"])
    assert shown["⏱️ SLA breaches"] == str(len(dashboard["sla_breaches"]))
    assert shown["⚠️ Stuck, not assigned"] == str(dashboard["not_on_sheet"])
    by_priority = " · ".join(f"{p} {n}" for p, n in dashboard["by_priority"].items())
    assert shown["By priority"] == by_priority
    counts = dashboard["last_triage"]["counts"]
    text = json.dumps(blocks, ensure_ascii=False)
    # the triage summary's own words: "⚠️ Unassigned: 33 · 🚨 Escalated: 0"
    summary = demo.run(MANAGER, "triage-and-assign", dry_run=True).data["counts"]
    assert counts["unassigned"] == summary["unassigned"] == dashboard["not_on_sheet"]
    assert f"{counts['assigned']} assigned" in text
    assert f"Unassigned: {counts['unassigned']} · 🚨 Escalated: {counts['escalated']}" in text
    first = dashboard["sla_breaches"][0]["order_id"]
    assert first in text and f"See all {len(dashboard['sla_breaches'])} breaches" in text


def test_refresh_republishes_the_home_with_the_latest_numbers(slack):
    before = fields(open_home(slack, MAYA)["blocks"])
    ticket = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    slack.demo.chat(SARAH, f"resolve {ticket} replayed the webhook, partner confirmed")
    home_click(slack, MAYA, "home_refresh", "refresh")
    after = published(slack, MAYA, 2)
    sdk_validates(after["blocks"])
    now = fields(after["blocks"])
    assert int(now["Open tickets"]) == int(before["Open tickets"]) - 1
    assert now["✅ Resolved today"] == str(int(before["✅ Resolved today"]) + 1)


def test_see_all_opens_every_breach_in_a_modal(slack):
    dashboard = slack.demo.run(MANAGER, "run-ecm").data
    home_click(slack, MAYA, "home_see_all", "sla_breaches")
    opened = slack.fake.wait_for(lambda f: f.of("views.open"))[0]
    view = opened["view"]
    assert opened["trigger_id"].startswith("trig-home_see_all") and view["type"] == "modal"
    sdk_validates(view["blocks"])
    text = json.dumps(view["blocks"])
    assert all(b["order_id"] in text for b in dashboard["sla_breaches"])


def test_details_opens_the_breach_and_assign_opens_the_override_form_prefilled(slack):
    first = slack.demo.run(MANAGER, "run-ecm").data["sla_breaches"][0]
    home_click(slack, MAYA, "home_breach_details", first["order_id"])
    details = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    sdk_validates(details["blocks"])
    shown = fields(details["blocks"])
    assert shown["Order"] == first["order_id"] and shown["Priority"] == first["priority"]
    assert "runbook" not in json.dumps(details).lower()  # DEC-011: managers never load them
    home_click(slack, MAYA, "home_assign", first["order_id"])
    form = slack.fake.wait_for(lambda f: len(f.of("views.open")) >= 2 and f.of("views.open"))[1]
    assert form["view"]["callback_id"] == "override_submit"
    assert first["order_id"] in json.dumps(form["view"])


def test_a_field_agent_cannot_open_the_breaches_and_is_told_by_dm(slack):
    home_click(slack, SARAH_ID, "home_see_all", "sla_breaches")
    dm = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    assert dm["channel"] == f"D{SARAH_ID}" and "Only ECM managers" in dm["text"]
    assert not slack.fake.of("views.open")


def test_a_field_agents_home_stays_their_queue(slack):
    blocks = open_home(slack, SARAH_ID)["blocks"]
    sdk_validates(blocks)
    ids = action_ids(blocks)
    assert "ticket_resolve" in ids and "home_refresh" not in ids and "run_triage" not in ids


def test_someone_with_both_roles_gets_the_dashboard_and_their_queue(slack):
    blocks = open_home(slack, OMAR)["blocks"]
    assert len(blocks) <= 100
    sdk_validates(blocks)
    ids = action_ids(blocks)
    assert "home_refresh" in ids and "ticket_resolve" in ids


def test_the_home_dashboard_reads_as_text_too(triaged):
    data = triaged.run(MANAGER, "run-ecm").data
    text = to_text(manager_home(data))
    assert f"Open tickets: {data['open']}" in text and "🎯 Last triage" in text


@pytest.fixture
def engine_demo(engine_env, tmp_path, registry):
    from conftest import Demo

    from bot.demo.seed import seed_demo
    from bot.stores.factory import open_stores

    stores = open_stores(tmp_path, env=engine_env)
    seed_demo(tmp_path, stores.workbook, orders=30, seed=3)
    return Demo(tmp_path, registry, stores)


def test_the_last_triage_is_the_newest_that_wrote_on_either_engine(engine_demo):
    assert engine_demo.run(MANAGER, "run-ecm").data["last_triage"] is None
    real = engine_demo.run(MANAGER, "triage-and-assign").data
    engine_demo.run(MANAGER, "triage-and-assign", dry_run=True)  # a dry run is not "the last"
    last = engine_demo.run(MANAGER, "run-ecm").data["last_triage"]
    assert last["run_id"] == real["run_id"] and last["status"] == "done"
    assert last["counts"]["assigned"] == real["counts"]["assigned"]
    assert last["started_by"] == MANAGER
