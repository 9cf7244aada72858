"""Ack latency of /ecm under load: 50 concurrent signed slash commands against the real Bolt
app served by waitress on loopback, with a fake Slack Web API."""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import waitress  # noqa: E402
from fake_slack import FakeSlack  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

from bot.demo.seed import seed_demo  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.slack.app import build_app, thread_local_stores  # noqa: E402
from bot.slack.server import wsgi_app  # noqa: E402
from bot.slack.settings import SlackSettings  # noqa: E402
from bot.stores.factory import open_stores  # noqa: E402

SECRET = "bench-secret"
USERS = ["U0SARAH003", "U0DINESH04", "U0ALEX0005", "U0JAMES007", "U0NOAH0010"]


def one_command(base: str, user: str, response_url: str) -> float:
    body = urlencode(
        {
            "command": "/ecm",
            "text": "my-tickets",
            "user_id": user,
            "channel_id": "C1",
            "team_id": "T1",
            "trigger_id": "t",
            "response_url": response_url,
        }
    )
    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    req = urllib.request.Request(
        base + "/slack/events",
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
        },
    )
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
        assert resp.status == 200
    return time.perf_counter() - start


def main(n: int = 50) -> None:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # queue depth is expected here
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        os.environ.pop(var, None)
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_stores(Path(tmp))
        seed_demo(Path(tmp), stores.workbook, orders=200)
        registry = Registry.load()
        maya = Roster.load(stores.workbook).resolve("maya.manager@example.com")
        execute(registry, stores, "triage-and-assign", maya, {})
        fake = FakeSlack().start()
        settings = SlackSettings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=fake.url)
        app, _ = build_app(
            settings,
            assistant=None,
            registry=registry,
            stores=thread_local_stores(lambda: open_stores(Path(tmp))),
        )
        server = waitress.create_server(wsgi_app(app), host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}"
        with ThreadPoolExecutor(max_workers=n) as pool:
            latencies = sorted(
                pool.map(
                    lambda i: one_command(base, USERS[i % len(USERS)], fake.response_url(f"b{i}")),
                    range(n),
                )
            )
        done_by = time.monotonic() + 120  # every command executed, and every reply posted
        while time.monotonic() < done_by:
            ran = [e for e in stores.state.executions() if e["skill"] == "my-tickets"]
            if len(ran) >= n and len({e["caller"] for e in ran}) == len(USERS):
                settled = len(fake.of("response_url"))
                time.sleep(0.5)
                if len(fake.of("response_url")) == settled:
                    break
            time.sleep(0.05)
        answers = fake.of("response_url")
        failed = sum("went wrong" in str(a) for a in answers)
        server.close()
        fake.stop()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
    print(f"Slack /ecm ack latency, {n} concurrent commands on loopback (waitress, 8 threads)")
    print(
        f"  p50 {p50:.0f} ms · p99 {p99:.0f} ms · max {latencies[-1] * 1000:.0f} ms "
        f"(Slack's limit: 3000 ms) · {len(answers)} reply messages, {failed} apologies"
    )


if __name__ == "__main__":
    main()
