"""The Slack app end to end over HTTP: the real Bolt app on 127.0.0.1, signed requests, and a
fake Slack Web API that records every call."""

from __future__ import annotations

import json

import pytest
from conftest import SARAH
from fake_slack import FakeSlack
from slack_harness import SECRET, ServedApp, serve_bot
from test_slack_blocks import assert_within_limits, sdk_validates

from bot.slack.app import build_app, thread_local_stores
from bot.slack.settings import SlackSettings
from bot.stores.factory import open_stores
from bot.stores.workbook import RowUpdate

MAYA, SARAH_ID, OMAR, DINESH_ID = "U0MAYA0001", "U0SARAH003", "U0OMAR0002", "U0DINESH04"


@pytest.fixture
def slack(triaged, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack(users={"UALTSARAH": SARAH, "UNOBODY": "nobody@example.com"}).start()
    served = serve_bot(triaged.registry, triaged.path, fake)
    served.demo = triaged
    yield served
    served.stop()
    fake.stop()


def summaries(fake):
    return [
        p
        for p in fake.of("chat.postMessage")
        if "ECM Triage" in json.dumps(p.get("blocks", ""), ensure_ascii=False)
    ]


def sarah_ticket(demo) -> str:
    return demo.tickets_of(SARAH)[0]["Order ID"]


def walk(blocks):
    for block in blocks:
        yield block
        for key in ("elements", "fields"):
            for child in block.get(key, []) or []:
                if isinstance(child, dict):
                    yield child


def assert_block_kit_limits(fake):
    for method, params in fake.calls:
        blocks = params.get("blocks") or (params.get("view") or {}).get("blocks") or []
        limit = 100 if params.get("view") else 50
        assert len(blocks) <= limit, f"{method} sent {len(blocks)} blocks"
        for block in walk(blocks):
            text = block.get("text")
            if isinstance(text, dict):
                assert len(text.get("text", "")) <= 3000


# -- triage by mention ---------------------------------------------------------------------
def test_a_manager_mention_runs_triage_and_posts_one_summary_and_only_changed_threads(slack):
    assert slack.mention(MAYA, "triage").status == 200
    fake = slack.fake
    summary = fake.wait_for(lambda f: summaries(f))[0]
    assert summary["channel"] == "COPS"
    text = json.dumps(summary["blocks"], ensure_ascii=False)
    assert "Override Assignment" in text and "View Dashboard" in text
    runs = [e for e in slack.demo.stores.state.executions() if e["skill"] == "triage-and-assign"]
    assert len(runs) == 2  # the fixture's triage and this one
    fake.wait_for(lambda f: f.of("reactions.remove"))
    # the fixture's triage already assigned everything: this re-run changed no agent's queue,
    # so it is the summary alone (a first triage's thread per agent: test_slack_live.py)
    assert len(fake.of("chat.postMessage")) == 1
    assert "<@U0SARAH003>" in text
    assert fake.of("reactions.add")
    assert_block_kit_limits(fake)


def test_a_field_agent_asking_for_triage_in_a_channel_is_refused_privately_in_plain_words(slack):
    slack.mention(SARAH_ID, "triage")
    refusal = slack.fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]
    assert refusal["channel"] == "COPS" and refusal["user"] == SARAH_ID
    assert refusal["text"] == (
        "🙅 Triage is for ECM managers. You can say `my tickets`, or `help` for the rest."
    )
    slack.fake.wait_for(lambda f: f.of("reactions.remove"))
    assert not slack.fake.of("chat.postMessage") and not summaries(slack.fake)
    denial = slack.demo.stores.state.denials()[-1]  # the audit keeps the rule
    assert denial["skill"] == "triage-and-assign" and "DEC-011" in denial["rule"]


def test_a_manager_asking_for_a_field_skill_is_told_what_they_can_say_instead(slack):
    slack.mention(MAYA, f"order {sarah_ticket(slack.demo)}")
    refusal = slack.fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]
    assert refusal["text"].startswith("🙅 Order details is for ECM field agents.")
    assert "`dashboard`" in refusal["text"]
    assert "order-details" not in refusal["text"] and "DEC-" not in refusal["text"]


def test_someone_not_on_the_roster_is_refused_politely_and_nothing_runs(slack):
    before = slack.demo.rows("Assignments")
    slack.mention("UNOBODY", "triage")
    post = slack.fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]
    assert "not on the ECM roster" in post["text"] and post["user"] == "UNOBODY"
    assert slack.demo.rows("Assignments") == before


