"""Fake language-model APIs on 127.0.0.1 for tests: the Anthropic Messages API
(POST /v1/messages) and the OpenAI Chat Completions API (POST /v1/chat/completions).

Each fake records every request body in ``.requests`` (and headers in ``.request_headers``)
and answers from a scripted queue. A request after the queue is empty gets a 400 error and is
counted; ``stop()`` (and leaving a ``with`` block) fails the test if any request went
unscripted or any scripted response was left unused::

    fake = FakeAnthropic().start()
    fake.script(overloaded(), tool_use("lookup_order", {"order_id": "A1"}), text("done"))
    ...
    fake.stop()

Responses: ``text(s)``, ``tool_use(name, args)`` / ``tool_use([(name, args), ...])``,
``thinking(thought, then=response)`` (a Claude thinking block first),
``billed(input_tokens, then=response)`` (usage reporting that many prompt tokens),
``overloaded()`` (Anthropic 529, OpenAI 503), ``server_error()`` (500), ``rate_limited()``
(429), ``unauthorized()`` (401), ``error(status, kind, message)``, and
``slow(seconds, then=response)``. With ``api_key=...`` a fake answers 401 to requests that do
not carry that key (as x-api-key or a Bearer token). Usage is realistic: input tokens are
about len(request body) / 4, output tokens about len(text) / 4 plus 20 per tool call.

GET /v1/models/{id} (``client.models.retrieve``) answers from ``served``, outside the script:
None (the default) serves every id as active; a dict serves only its keys, each with its
provider fields (Anthropic ``lifecycle``/``retires_at``, OpenAI ``shutdown_date``), and any
other id gets the provider's 404. ``model_lookups`` records the ids asked for.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

MAX_DELAY = 5.0  # a slow() response never sleeps longer than this


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class ToolUse:
    calls: tuple[tuple[str, Any], ...]
    text: str = ""


@dataclass(frozen=True)
class Error:
    status: int | None  # None: the provider's own "overloaded" status
    kind: str  # "overloaded", "server", "rate_limit", "auth" or a provider error type
    message: str


@dataclass(frozen=True)
class Slow:
    seconds: float
    then: Any = field(default_factory=lambda: Text("ok"))


@dataclass(frozen=True)
class Thinking:
    thought: str
    then: Any


def text(value: str) -> Text:
    return Text(value)


@dataclass(frozen=True)
class Billed:
    input_tokens: int
    then: Any


def billed(input_tokens: int, then: Any) -> Billed:
    """``then``, reporting ``input_tokens`` prompt tokens in its usage (as a provider bills
    a prompt far larger than the request the fake saw)."""
    return Billed(int(input_tokens), then)


def thinking(thought: str, then: Any) -> Thinking:
    """``then`` with a thinking block (and its signature) first, as the Claude 5.x models
    answer; the OpenAI fake ignores it."""
    return Thinking(thought, then)


def tool_use(name_or_calls: str | list[tuple[str, Any]], args: Any = None, *, text: str = ""):
    """One tool call (``tool_use(name, args)``) or several in one response
    (``tool_use([(name, args), ...])``). A string ``args`` is sent verbatim as OpenAI
    ``arguments`` (to exercise invalid JSON)."""
    if isinstance(name_or_calls, str):
        calls = ((name_or_calls, {} if args is None else args),)
    else:
        calls = tuple((name, a) for name, a in name_or_calls)
    return ToolUse(calls, text)


def overloaded() -> Error:
    return Error(None, "overloaded", "Overloaded")


def server_error() -> Error:
    return Error(500, "server", "Internal server error")


def rate_limited() -> Error:
    return Error(429, "rate_limit", "Rate limit exceeded")


def unauthorized() -> Error:
    return Error(401, "auth", "invalid x-api-key")


def error(status: int, kind: str = "invalid_request_error", message: str = "bad request") -> Error:
    return Error(status, kind, message)


def slow(seconds: float, then: Any = None) -> Slow:
    return Slow(min(float(seconds), MAX_DELAY), Text("ok") if then is None else then)


def _tokens(chars: int) -> int:
    return max(1, chars // 4)


class _FakeApi(ABC):
    """The shared server: recording, scripting, auth and delays. Subclasses render
    responses in their provider's shape."""

    path = ""

    def __init__(self, api_key: str | None = None):
        self.api_key = api_key
        self.requests: list[dict] = []
        self.request_headers: list[dict[str, str]] = []
        self.responses: list[tuple[int, dict]] = []  # what was sent back, in order
        self._queue: deque = deque()
        self.unscripted = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        self._stopping = threading.Event()
        self.served: dict[str, dict] | None = None
        self.model_lookups: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                try:
                    body = json.loads(raw or "{}")
                except ValueError:
                    body = {"_raw": raw}
                status, payload = fake.handle(
                    urlparse(self.path).path, dict(self.headers.items()), body, raw
                )
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("request-id", f"req_fake_{next(fake._request_ids)}")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def do_GET(self):
                status, payload = fake.lookup(urlparse(self.path).path, dict(self.headers.items()))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def port(self) -> int:
        return self.server.server_port

    def start(self):
        self.thread.start()
        return self

    def stop(self, check: bool = True) -> None:
        """Shut down; then fail if a request went unscripted or a response was left unused."""
        self._stopping.set()  # wake any slow() response
        self.server.shutdown()
        self.server.server_close()
        if check:
            assert not self.unscripted, (
                f"{self.unscripted} request(s) came after the script ran out"
            )
            assert not self._queue, f"{len(self._queue)} scripted response(s) were never used"

    def script(self, *responses) -> None:
        with self._lock:
            self._queue.extend(responses)

    @property
    def models(self) -> list[str]:
        """The model named by each recorded request."""
        return [r.get("model", "") for r in self.requests]

    def handle(self, path: str, headers: dict, body: dict, raw: str) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(headers)
            if path != self.path:
                answer: Any = Error(404, "not_found_error", f"no route {path}")
            elif self.api_key is not None and not self._authorized(headers):
                answer = unauthorized()
            elif self._queue:
                answer = self._queue.popleft()
            else:
                self.unscripted += 1
                answer = Error(400, "invalid_request_error", "fake: the script is exhausted")
        while isinstance(answer, Slow):
            self._stopping.wait(answer.seconds)
            answer = answer.then
        bill = None
        if isinstance(answer, Billed):
            bill, answer = answer.input_tokens, answer.then
        thought = None
        if isinstance(answer, Thinking):
            thought, answer = answer.thought, answer.then
        model = str(body.get("model") or "fake-model")
        if isinstance(answer, Error):
            result = self.render_error(answer)
        elif isinstance(answer, ToolUse):
            result = self.render_reply(model, answer.text, answer.calls, raw, thought)
        else:
            result = self.render_reply(model, answer.text, (), raw, thought)
        if bill is not None and result[0] == 200:
            usage = result[1]["usage"]
            if "prompt_tokens" in usage:
                usage.update(prompt_tokens=bill, total_tokens=bill + usage["completion_tokens"])
            else:
                usage["input_tokens"] = bill
        with self._lock:
            self.responses.append(result)
        return result

    def lookup(self, path: str, headers: dict) -> tuple[int, dict]:
        """GET /v1/models/{id}: the model's record, or the provider's 404."""
        prefix = "/v1/models/"
        model = path[len(prefix) :] if path.startswith(prefix) else ""
        with self._lock:
            self.model_lookups.append(model)
            if not model:
                return self.render_error(Error(404, "not_found_error", f"no route {path}"))
            if self.api_key is not None and not self._authorized(headers):
                return self.render_error(unauthorized())
            if self.served is not None and model not in self.served:
                return self.render_error(
                    Error(404, self.not_found_kind, f"model '{model}' does not exist")
                )
            info = (self.served or {}).get(model, {})
        return 200, self.render_model(model, info)

    def _authorized(self, headers: dict) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        bearer = lowered.get("authorization", "")
        return self.api_key in (lowered.get("x-api-key"), bearer.removeprefix("Bearer "))

    @abstractmethod
    def render_reply(
        self, model: str, text: str, calls, raw: str, thought: str | None = None
    ) -> tuple[int, dict]:
        """A successful response in the provider's shape."""

    @abstractmethod
    def render_error(self, error: Error) -> tuple[int, dict]:
        """An error response in the provider's shape."""

    not_found_kind = "not_found_error"

    @abstractmethod
    def render_model(self, model: str, info: dict) -> dict:
        """A model record (GET /v1/models/{id}) in the provider's shape."""

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc) -> None:
        self.stop(check=exc_type is None)


