"""The daily flow in Slack: its triage step is posted to the triage channel like any triage
(one summary, threads per agent, recorded to edit later), the digest and its chart go to the
manager's DM; asked in a channel, a line there says where they went."""

from __future__ import annotations

import json

import pytest
from conftest import MANAGER
from fake_slack import FakeSlack
from slack_harness import serve_bot
from test_charts import PNG_SIGNATURE, decoded
from test_slack_blocks import sdk_validates

from bot.stores.slack_messages import SlackMessages

MAYA = "U0MAYA0001"


@pytest.fixture
def slack(demo):
    """An untriaged data set, so the daily flow's triage assigns every ticket anew."""
    fake = FakeSlack().start()
    served = serve_bot(demo.registry, demo.path, fake)
    served.demo = demo
    yield served
    served.stop()
    fake.stop()


def text_of(post: dict) -> str:
    return json.dumps([post.get("text"), post.get("blocks")], ensure_ascii=False)


def summaries(fake) -> list[dict]:
    return [
        p
        for p in fake.of("chat.postMessage")
        if "ECM Triage" in text_of(p) and "ECM daily digest" not in text_of(p)
    ]


def digests(fake) -> list[dict]:
    return [p for p in fake.of("chat.postMessage") if "ECM daily digest" in text_of(p)]


def test_daily_flow_in_a_dm_posts_the_summary_to_the_triage_channel_and_dms_the_digest(slack):
    slack.dm(MAYA, "daily flow")
    fake = slack.fake
    fake.wait_for(lambda f: f.of("files.completeUploadExternal"))
    (summary,) = summaries(fake)
    assert summary["channel"] == "CTRIAGE" and not summary.get("thread_ts")
    sdk_validates(summary["blocks"])
    threads = [p for p in fake.of("chat.postMessage") if p.get("thread_ts")]
    assert threads and all(p["channel"] == "CTRIAGE" for p in threads)
    (digest,) = digests(fake)
    assert digest["channel"] == f"D{MAYA}"
    sdk_validates(digest["blocks"])
    assert "chart attached" in text_of(digest)
    (complete,) = fake.of("files.completeUploadExternal")
    assert complete["channel_id"] == f"D{MAYA}"
    data = next(iter(fake.uploads.values()))
    assert data[:8] == PNG_SIGNATURE
    decoded(data)
    # the summary is recorded like any triage's, so later changes edit it in place
    refs = SlackMessages(slack.demo.stores.db)
    recorded = refs.latest("triage_summary", channel="CTRIAGE")
    assert recorded is not None and recorded.text == summary["text"]
    # asked in the DM: the digest is the answer, no extra pointer line
    assert not [p for p in fake.of("chat.postMessage") if "Daily flow done" in text_of(p)]


def test_daily_flow_by_mention_says_in_the_thread_where_the_summary_and_digest_went(slack):
    slack.mention(MAYA, "daily flow")
    fake = slack.fake
    pointer = fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if "Daily flow done" in text_of(p)]
    )[0]
    assert pointer["channel"] == "COPS" and pointer.get("thread_ts")
    assert "<#CTRIAGE>" in pointer["text"]
    (summary,) = summaries(fake)
    assert summary["channel"] == "CTRIAGE"
    (digest,) = digests(fake)
    assert digest["channel"] == f"D{MAYA}"
    assert fake.of("files.completeUploadExternal")[0]["channel_id"] == f"D{MAYA}"


def test_daily_flow_summary_counts_are_the_triage_steps(slack):
    slack.dm(MAYA, "daily flow")
    slack.fake.wait_for(lambda f: f.of("files.completeUploadExternal"))
    (summary,) = summaries(slack.fake)
    run = slack.demo.stores.state.last_triage_run()
    counts = json.loads(run["summary"])
    text = text_of(summary)
    assert f"ECM Triage — {counts['assigned']} tickets assigned" in text
    assert f"Unassigned: {counts['unassigned']}" in text


def test_the_cli_daily_flow_writes_the_chart(demo):
    from click.testing import CliRunner

    from bot.cli import load_commands

    out = CliRunner().invoke(load_commands(), ["chat", "--as", MANAGER, "daily flow"])
    assert out.exit_code == 0, out.output
    assert "🗞️ ECM daily digest" in out.output
    written = [ln for ln in out.output.splitlines() if ln.startswith("📊 Chart written to ")]
    assert written and (demo.path / "charts" / "ecm-stuck-by-reason.png").is_file()
