"""A member with both roles (Omar: manager and field) reaches the skills of both with free
text, through the real Bolt app, the fake Slack Web API and the fake Anthropic server; each
skill still runs under its own role's walls."""

from __future__ import annotations

import json

import pytest
from fake_llm import FakeAnthropic, tool_use
from fake_slack import FakeSlack
from slack_harness import serve_bot

from bot.agents.assistant import Assistant

OMAR, OMAR_EMAIL, SARAH_ID = "U0OMAR0002", "omar.lead@example.com", "U0SARAH003"
SARAH = "sarah.ops@example.com"


@pytest.fixture
def bot(triaged, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    model, fake = FakeAnthropic().start(), FakeSlack().start()
    assistant = Assistant.from_env(
        {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": model.url, "ECM_LLM_TIMEOUT": "5"}
    )
    served = serve_bot(triaged.registry, triaged.path, fake, assistant=assistant)
    yield triaged, served, model, fake
    served.stop()
    fake.stop()
    model.stop()


def offered(model: FakeAnthropic) -> list[str]:
    return model.requests[0]["tools"][0]["input_schema"]["properties"]["skill"]["enum"]


def dm_post(fake: FakeSlack, user: str) -> dict:
    return fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{user}"]
    )[0]


def runs(demo, skill: str) -> list[dict]:
    return [e for e in demo.stores.state.executions() if e["skill"] == skill]


def test_free_text_from_a_dual_role_member_reaches_a_field_skill(bot):
    demo, served, model, fake = bot
    model.script(tool_use("activate_skill", {"skill": "my-tickets"}))
    served.dm(OMAR, "what's on my plate?")
    post = dm_post(fake, OMAR)
    assert "ticket_resolve" in json.dumps(post["blocks"])
    assert {"my-tickets", "run-ecm", "triage-and-assign"} <= set(offered(model))
    run = runs(demo, "my-tickets")[-1]
    assert run["caller"] == OMAR_EMAIL and run["role"] == "field" and run["outcome"] == "ok"


def test_free_text_from_a_dual_role_member_reaches_a_manager_skill(bot):
    demo, served, model, fake = bot
    model.script(tool_use("activate_skill", {"skill": "run-ecm"}))
    served.dm(OMAR, "how is the team doing?")
    dm_post(fake, OMAR)
    run = runs(demo, "run-ecm")[-1]
    assert run["caller"] == OMAR_EMAIL and run["role"] == "manager" and run["outcome"] == "ok"


def test_the_field_skill_picked_for_a_dual_role_member_keeps_its_row_rules(bot):
    demo, served, model, fake = bot
    theirs = demo.tickets_of(SARAH)[0]["Order ID"]
    model.script(tool_use("activate_skill", {"skill": "order-details", "order_id": theirs}))
    served.dm(OMAR, f"what's going on with {theirs}?")
    post = dm_post(fake, OMAR)
    assert "not in your queue" in post["text"]
    assert runs(demo, "order-details")[-1]["outcome"] == "denied"


def test_a_single_role_member_is_still_offered_only_their_roles_skills(bot):
    demo, served, model, fake = bot
    model.script(tool_use("activate_skill", {"skill": "triage-and-assign"}))
    served.dm(SARAH_ID, "rebalance everyone please")
    post = dm_post(fake, SARAH_ID)
    assert "triage-and-assign" not in offered(model)
    assert "🙅" in post["text"] and not runs(demo, "triage-and-assign")[1:]