class FakeAnthropic(_FakeApi):
    """POST /v1/messages. ``url`` is the SDK's base_url (``http://127.0.0.1:PORT``)."""

    path = "/v1/messages"
    _error_types = {
        "overloaded": (529, "overloaded_error"),
        "server": (500, "api_error"),
        "rate_limit": (429, "rate_limit_error"),
        "auth": (401, "authentication_error"),
    }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def render_reply(self, model, text, calls, raw, thought=None):
        n = next(self._ids)
        content: list[dict] = [{"type": "text", "text": text}] if text or not calls else []
        if thought is not None:
            content.insert(0, {"type": "thinking", "thinking": thought, "signature": f"sig{n}"})
        for i, (name, args) in enumerate(calls):
            arguments = args if isinstance(args, dict) else {"raw": args}
            content.append(
                {"type": "tool_use", "id": f"toolu_fake{n}_{i}", "name": name, "input": arguments}
            )
        return 200, {
            "id": f"msg_fake{n}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if calls else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": _tokens(len(raw)),
                "output_tokens": _tokens(len(text)) + 20 * len(calls),
            },
        }

    def render_error(self, error):
        status, kind = self._error_types.get(error.kind, (error.status, error.kind))
        status = error.status or status
        return status, {
            "type": "error",
            "error": {"type": kind, "message": error.message},
            "request_id": f"req_fake_{next(self._request_ids)}",
        }

    def render_model(self, model, info):
        return {
            "type": "model",
            "id": model,
            "display_name": model,
            "created_at": "2026-09-28T00:00:00Z",
            "lifecycle": "active",
            **info,
        }


