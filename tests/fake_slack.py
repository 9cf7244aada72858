"""A fake Slack Web API on 127.0.0.1 for tests: records every call, answers the methods the
bot uses (conversations.list paged over ``channels``), can answer with 429 on demand, and
also receives response_url posts and file uploads
(files.getUploadURLExternal hands out an upload URL on this server; the bytes POSTed there are
kept in ``uploads``; files.completeUploadExternal answers with the files)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

JSON_FIELDS = ("blocks", "view", "attachments", "files")


class FakeSlack:
    def __init__(self, users: dict[str, str | dict] | None = None):
        self.users = dict(users or {})  # user id -> email, or the users.info user's fields
        self.calls: list[tuple[str, dict]] = []
        self.failures: dict[str, list[tuple[int, dict]]] = {}
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes POSTed to its upload URL
        self.channels: list[dict] = []  # conversations.list's channels ({"id", "name"})
        self.channel_page = 2  # conversations.list answers this many a page (a cursor after)
        self._files = itertools.count(1)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._arrived = threading.Condition()  # notified at every call, for wait_for
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                path = urlparse(self.path).path
                if path.startswith("/upload/"):  # a file's bytes, to its upload URL
                    data = self.rfile.read(length)
                    fake.receive_upload(path.rsplit("/", 1)[-1], data)
                    reply = f"OK - {len(data)}".encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                for key in JSON_FIELDS:
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                method = (
                    "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
                )
                status, headers, body = fake.answer(method, params)
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.server.server_port}/response/{name}"

    def upload_url(self, file_id: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/upload/{file_id}"

    def receive_upload(self, file_id: str, data: bytes) -> None:
        with self._lock:
            self._record("upload", {"file_id": file_id, "length": len(data)})
            self.uploads[file_id] = data

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, method: str, status: int = 429, times: int = 1, retry_after: int = 0):
        """Answer the next ``times`` calls of ``method`` with ``status``."""
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        self.failures.setdefault(method, []).extend([(status, headers)] * times)

    def _record(self, method: str, params: dict) -> None:
        """Keep a call (the caller holds ``_lock``) and wake whoever waits in ``wait_for``."""
        self.calls.append((method, params))
        with self._arrived:
            self._arrived.notify_all()

    def answer(self, method: str, params: dict) -> tuple[int, dict, dict]:
        with self._lock:
            pending = self.failures.get(method)
            if pending:
                status, headers = pending.pop(0)
                self._record(f"{method}!{status}", params)
                return status, headers, {"ok": False, "error": "ratelimited"}
            self._record(method, params)
            if method == "auth.test":
                return 200, {}, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
            if method == "users.info":
                known = self.users.get(params.get("user"))
                if known is None:
                    return 200, {}, {"ok": False, "error": "user_not_found"}
                # a full member of workspace T1 unless the test gives more of the user object
                extra = known if isinstance(known, dict) else {"profile": {"email": known}}
                user = {"id": params["user"], "team_id": "T1", "is_email_confirmed": True}
                return 200, {}, {"ok": True, "user": {**user, **extra}}
            if method == "chat.postMessage":
                return (
                    200,
                    {},
                    {
                        "ok": True,
                        "channel": params.get("channel"),
                        "ts": f"1700000000.{next(self._ts):06d}",
                    },
                )
            if method == "chat.update":
                if not params.get("ts") or not params.get("channel"):
                    return 200, {}, {"ok": False, "error": "message_not_found"}
                return (
                    200,
                    {},
                    {"ok": True, "channel": params["channel"], "ts": params["ts"]},
                )
            if method == "files.getUploadURLExternal":
                file_id = f"F{next(self._files):08d}"
                return (
                    200,
                    {},
                    {"ok": True, "file_id": file_id, "upload_url": self.upload_url(file_id)},
                )
            if method == "files.completeUploadExternal":
                files = params.get("files") or []
                missing = [f.get("id") for f in files if f.get("id") not in self.uploads]
                if not files or missing:
                    return 200, {}, {"ok": False, "error": "file_not_found"}
                shown = [
                    {"id": f["id"], "title": f.get("title"), "name": f.get("title")} for f in files
                ]
                return 200, {}, {"ok": True, "files": shown}
            if method == "conversations.list":  # paged: the cursor is the next index
                start = int(params.get("cursor") or 0)
                end = start + min(int(params.get("limit") or 100), self.channel_page)
                more = str(end) if end < len(self.channels) else ""
                page = {"channels": self.channels[start:end]}
                return 200, {}, {"ok": True, **page, "response_metadata": {"next_cursor": more}}
            if method == "conversations.open":
                return 200, {}, {"ok": True, "channel": {"id": "D" + str(params.get("users"))}}
            return 200, {}, {"ok": True}

    # -- assertions helpers --------------------------------------------------------------
    def of(self, method: str) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def answers(self) -> list[dict]:
        """What was posted to response URLs, less the "⏳ Working on …" notes of /ecm."""
        return [p for p in self.of("response_url") if not p.get("text", "").startswith("⏳")]

    def wait_for(self, predicate, timeout: float = 10.0):
        """Wait until ``predicate(self)`` is truthy (listeners run after the ack): checked at
        every call the fake receives, and every 20 ms for what a call does not show."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate(self)
            if value:
                return value
            with self._arrived:
                self._arrived.wait(0.02)
        raise AssertionError(f"timed out waiting; calls so far: {[m for m, _ in self.calls]}")

    def all_text(self) -> str:
        with self._lock:
            return json.dumps([p for _, p in self.calls], ensure_ascii=False)
