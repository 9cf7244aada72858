"""The door in front of Bolt for HTTP requests to /slack/events: the timestamp and the
signature are checked on the raw bytes first, and only a signed request's body is looked at,
so nobody who lacks the signing secret gets the bot to parse anything. A client's mistake is
a 4xx and one log line (no stack trace); Bolt then sees only well-formed bodies, and checks the
signature again.

Shapes refused: a missing or non-numeric timestamp, one over five minutes off, a missing or
wrong signature, a body over 1 MB, one that is not UTF-8, JSON that is not an object, a
``payload=`` that is empty, not JSON or not an object, and interactive payloads whose
``user``, ``actions`` or ``view`` are not what Slack sends. Slack's unsigned ``ssl_check=1``
probe gets its 200, as Bolt would answer it.

A signed slash command is acked here, before Bolt sees it (``_ack_now``): Slack only needs
the empty 200, and its answer goes through the response_url anyway."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qsl

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
MAX_AGE_SECONDS = 300
INTERACTIVE = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action")


@dataclass(frozen=True)
class Refusal:
    status: int
    why: str


def check_signature(raw: bytes, timestamp: str, signature: str, secret: str, now: float):
    """A Refusal unless ``signature`` is Slack's v0 HMAC of ``raw`` at a fresh ``timestamp``."""
    if not secret:
        return Refusal(401, "no signing secret is configured")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return Refusal(401, "the X-Slack-Request-Timestamp header is missing or not a number")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return Refusal(401, "the request timestamp is more than five minutes off")
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    given = signature.encode("latin-1", "replace")
    if not hmac.compare_digest(expected.encode(), given):
        return Refusal(401, "the X-Slack-Signature header is missing or wrong")
    return None


def parse(text: str, content_type: str) -> tuple[dict | None, str]:
    """The body as Bolt will read it (``slack_bolt.request.internals.parse_body``), or None
    and why it is not a Slack request."""
    if not text:
        return None, "the body is empty"
    if content_type == "application/json" or text.startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            return None, "the JSON body does not parse"
        return (body, "") if isinstance(body, dict) else (None, "the JSON body is not an object")
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" not in text:
        return form, ""
    if "payload" not in form:
        return {}, ""  # Bolt reads it as empty: nothing matches, nothing runs
    try:
        payload = json.loads(form["payload"])
    except ValueError:
        return None, "payload= is empty or not JSON"
    if not isinstance(payload, dict):
        return None, "payload= is not a JSON object"
    return payload, ""


def shape_problem(body: dict) -> str | None:
    """Why a parsed body is not shaped like one Slack sends (the parts listeners rely on)."""
    kind = body.get("type")
    if kind is not None and not isinstance(kind, str):
        return "its type is not a string"
    if kind == "event_callback" and not isinstance(body.get("event"), dict):
        return "the event is not an object"
    user = body.get("user")
    if kind in INTERACTIVE and not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        return "the payload's user is not an object with an id"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return "the payload's actions are not a list of objects"
    if kind in ("view_submission", "view_closed") and not isinstance(body.get("view"), dict):
        return "the payload's view is not an object"
    if body.get("command") is not None and not isinstance(body.get("command"), str):
        return "the command is not text"
    return None


def _answer(start_response, refusal: Refusal) -> list[bytes]:
    text = {400: "Bad Request", 401: "Unauthorized", 413: "Payload Too Large"}[refusal.status]
    data = text.encode()
    start_response(
        f"{refusal.status} {text}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]


def signing_secret_of(app) -> str:
    """The signing secret a Bolt ``App`` verifies requests with (it has no public accessor;
    a Bolt that renamed it leaves "" here, and every request is refused, loudly)."""
    secret = getattr(app, "_signing_secret", "")
    return secret if isinstance(secret, str) else ""


def guarded(handler: Callable, signing_secret: str, clock: Callable[[], float] = time.time):
    """``handler`` (Bolt's WSGI adapter) behind the checks above: a refused request gets its
    4xx here and is logged once, as a warning naming what was wrong."""

    def application(environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return handler(environ, start_response)
        refusal, raw = _read(environ)
        if refusal is None and _ssl_check(raw):  # Slack's unsigned probe; Bolt answers it too
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        if refusal is None:
            refusal = check_signature(
                raw,
                environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                environ.get("HTTP_X_SLACK_SIGNATURE", ""),
                signing_secret,
                clock(),
            )
        body: dict | None = None
        if refusal is None:
            refusal, body = _check_body(raw, environ.get("CONTENT_TYPE", ""))
        if refusal is not None:
            log.warning("refused a request to /slack/events (%d): %s", refusal.status, refusal.why)
            return _answer(start_response, refusal)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        if body and body.get("command"):
            return _ack_now(handler, environ, start_response)
        return handler(environ, start_response)

    return application


_behind = ThreadPoolExecutor(1, thread_name_prefix="ecm-command")
"""One thread hands acked commands to Bolt. It only runs Bolt's dispatch up to the listener's
own ack (the first thing the /ecm listener does); the work then runs in Bolt's listener pool.
More threads here let more commands' work contend for the GIL at once with the acks still
being read: measured with ``benchmarks/slack_ack.py`` (own process), p99 at 200 concurrent
went from 807-1064 ms with four threads to 98-119 ms with one, and all 200 were answered in
the same 2.3 s."""


def _ack_now(handler: Callable, environ: dict, start_response) -> list[bytes]:
    """A signed slash command is acked here, with Slack's empty 200, and handed to Bolt on a
    thread of its own: its ack then waits for nothing (not Bolt's listener threads, not other
    commands' answers). The listener acks empty too and answers through the response_url, so
    the person sees the same; a redelivery is still dropped by the listeners' dedupe."""
    quiet = {**environ, "wsgi.input": environ["wsgi.input"]}

    def dispatch() -> None:
        try:
            for _ in handler(quiet, lambda status, headers, exc_info=None: None):
                pass
        except Exception:  # logged: there is no HTTP response left to fail
            log.exception("a slash command failed after its ack")

    _behind.submit(dispatch)
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


def _ssl_check(raw: bytes) -> bool:
    """Whether ``raw`` is Slack's ``ssl_check=1`` probe for slash commands (answered 200
    unsigned, as Bolt's SslCheck middleware does, and nothing runs)."""
    if len(raw) > 2000 or b"ssl_check" not in raw:
        return False
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return form.get("ssl_check") == "1" and "payload" not in form and "command" not in form


def _read(environ) -> tuple[Refusal | None, bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return Refusal(400, "the Content-Length header is not a number"), b""
    if length < 0 or length > MAX_BODY:
        return Refusal(413, f"the body is over {MAX_BODY:,} bytes"), b""
    return None, environ["wsgi.input"].read(length) if length else b""


def _check_body(raw: bytes, content_type: str) -> tuple[Refusal | None, dict | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8 text"), None
    body, why = parse(text, content_type.split(";")[0])  # as Bolt reads the header
    if body is None:
        return Refusal(400, why), None
    problem = shape_problem(body)
    return (Refusal(400, f"not a Slack request: {problem}"), None) if problem else (None, body)