def test_a_redelivered_event_is_handled_once(slack):
    slack.mention(MAYA, "triage", event_id="EvSAME")
    slack.mention(MAYA, "triage", event_id="EvSAME")
    slack.fake.wait_for(lambda f: summaries(f))
    slack.dm(SARAH_ID, "my tickets")  # a later event proves the second one was processed
    slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{SARAH_ID}"]
    )
    assert len(summaries(slack.fake)) == 1


def test_a_second_triage_while_one_runs_is_told_it_is_already_running(slack):
    slack.demo.stores.state.acquire_lock("triage", "omar.lead@example.com", 240)
    slack.mention(MAYA, "run triage")
    post = slack.fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]  # for the asker only
    assert "already running" in post["text"] and "omar.lead@example.com" in post["text"]
    assert not summaries(slack.fake)


# -- /ecm ------------------------------------------------------------------------------------
def test_the_slash_command_acks_at_once_and_answers_personal_requests_ephemerally(slack):
    reply = slack.command(SARAH_ID, "my-tickets")
    assert reply.status == 200 and not reply.body  # nothing is said before the role check
    answer = slack.fake.wait_for(lambda f: f.answers())[0]
    working = slack.fake.of("response_url")[0]
    assert working["text"] == "⏳ Working on `my-tickets`…"
    assert answer["response_type"] == "ephemeral"
    actions = {
        e["action_id"]
        for b in answer["blocks"]
        for e in b.get("elements", [])
        if isinstance(e, dict) and "action_id" in e
    }
    assert {"ticket_details", "ticket_resolve", "ticket_escalate"} <= actions


def test_slash_triage_from_a_field_agent_gets_no_working_ack_only_a_plain_refusal(slack):
    reply = slack.command(SARAH_ID, "triage")
    assert reply.status == 200 and not reply.body
    refusal = slack.fake.wait_for(lambda f: f.of("response_url"))[0]
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"].startswith("🙅 Triage is for ECM managers.")
    slack.command(SARAH_ID, "my-tickets")  # a later command: the refusal was all there was
    slack.fake.wait_for(lambda f: f.answers()[1:])
    assert [p["text"] for p in slack.fake.of("response_url")].count("⏳ Working on `triage`…") == 0


def test_slash_help_lists_only_the_callers_role_in_plain_words(slack):
    slack.command(SARAH_ID, "help")
    text = slack.fake.wait_for(lambda f: f.answers())[0]["text"]
    assert "• `/ecm my tickets` — your open tickets, most urgent first" in text
    assert "`/ecm resolve AE136ABC00 replayed the webhook, LULU confirmed`" in text
    assert "triage" not in text and "dashboard" not in text  # no manager commands
    assert "{" not in text and "  " not in text  # no placeholders, no space-aligned columns


def test_dm_help_lists_a_managers_commands_with_examples(slack):
    slack.dm(MAYA, "help")
    text = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]["text"]
    assert text.startswith("As an ECM manager you can say:")
    assert "• `dashboard` — " in text and "`assign AE136ABC00 @james.ops " in text
    assert "my tickets" not in text and "{" not in text and "  " not in text


def test_slash_resolve_resolves_the_ticket(slack):
    oid = sarah_ticket(slack.demo)
    slack.command(SARAH_ID, f"resolve {oid} replayed webhook, LULU confirmed")
    answer = slack.fake.wait_for(lambda f: f.answers())[0]
    assert f"`{oid}` resolved — " in json.dumps(answer, ensure_ascii=False)
    row = next(r for r in slack.demo.rows("Assignments") if r["Order ID"] == oid)
    assert row["Status"] == "RESOLVED"


def test_slash_assign_by_a_manager_dms_the_new_assignee(slack):
    oid = sarah_ticket(slack.demo)
    slack.command(MAYA, f"assign {oid} <@U0JAMES007|james.ops> confirm partner backlog")
    slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == "DU0JAMES007"]
    )
    row = next(r for r in slack.demo.rows("Assignments") if r["Order ID"] == oid)
    assert row["Assigned Agent"] == "james.ops@example.com"


# -- DMs -------------------------------------------------------------------------------------
def test_a_dm_my_tickets_shows_the_queue_with_buttons(slack):
    slack.dm(SARAH_ID, "my queue")
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    assert post["channel"] == f"D{SARAH_ID}"
    assert "ticket_resolve" in json.dumps(post["blocks"])
    assert post["unfurl_links"] in (False, "0", "false", 0)


