"""Serve the real Bolt app on 127.0.0.1 and send it signed Slack requests."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_sdk.signature import SignatureVerifier

from bot.slack.server import wsgi_app

SECRET = "test-signing-secret"
_ids = itertools.count(1)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class Reply:
    status: int
    body: str

    def json(self):
        return json.loads(self.body) if self.body else None


class ServedApp:
    """The app behind a real HTTP server; helpers build and sign each kind of request."""

    def __init__(self, app, fake):
        self.app = app
        self.fake = fake
        self.httpd = make_server(
            "127.0.0.1", 0, wsgi_app(app), server_class=ThreadingWSGIServer, handler_class=_Quiet
        )
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"

    def stop(self):
        """Stop serving, then wait for the listeners still running in Bolt's executor (a
        follow-up that outlived its test would talk to a stopped fake and log into the next
        test's captured records)."""
        self.httpd.shutdown()
        self.httpd.server_close()
        runner = getattr(self.app, "listener_runner", None)
        executor = getattr(runner, "listener_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)

    # -- transport ---------------------------------------------------------------------------
    def post(
        self,
        body: str,
        content_type: str,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        path: str = "/slack/events",
    ) -> Reply:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        request = urllib.request.Request(
            self.base + path,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return Reply(resp.status, resp.read().decode())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read().decode())

    def get(self, path: str) -> Reply:
        with urllib.request.urlopen(self.base + path, timeout=10) as resp:
            return Reply(resp.status, resp.read().decode())

    # -- request kinds -----------------------------------------------------------------------
    def event(self, event: dict, event_id: str | None = None, **kw) -> Reply:
        body = {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "event": event,
        }
        return self.post(json.dumps(body), "application/json", **kw)

    def mention(self, user: str, text: str, channel: str = "COPS", **kw) -> Reply:
        return self.event(
            {
                "type": "app_mention",
                "user": user,
                "text": f"<@UBOT> {text}",
                "channel": channel,
                "ts": f"1699999999.{next(_ids):06d}",
            },
            **kw,
        )

    def dm(self, user: str, text: str, **kw) -> Reply:
        return self.event(
            {
                "type": "message",
                "channel_type": "im",
                "user": user,
                "text": text,
                "channel": f"D{user}",
                "ts": f"1699999998.{next(_ids):06d}",
                "client_msg_id": f"msg-{next(_ids)}",
            },
            **kw,
        )

    def command(self, user: str, text: str, channel: str = "COPS", **kw) -> Reply:
        form = {
            "token": "x",
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": "/ecm",
            "text": text,
            "trigger_id": f"trig{next(_ids)}",
            "response_url": self.fake.response_url(f"cmd{next(_ids)}"),
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def interact(self, payload: dict, **kw) -> Reply:
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw
        )

    def click(
        self,
        user: str,
        action_id: str,
        value: str = "",
        *,
        channel: str = "COPS",
        message_ts: str = "1700000000.000001",
        overflow: str | None = None,
        **kw,
    ) -> Reply:
        action = {
            "action_id": action_id,
            "block_id": "b1",
            "type": "button",
            "value": value,
            "action_ts": f"{time.time():.6f}{next(_ids)}",
        }
        if overflow is not None:
            action = {**action, "type": "overflow", "selected_option": {"value": overflow}}
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "trigger_id": f"trig{next(_ids)}",
            "channel": {"id": channel},
            "container": {"type": "message"},
            "message": {"ts": message_ts},
            "actions": [action],
            "response_url": self.fake.response_url(f"act{next(_ids)}"),
        }
        return self.interact(payload, **kw)

    def submit(self, user: str, callback_id: str, values: dict, metadata: dict) -> Reply:
        payload = {
            "type": "view_submission",
            "user": {"id": user},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "trigger_id": f"trig{next(_ids)}",
            "view": {
                "id": f"V{next(_ids)}",
                "hash": f"h{next(_ids)}",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": json.dumps(metadata),
                "state": {"values": values},
            },
        }
        return self.interact(payload)


def serve_bot(registry, data_dir, fake, assistant=None, **settings) -> ServedApp:
    """The real Bolt app for the data in ``data_dir``, served on loopback against ``fake``
    (triage channel CTRIAGE, escalation channel CESC unless overridden); ``.sc`` is its
    listener state."""
    from bot.slack.app import build_app, thread_local_stores
    from bot.slack.settings import SlackSettings
    from bot.stores.factory import open_stores

    options = {"triage_channel": "CTRIAGE", "escalation_channel": "CESC", **settings}
    app, sc = build_app(
        SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.url, **options),
        assistant=assistant,
        registry=registry,
        stores=thread_local_stores(lambda: open_stores(data_dir)),
    )
    served = ServedApp(app, fake)
    served.sc = sc
    return served


def notifier(fake, escalation_channel: str = "CESCALATE"):
    """The SLA watch's SlackNotifier against ``fake``: the same client and retries as the
    bot's, without the back-off sleeps."""
    from slack_sdk.http_retry.builtin_interval_calculators import (
        FixedValueRetryIntervalCalculator,
    )

    from bot.slack.app import web_client
    from bot.slack.notices import SlackNotifier
    from bot.slack.settings import SlackSettings

    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": fake.url}
    client = web_client(SlackSettings.from_env(env))
    for handler in client.retry_handlers:
        handler.interval_calculator = FixedValueRetryIntervalCalculator(0.0)
    return SlackNotifier(client, escalation_channel)


def buttons_of(blocks: list[dict], oid: str) -> list[str]:
    """The action ids of the buttons on ``oid``'s actions blocks, in order."""
    return [
        e["action_id"]
        for b in blocks
        if b["type"] == "actions" and b.get("block_id", "").endswith(":" + oid)
        for e in b["elements"]
    ]
