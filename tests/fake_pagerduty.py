"""A fake PagerDuty Events API v2 on 127.0.0.1 for tests: validates events the way PagerDuty
documents them (202 with the dedup key, or 400 naming what is wrong), records every request,
and can answer with a status on demand (503, 429, 400) to test retries and rejections."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")


def problems(event: dict) -> list[str]:
    """What PagerDuty's Events API v2 would refuse in ``event``."""
    found = []
    if not re.fullmatch(r"[a-z0-9]{32}", str(event.get("routing_key", ""))):
        found.append("'routing_key' is invalid")
    if event.get("event_action") not in ACTIONS:
        found.append("'event_action' is invalid")
    if event.get("event_action") != "trigger" and not event.get("dedup_key"):
        found.append("'dedup_key' is missing")
    if event.get("event_action") == "trigger":
        payload = event.get("payload") or {}
        for name in ("summary", "source", "severity"):
            if not payload.get(name):
                found.append(f"'payload.{name}' is missing")
        if payload.get("severity") and payload["severity"] not in SEVERITIES:
            found.append("'payload.severity' is invalid")
    return found


class FakePagerDuty:
    def __init__(self):
        self.calls: list[tuple[int, dict]] = []  # (status answered, event) for every request
        self.failures: list[int] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                try:
                    event = json.loads(raw or "{}")
                except ValueError:
                    event = {"_raw": raw}
                status, body = fake.answer(self.path, event)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v2/enqueue"

    def start(self) -> FakePagerDuty:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status``."""
        with self._lock:
            self.failures.extend([status] * times)

    def answer(self, path: str, event: dict) -> tuple[int, dict]:
        with self._lock:
            if path != "/v2/enqueue":
                status, body = 404, {"status": "not found"}
            elif self.failures:
                status = self.failures.pop(0)
                body = {"status": "invalid event", "message": "Event object is invalid",
                        "errors": ["forced by the test"]} if status == 400 else {}  # fmt: skip
            elif found := problems(event):
                status = 400
                body = {"status": "invalid event", "message": "Event object is invalid",
                        "errors": found}  # fmt: skip
            else:
                status = 202
                body = {"status": "success", "message": "Event processed",
                        "dedup_key": event.get("dedup_key") or "generated"}  # fmt: skip
            self.calls.append((status, event))
            return status, body

    # -- assertions helpers --------------------------------------------------------------
    def accepted(self, action: str | None = None) -> list[dict]:
        """The events answered 202 (of ``action``, if given)."""
        with self._lock:
            return [
                e
                for s, e in self.calls
                if s == 202 and (action is None or e.get("event_action") == action)
            ]

    def statuses(self) -> list[int]:
        with self._lock:
            return [s for s, _ in self.calls]