class FakeOpenAI(_FakeApi):
    """POST /v1/chat/completions. ``url`` is the SDK's base_url (``http://127.0.0.1:PORT/v1``)."""

    path = "/v1/chat/completions"
    _error_types = {
        "overloaded": (503, "server_error", None),
        "server": (500, "server_error", None),
        "rate_limit": (429, "requests", "rate_limit_exceeded"),
        "auth": (401, "invalid_request_error", "invalid_api_key"),
    }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def render_reply(self, model, text, calls, raw, thought=None):
        n = next(self._ids)
        tool_calls = [
            {
                "id": f"call_fake{n}_{i}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for i, (name, args) in enumerate(calls)
        ]
        message: dict = {
            "role": "assistant",
            "content": text if text or not calls else None,
            "refusal": None,
        }
        if tool_calls:
            message["tool_calls"] = tool_calls
        prompt = _tokens(len(raw))
        completion = _tokens(len(text)) + 20 * len(calls)
        return 200, {
            "id": f"chatcmpl-fake{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    not_found_kind = "invalid_request_error"

    def render_model(self, model, info):
        return {"id": model, "object": "model", "created": 1790000000, "owned_by": "openai", **info}

    def render_error(self, error):
        status, kind, code = self._error_types.get(error.kind, (error.status, error.kind, None))
        status = error.status or status
        message = "Incorrect API key provided." if error.kind == "auth" else error.message
        return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}