def buttons(blocks, action_id):
    return [e for b in blocks for e in b.get("elements", []) if e.get("action_id") == action_id]


def test_a_dm_queue_fits_a_phone_and_show_more_posts_the_next_page(slack):
    tickets = slack.demo.tickets_of(SARAH)
    assert len(tickets) > 10
    slack.dm(SARAH_ID, "my tickets")
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    assert_within_limits(post["blocks"], 50)
    sdk_validates(post["blocks"])
    resolves = buttons(post["blocks"], "ticket_resolve")
    assert len(resolves) == 10 and not buttons(post["blocks"], "ticket_escalate")[0].get("style")
    assert all(b["accessibility_label"] == f"Resolve order {b['value']}" for b in resolves)
    (more,) = buttons(post["blocks"], "tickets_more")
    assert more["value"] == "11" and more["accessibility_label"].startswith("Show tickets 11 to")

    slack.click(SARAH_ID, "tickets_more", more["value"], channel=f"D{SARAH_ID}")
    page = slack.fake.wait_for(lambda f: f.answers())[0]
    sdk_validates(page["blocks"])
    second = [b["value"] for b in buttons(page["blocks"], "ticket_resolve")]
    assert len(second) == len(tickets) - 10
    assert not set(second) & {b["value"] for b in resolves}
    assert f"Showing 11–{len(tickets)} of {len(tickets)}" in json.dumps(
        page["blocks"], ensure_ascii=False
    )
    assert not buttons(page["blocks"], "tickets_more")


def test_show_more_from_app_home_sends_the_next_page_by_dm(slack):
    payload = {  # a Home tab click: no channel, no response_url
        "type": "block_actions",
        "user": {"id": SARAH_ID},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trig-home-more",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"type": "home", "id": "VHOME"},
        "actions": [
            {"action_id": "tickets_more", "type": "button", "value": "11", "action_ts": "1.5"}
        ],
    }
    assert slack.interact(payload).status == 200
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    assert post["channel"] == f"D{SARAH_ID}" and buttons(post["blocks"], "ticket_resolve")
    assert "Showing 11–" in json.dumps(post["blocks"], ensure_ascii=False)


def test_order_details_put_the_actions_first_and_resolve_opens_prefilled_with_the_runbook(slack):
    oid = sarah_ticket(slack.demo)
    slack.click(SARAH_ID, "ticket_details", oid, channel=f"D{SARAH_ID}")
    answer = slack.fake.wait_for(lambda f: f.answers())[0]
    blocks = answer["blocks"]
    sdk_validates(blocks)
    assert oid in blocks[0]["text"]["text"] and blocks[1]["type"] == "actions"
    (resolve,) = buttons(blocks, "ticket_resolve")
    assert resolve["accessibility_label"] == f"Resolve order {oid}"

    slack.click(SARAH_ID, "ticket_resolve", resolve["value"], channel=f"D{SARAH_ID}")
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    sdk_validates(view["blocks"])
    note = view["blocks"][1]["element"]
    assert (
        note["action_id"] == "notes"
        and note["initial_value"] == json.loads(resolve["value"])["note"]
    )
    assert json.loads(view["private_metadata"])["order_id"] == oid  # not the JSON value
    assert f"Order `{oid}`" in view["blocks"][0]["text"]["text"]
    # no channel ids are configured, so team channels stay text, never a made-up link
    text = json.dumps(blocks, ensure_ascii=False)
    assert "#ecm-" in text and "<#" not in text


def test_a_queue_resolve_button_opens_an_empty_note(slack):
    slack.click(SARAH_ID, "ticket_resolve", sarah_ticket(slack.demo))
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    assert "initial_value" not in view["blocks"][1]["element"]


def test_the_email_fallback_finds_a_member_whose_slack_id_is_not_on_the_roster(slack):
    # only a member whose Slack ID is empty (tests/test_slack_hardening.py has the rest)
    slack.demo.stores.workbook.update("Agents", [RowUpdate(SARAH, {"Slack user ID": ""})])
    slack.dm("UALTSARAH", "my tickets")
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    assert "ticket_resolve" in json.dumps(post["blocks"])
    assert slack.fake.of("users.info")


# -- buttons and modals ----------------------------------------------------------------------
def test_a_field_agent_clicking_override_gets_an_ephemeral_refusal(slack):
    slack.click(SARAH_ID, "override_open", "run1")
    refusal = slack.fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]
    assert refusal["user"] == SARAH_ID and "Only ECM managers" in refusal["text"]
    assert not slack.fake.of("views.open")


