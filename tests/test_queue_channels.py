"""Channel names as links: "Payments operations lead (#ecm-payments)" from the stuck reasons
becomes ``<#C…>`` where the bot posts it, through a cached conversations.list lookup (every
page, once per TTL); a channel the workspace doesn't have stays plain text. The real Bolt app
over signed HTTP against the fake Slack Web API, and the real WebClient for the lookup."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import SARAH
from fake_slack import FakeSlack
from test_slack_blocks import assert_within_limits, sdk_validates

from bot.present.model import line
from bot.runtime.roster import Roster
from bot.slack.blocks.render import mrkdwn
from bot.slack.channels import ChannelDirectory
from bot.slack.posting import slack_ids
from bot.slack.settings import SlackSettings
from bot.yaml_safe import parse_yaml

SARAH_ID = "U0SARAH003"
REASONS = parse_yaml(
    (Path(__file__).resolve().parents[1] / "shared/config/stuck-reasons.yaml").read_text()
)["reasons"]
CHANNELS = [
    {"id": "C0PAYMENTS", "name": "ecm-payments"},
    {"id": "C0PARTNER1", "name": "ecm-partner-lulu"},
    {"id": "C0RISK0001", "name": "ecm-risk"},
    {"id": "C0ONCALL01", "name": "ecm-payments-oncall"},
    {"id": "C0COMPLY01", "name": "ecm-compliance"},
]  # no #ecm-kyc: it stays plain text


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def directory(fake: FakeSlack, clock: Clock) -> ChannelDirectory:
    from bot.slack.app import web_client

    client = web_client(SlackSettings(bot_token="xoxb-test", api_url=fake.url))
    return ChannelDirectory(client, ttl=timedelta(minutes=10), clock=clock)


def test_the_lookup_reads_every_page_once_per_ttl_and_a_missing_channel_is_none():
    fake = FakeSlack().start()
    try:
        fake.channels = list(CHANNELS)  # two a page: three pages
        clock = Clock()
        names = directory(fake, clock)
        assert names("#ecm-compliance") == "C0COMPLY01"  # on the last page
        calls = fake.of("conversations.list")
        assert [c.get("cursor") for c in calls] == [None, "2", "4"]
        assert all(c["types"] == "public_channel" and c["exclude_archived"] == "1" for c in calls)
        assert names("ecm-payments") == "C0PAYMENTS" and names("#ECM-Risk") == "C0RISK0001"
        assert names("#ecm-kyc") is None and names("") is None
        assert len(fake.of("conversations.list")) == 3  # cached

        fake.channels.append({"id": "C0KYC00001", "name": "ecm-kyc"})
        clock.at += timedelta(minutes=9)
        assert names("#ecm-kyc") is None  # still the cached list
        clock.at += timedelta(minutes=1)
        assert names("#ecm-kyc") == "C0KYC00001"  # the ttl is over: read again
        assert len(fake.of("conversations.list")) == 6
    finally:
        fake.stop()


def test_a_lookup_that_fails_leaves_names_as_text_until_the_ttl():
    fake = FakeSlack().start()
    try:
        fake.channels = list(CHANNELS)
        fake.fail_next("conversations.list", status=403)  # e.g. a missing scope
        clock = Clock()
        names = directory(fake, clock)
        assert names("#ecm-payments") is None
        tried = len([m for m, _ in fake.calls if m.startswith("conversations.list")])
        assert names("#ecm-risk") is None  # not asked again within the ttl
        assert len([m for m, _ in fake.calls if m.startswith("conversations.list")]) == tried
        ids = slack_ids(Roster([]), names)
        assert mrkdwn(line("Payments operations lead (#ecm-payments)"), ids) == (
            "Payments operations lead (#ecm-payments)"
        )
    finally:
        fake.stop()


def test_mrkdwn_links_known_channel_names_in_plain_text_only():
    known = {"#ecm-payments": "C0PAYMENTS", "#ecm-risk": "C0RISK0001"}
    ids = known.get
    assert mrkdwn(line("Payments operations lead (#ecm-payments)"), ids) == (
        "Payments operations lead (<#C0PAYMENTS>)"
    )
    assert mrkdwn(line("KYC team lead (#ecm-kyc)"), ids) == "KYC team lead (#ecm-kyc)"
    assert mrkdwn(line("see #ecm-risk, then #ecm-payments-oncall"), ids) == (
        "see <#C0RISK0001>, then #ecm-payments-oncall"  # a longer name is another channel
    )
    assert mrkdwn(line("a#ecm-risk b/#ecm-risk"), ids) == "a#ecm-risk b/#ecm-risk"  # not names
    assert mrkdwn(line("Fraud & risk (#ecm-risk)"), ids) == "Fraud &amp; risk (<#C0RISK0001>)"
    assert mrkdwn(line("#ecm-payments"), None) == "#ecm-payments"  # no lookup: as it was


def test_a_field_escalation_links_the_target_channel_in_the_post_and_the_reply(slack):
    fake, demo = slack.fake, slack.demo
    fake.channels = list(CHANNELS)
    linked = next(
        r
        for r in demo.tickets_of(SARAH)
        if "(#ecm-kyc)" not in REASONS[r["Stuck Reason"]]["escalate_to"]
    )
    oid, target = linked["Order ID"], REASONS[linked["Stuck Reason"]]["escalate_to"]
    name = target.split("(#")[1].rstrip(")")
    channel_id = next(c["id"] for c in CHANNELS if c["name"] == name)

    slack.dm(SARAH_ID, f"escalate {oid} partner says the beneficiary bank is down")
    post = fake.wait_for(lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == "CESC"])[
        0
    ]
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert f"(<#{channel_id}>)" in text and f"#{name}" not in text
    assert f"(<#{channel_id}>)" in post["text"]  # the notification too
    reply = fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == f"D{SARAH_ID}"]
    )[-1]
    assert f"<#{channel_id}>" in json.dumps(reply["blocks"], ensure_ascii=False)
    for payload in (post, reply):
        assert_within_limits(payload["blocks"], 50)
        sdk_validates(payload["blocks"])

    kyc = next(
        (
            r
            for r in demo.tickets_of(SARAH)
            if "(#ecm-kyc)" in REASONS[r["Stuck Reason"]]["escalate_to"]
        ),
        None,
    )
    if kyc is not None:  # a channel the workspace doesn't have stays as text
        before = len([p for p in fake.of("chat.postMessage") if p["channel"] == "CESC"])
        slack.dm(SARAH_ID, f"escalate {kyc['Order ID']} documents need a second look")
        posts = fake.wait_for(
            lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == "CESC"][before:]
        )
        assert "(#ecm-kyc)" in json.dumps(posts[0]["blocks"], ensure_ascii=False)
    assert len(fake.of("conversations.list")) == 3  # one read for the whole process
