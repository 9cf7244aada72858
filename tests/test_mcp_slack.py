"""A write through MCP updates Slack as one from Slack does: the skill's follow-ups run
against the (fake) Web API, with no reply posted, since the answer went to the MCP client."""

from __future__ import annotations

import pytest
from conftest import MANAGER, SARAH
from fake_slack import FakeSlack
from mcp import Client

from bot.mcp.calls import McpCalls
from bot.mcp.catalog import Catalog
from bot.mcp.server import EcmMcpServer
from bot.mcp.slack_updates import slack_follow_ups
from bot.mcp.tokens import TokenStore
from bot.runtime.roster import Roster


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_an_escalation_through_mcp_is_posted_to_the_escalation_channel(triaged, monkeypatch):
    fake = FakeSlack().start()
    try:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("SLACK_API_URL", fake.url)
        monkeypatch.setenv("ECM_ESCALATION_CHANNEL", "CESC")
        manager = Roster.load(triaged.stores.workbook).resolve(MANAGER)
        token = TokenStore(triaged.stores).create(manager, SARAH)[0]
        calls = McpCalls(
            triaged.registry,
            triaged.stores,
            Catalog.load(triaged.registry),
            allow_writes=True,
            after_write=slack_follow_ups(triaged.registry),
        )
        oid = sorted(r["Order ID"] for r in triaged.tickets_of(SARAH))[0]
        async with Client(EcmMcpServer(calls, token=lambda: token)) as c:
            done = await c.call_tool(
                "escalate_ticket", {"order_id": oid, "reason": "partner portal down"}
            )
        assert not done.is_error, done.content[0].text
        posts = [p for p in fake.of("chat.postMessage") if p.get("channel") == "CESC"]
        assert len(posts) == 1 and oid in str(posts[0])
        dms = [p for p in fake.of("chat.postMessage") if str(p.get("channel", "")).startswith("D")]
        assert dms == []  # no reply in Slack: the MCP client got the answer
    finally:
        fake.stop()