def test_a_manager_clicking_override_opens_the_modal_with_only_active_field_agents(slack):
    slack.click(MAYA, "override_open", "run1")
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    assert view["callback_id"] == "override_submit"
    text = json.dumps(view)
    assert "sarah.ops@example.com" in text and "tom.away" not in text
    assert "maya.manager" not in text


def test_the_reassign_overflow_prefills_the_ticket(slack):
    slack.click(MAYA, "ticket_overflow", overflow="reassign:AE136ABC00")
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    assert "AE136ABC00" in json.dumps(view)


def override_values(oid, agent, reason):
    return {
        "ticket": {"order_id": {"type": "plain_text_input", "value": oid}},
        "agent": {"agent": {"type": "static_select", "selected_option": {"value": agent}}},
        "reason": {"reason": {"type": "plain_text_input", "value": reason}},
    }


def test_a_managers_override_updates_the_row_audits_posts_in_thread_and_dms(slack):
    # a ticket of James's team (ops), so no confirmation step (tests/test_pins_slack.py)
    oid = next(t["Order ID"] for t in slack.demo.tickets_of(SARAH) if "LULU" in t["Stuck Reason"])
    reply = slack.submit(
        MAYA,
        "override_submit",
        override_values(oid, "james.ops@example.com", "LuLu desk backlog"),
        {"channel": "COPS", "thread_ts": "1700000000.000001"},
    )
    assert reply.status == 200 and not reply.body
    fake = slack.fake
    fake.wait_for(lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == "DU0JAMES007"])
    thread = [p for p in fake.of("chat.postMessage") if p.get("thread_ts") == "1700000000.000001"]
    assert thread and oid in thread[0]["text"]
    row = next(r for r in slack.demo.rows("Assignments") if r["Order ID"] == oid)
    assert row["Assigned Agent"] == "james.ops@example.com"
    assert slack.demo.stores.state.audit_entries(oid)[-1]["actor"] == "maya.manager@example.com"


def test_an_override_submitted_by_a_field_agent_is_refused_again(slack):
    oid = sarah_ticket(slack.demo)
    before = slack.demo.rows("Assignments")
    reply = slack.submit(
        SARAH_ID, "override_submit", override_values(oid, "james.ops@example.com", "mine now"), {}
    )
    assert reply.json()["response_action"] == "errors"
    assert slack.demo.rows("Assignments") == before


def test_an_override_to_an_inactive_agent_shows_the_error_in_the_form(slack):
    oid = sarah_ticket(slack.demo)
    reply = slack.submit(
        MAYA, "override_submit", override_values(oid, "tom.away@example.com", "back from leave"), {}
    )
    assert reply.json()["response_action"] == "errors"
    assert "inactive" in json.dumps(reply.json()["errors"])


def test_resolve_button_opens_a_modal_that_requires_notes(slack):
    oid = sarah_ticket(slack.demo)
    slack.click(SARAH_ID, "ticket_resolve", oid, channel=f"D{SARAH_ID}")
    view = slack.fake.wait_for(lambda f: f.of("views.open"))[0]["view"]
    assert view["callback_id"] == "resolve_submit"
    meta = json.loads(view["private_metadata"])
    empty = slack.submit(
        SARAH_ID,
        "resolve_submit",
        {"notes": {"notes": {"type": "plain_text_input", "value": "  "}}},
        meta,
    )
    assert empty.json()["response_action"] == "errors"
    done = slack.submit(
        SARAH_ID,
        "resolve_submit",
        {"notes": {"notes": {"type": "plain_text_input", "value": "Replayed webhook <!channel>"}}},
        meta,
    )
    assert done.status == 200
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    assert " resolved — " in json.dumps(post, ensure_ascii=False)
    assert " after assignment · stuck " in post["text"]  # both figures, each named
    assert "<!channel>" not in slack.fake.all_text()


def test_an_escalation_posts_to_the_escalation_channel_with_who_escalated(slack):
    oid = sarah_ticket(slack.demo)
    slack.submit(
        SARAH_ID,
        "escalate_submit",
        {"reason": {"reason": {"type": "plain_text_input", "value": "partner down"}}},
        {"channel": f"D{SARAH_ID}", "order_id": oid},
    )
    post = slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == "CESC"]
    )[0]
    assert SARAH_ID in post["text"] and oid in post["text"]


