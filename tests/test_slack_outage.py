"""The Slack app while the system of record is down: every request is answered (never a 500
or a trace), the person is told to try again in a minute, and nothing is written."""

from __future__ import annotations

import pytest
from fake_slack import FakeSlack
from slack_harness import SECRET, ServedApp

from bot.slack.app import build_app, thread_local_stores
from bot.slack.settings import SlackSettings
from bot.stores.factory import open_stores

DOWN = {"ECM_DATABASE_URL": "postgresql://ecm:pw@127.0.0.1:9/ecm"}


@pytest.fixture
def slack_without_database(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    fake = FakeSlack().start()
    settings = SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.url)
    app, _ = build_app(
        settings,
        assistant=None,
        registry=registry,
        stores=thread_local_stores(lambda: open_stores(tmp_path, env=DOWN)),
    )
    served = ServedApp(app, fake)
    yield served
    served.stop()
    fake.stop()


def test_a_mention_while_the_database_is_down_is_answered_with_try_again(slack_without_database):
    slack = slack_without_database
    assert slack.mention("U0MAYA0001", "triage").status == 200
    slack.fake.wait_for(lambda f: "try again in a minute" in f.all_text())
    assert "Traceback" not in slack.fake.all_text() and "pw@" not in slack.fake.all_text()


def test_a_slash_command_while_the_database_is_down_is_acked_and_answered(slack_without_database):
    slack = slack_without_database
    reply = slack.command("U0SARAH003", "my-tickets")
    assert reply.status == 200
    slack.fake.wait_for(lambda f: "try again in a minute" in f.all_text())


def test_readyz_answers_503_naming_the_database_while_healthz_stays_up(
    slack_without_database, monkeypatch
):
    for name, value in DOWN.items():
        monkeypatch.setenv(name, value)
    import json
    import urllib.error
    import urllib.request

    assert slack_without_database.get("/healthz").json() == {"ok": True}
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(slack_without_database.base + "/readyz", timeout=30)
    body = answer.value.read().decode()
    assert answer.value.code == 503 and json.loads(body)["ok"] is False
    assert "not answering" in json.loads(body)["checks"]["database"]
    assert "pw@" not in body


def test_readyz_is_ok_when_the_database_answers(registry, tmp_path, monkeypatch):
    import json
    import urllib.request

    from bot.health import serve_health

    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    server = serve_health(0)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{url}/readyz", timeout=10) as answer:
            assert answer.status == 200
            assert json.loads(answer.read()) == {"ok": True, "checks": {"database": "ok"}}
    finally:
        server.shutdown()
