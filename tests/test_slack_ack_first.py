"""A signed slash command is acked by the gate, before Bolt runs: its 200 waits for nothing
behind it. The downstream app here is a plain WSGI app that blocks until released."""

from __future__ import annotations

import io
import threading
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.slack.gate import guarded

SECRET = "gate-secret"


def _environ(body: bytes) -> dict:
    stamp = str(int(time.time()))
    return {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp,
        "HTTP_X_SLACK_SIGNATURE": SignatureVerifier(SECRET).generate_signature(
            timestamp=stamp, body=body
        ),
    }


class Blocking:
    """A WSGI app that records what it was given and answers only once released."""

    def __init__(self) -> None:
        self.release, self.seen, self.done = threading.Event(), [], threading.Event()

    def __call__(self, environ, start_response):
        self.seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        assert self.release.wait(30)
        start_response("200 OK", [("Content-Type", "application/json")])
        self.done.set()
        return [b'{"response_type": "ephemeral", "text": "late"}']


def call(app, environ) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    return status[0], body


def test_a_slash_command_is_acked_before_the_app_behind_runs_and_still_reaches_it():
    behind = Blocking()
    body = urlencode({"command": "/ecm", "text": "my tickets", "user_id": "U1"}).encode()
    status, answer = call(guarded(behind, SECRET), _environ(body))
    assert (status, answer) == ("200 OK", b"")  # while the app behind is still blocked
    assert not behind.done.is_set()
    behind.release.set()
    assert behind.done.wait(30)
    assert behind.seen == [body]


def test_interactive_payloads_still_get_the_apps_own_answer():
    behind = Blocking()
    behind.release.set()
    body = urlencode(
        {"payload": '{"type": "view_closed", "user": {"id": "U1"}, "view": {"id": "V1"}}'}
    ).encode()
    status, answer = call(guarded(behind, SECRET), _environ(body))
    assert status == "200 OK" and b"late" in answer  # a view's answer can carry errors


def test_an_unsigned_command_is_refused_and_never_handed_on():
    behind = Blocking()
    body = urlencode({"command": "/ecm", "text": "triage", "user_id": "U1"}).encode()
    environ = {**_environ(body), "HTTP_X_SLACK_SIGNATURE": "v0=" + "0" * 64}
    status, _ = call(guarded(behind, SECRET), environ)
    assert status.startswith("401") and behind.seen == []
