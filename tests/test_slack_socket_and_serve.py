"""Socket Mode dispatch with real envelopes, and `ecm-bot serve` as a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import spawn
from fake_slack import FakeSlack
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack.app import build_app, thread_local_stores
from bot.slack.settings import SlackSettings
from bot.stores.factory import open_stores

SARAH_ID, MAYA = "U0SARAH003", "U0MAYA0001"


@pytest.fixture
def socket_app(triaged, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    settings = SlackSettings(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.url)
    app, _ = build_app(
        settings,
        assistant=None,
        registry=triaged.registry,
        stores=thread_local_stores(lambda: open_stores(triaged.path)),
    )
    yield app, fake
    fake.stop()


def envelope(kind: str, payload: dict, n: int = 1) -> SocketModeRequest:
    return SocketModeRequest.from_dict(
        {
            "type": kind,
            "envelope_id": f"env-{n}",
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
    )


def test_a_slash_command_envelope_is_acked_and_answered(socket_app):
    app, fake = socket_app
    payload = {
        "command": "/ecm",
        "text": "my-tickets",
        "user_id": SARAH_ID,
        "channel_id": "COPS",
        "team_id": "T1",
        "trigger_id": "t1",
        "response_url": fake.response_url("sock"),
    }
    response = run_bolt_app(app, envelope("slash_commands", payload))
    assert response.status == 200 and "Working on" not in response.body
    answer = fake.wait_for(lambda f: f.answers())[0]
    assert "ticket_resolve" in json.dumps(answer["blocks"])


def test_an_events_envelope_runs_the_mention_and_a_retry_is_ignored(socket_app):
    app, fake = socket_app
    event = {
        "type": "event_callback",
        "event_id": "EvSOCK",
        "team_id": "T1",
        "event": {
            "type": "app_mention",
            "user": MAYA,
            "text": "<@UBOT> dashboard",
            "channel": "COPS",
            "ts": "1699999999.000100",
        },
    }
    assert run_bolt_app(app, envelope("events_api", event)).status == 200
    assert run_bolt_app(app, envelope("events_api", event, 2)).status == 200
    fake.wait_for(lambda f: f.of("chat.postMessage"))
    fake.wait_for(lambda f: f.of("reactions.remove"))
    posts = [p for p in fake.of("chat.postMessage") if p.get("thread_ts") == "1699999999.000100"]
    assert len(posts) == 1 and "dashboard" in json.dumps(posts[0]).lower()


def test_serve_without_credentials_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    out = spawn.run(
        [str(Path(sys.executable).parent / "ecm-bot"), "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "SLACK_BOT_TOKEN" in out.stderr and "Traceback" not in out.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_in_http_mode_answers_health_checks_with_a_production_server(tmp_path):
    fake = FakeSlack().start()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": fake.url,
        "PORT": str(port),
        "ECM_DATA_DIR": str(tmp_path),
    }
    proc = spawn.Popen(
        [str(Path(sys.executable).parent / "ecm-bot"), "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200 and json.loads(r.read()) == {"ok": True}
                    assert r.headers["Server"] == "ecm-bot"  # waitress, not a dev server
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.1)
        assert fake.of("auth.test")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        fake.stop()