def test_view_dashboard_is_ephemeral(slack):
    slack.click(MAYA, "dashboard_view")
    post = slack.fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]
    assert post["user"] == MAYA and "dashboard" in json.dumps(post).lower()


def test_app_home_shows_queue_and_dashboard_to_someone_with_both_roles(slack):
    slack.event({"type": "app_home_opened", "user": OMAR, "tab": "home"})
    view = slack.fake.wait_for(lambda f: f.of("views.publish"))[0]["view"]
    text = json.dumps(view)
    assert view["type"] == "home" and "run_triage" in text and "ticket_resolve" in text


def test_run_triage_from_home_posts_to_the_triage_channel(slack):
    slack.click(MAYA, "run_triage", channel="")
    summary = slack.fake.wait_for(lambda f: summaries(f))[0]
    assert summary["channel"] == "CTRIAGE"


# -- reliability -----------------------------------------------------------------------------
def test_rate_limited_posts_are_retried_honouring_retry_after(slack):
    slack.fake.fail_next("chat.postMessage", 429, times=1, retry_after=0)
    slack.dm(SARAH_ID, "my tickets")
    slack.fake.wait_for(lambda f: f.of("chat.postMessage"))
    assert [m for m, _ in slack.fake.calls].count("chat.postMessage!429") == 1


def test_a_crash_inside_a_skill_is_an_apology_with_a_reference_and_no_trace(slack):
    (slack.demo.path / "warehouse.db").write_bytes(b"this is not a database" * 100)
    slack.dm(SARAH_ID, "my tickets")
    slack.dm(MAYA, "dashboard")
    post = slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{MAYA}"]
    )[0]
    assert "Sorry, something went wrong" in post["text"] and "ref" in post["text"]
    assert "Traceback" not in slack.fake.all_text()


@pytest.mark.parametrize(
    ("secret", "age"), [("wrong-secret", 0), (SECRET, 600)], ids=["forged", "stale"]
)
def test_forged_or_stale_signatures_are_rejected(slack, secret, age):
    import time

    reply = slack.command(SARAH_ID, "my-tickets", secret=secret, timestamp=int(time.time()) - age)
    assert reply.status == 401
    assert not slack.fake.of("response_url")


def test_health_check_answers(slack):
    reply = slack.get("/healthz")
    assert reply.status == 200 and reply.json() == {"ok": True}


def test_escalated_status_change_is_seen_by_the_queue(slack):
    oid = sarah_ticket(slack.demo)
    slack.demo.stores.workbook.update("Assignments", [RowUpdate(oid, {"Status": "ESCALATED"})])
    slack.dm(SARAH_ID, "my tickets")
    post = slack.fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
    assert oid not in json.dumps(post["blocks"])


def test_a_free_text_write_in_a_dm_waits_for_the_confirm_button(triaged, monkeypatch):
    from fake_llm import FakeAnthropic, tool_use

    from bot.agents.assistant import Assistant

    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    model = FakeAnthropic().start()
    fake = FakeSlack().start()
    oid = sarah_ticket(triaged)
    model.script(
        tool_use(
            "activate_skill",
            {"skill": "escalate-ticket", "order_id": oid, "reason": "partner portal down"},
        )
    )
    assistant = Assistant.from_env({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": model.url})
    settings = SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.url)
    app, _ = build_app(
        settings,
        assistant=assistant,
        registry=triaged.registry,
        stores=thread_local_stores(lambda: open_stores(triaged.path)),
    )
    served = ServedApp(app, fake)
    try:
        before = triaged.rows("Assignments")
        served.dm(SARAH_ID, f"can you push {oid} up the chain, the partner portal is down")
        post = fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
        proposal_id = next(
            e["value"]
            for b in post["blocks"]
            for e in b.get("elements", [])
            if e.get("action_id") == "proposal_confirm"
        )
        assert triaged.rows("Assignments") == before  # proposed, not done
        served.click("U0DINESH04", "proposal_confirm", proposal_id, channel=f"D{SARAH_ID}")
        fake.wait_for(lambda f: f.of("response_url"))
        assert triaged.rows("Assignments") == before  # someone else can't confirm it
        served.click(SARAH_ID, "proposal_confirm", proposal_id, channel=f"D{SARAH_ID}")
        fake.wait_for(lambda f: len(f.of("response_url")) >= 3)
        row = next(r for r in triaged.rows("Assignments") if r["Order ID"] == oid)
        assert row["Status"] == "ESCALATED"
    finally:
        served.stop()
        fake.stop()
        model.stop()
