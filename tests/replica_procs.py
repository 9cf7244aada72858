"""Real bot processes for the replica tests: `ecm-bot serve --http` replicas and
`ecm-bot scheduler --once` clocks, each its own OS process on one shared system of record.

A process's stdout and stderr are drained by threads (so a chatty log never blocks it) and can
be searched while it runs. Requests reach a replica signed like Slack's, through the same
helpers as the in-process Slack tests (``slack_harness``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import spawn
from slack_harness import SECRET, ServedApp

ECM_BOT = str(Path(sys.executable).parent / "ecm-bot")
ROOT = Path(__file__).resolve().parent.parent
# What a replica must not inherit from the developer's shell: Slack credentials (OAuth mode),
# model keys (the tests decide which replica has a model) and another system of record.
_DROP = ("SLACK_", "ANTHROPIC_", "OPENAI_", "ECM_", "REDSHIFT_", "GOOGLE_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replica_env(db_url: str, data_dir: Path, slack_api_url: str, **extra: str) -> dict:
    """The environment of one replica: the shared database, data directory and Slack API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(
        {
            "ECM_DATABASE_URL": db_url,
            "ECM_DATA_DIR": str(data_dir),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack_api_url,
            "ECM_TRIAGE_CHANNEL": "CTRIAGE",
            "ECM_DATABASE_POOL_SIZE": "4",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class Proc:
    """One child process with its output collected as it runs."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str]):
        self.name = name
        self.out: list[str] = []
        self.err: list[str] = []
        self._lock = threading.Lock()
        self.popen = spawn.Popen(
            args,
            env=dict(env),
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._drains = [
            threading.Thread(target=self._drain, args=(self.popen.stdout, self.out), daemon=True),
            threading.Thread(target=self._drain, args=(self.popen.stderr, self.err), daemon=True),
        ]
        for t in self._drains:
            t.start()

    def _drain(self, stream, sink: list[str]) -> None:
        for line in stream:
            with self._lock:
                sink.append(line)

    @property
    def stdout(self) -> str:
        with self._lock:
            return "".join(self.out)

    @property
    def stderr(self) -> str:
        with self._lock:
            return "".join(self.err)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float = 30.0) -> int:
        code = self.popen.wait(timeout=timeout)
        for t in self._drains:
            t.join(timeout=5)
        return code

    def wait_log(self, text: str, timeout: float = 15.0) -> str:
        """Poll this process's stderr until it contains ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never logged {text!r}:\n{self.stderr[-3000:]}")
            time.sleep(0.02)
        return self.stderr

    def stop(self) -> None:
        """Terminate this process (and only this one), killing it if it does not exit."""
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        for t in self._drains:
            t.join(timeout=5)


class RemoteApp(ServedApp):
    """slack_harness's request helpers (event, mention, dm, click, …) aimed at a server that
    runs in another process."""

    def __init__(self, base: str, fake):
        self.base = base
        self.fake = fake

    def stop(self) -> None:
        pass


class Replica(Proc):
    """`ecm-bot serve --http --port P`: one replica of the Slack app. With ``debug`` it runs
    under `ecm-bot --debug`, whose log includes the INFO lines (such as the redeliveries it
    ignores) that plain `serve` does not show."""

    def __init__(self, name: str, env: Mapping[str, str], fake, debug: bool = False):
        self.port = free_port()
        flags = ["--debug"] if debug else []
        super().__init__(name, [ECM_BOT, *flags, "serve", "--http", "--port", str(self.port)], env)
        self.slack = RemoteApp(f"http://127.0.0.1:{self.port}", fake)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Poll /healthz until it answers {"ok": true}; fail at once if the process died."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200 and json.loads(r.read()) == {"ok": True}:
                        return
            except OSError:
                pass
            if not self.alive():
                raise AssertionError(f"{self.name} exited {self.popen.poll()}:\n{self.stderr}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not come up:\n{self.stderr[-3000:]}")
            time.sleep(0.05)


def start_replicas(
    envs: Mapping[str, Mapping[str, str]], fake, debug: tuple[str, ...] = ()
) -> dict[str, Replica]:
    """Start one replica per name at once (those named in ``debug`` with --debug), then wait
    until every one answers /healthz. On a failure, the replicas already started are stopped."""
    started: dict[str, Replica] = {}
    try:
        for name, env in envs.items():
            started[name] = Replica(name, env, fake, debug=name in debug)
        for replica in started.values():
            replica.wait_ready()
    except BaseException:
        stop_all(started.values())
        raise
    return started


def stop_all(procs) -> None:
    for proc in procs:
        proc.stop()


def together(*calls: Callable[[], object]) -> list[object]:
    """Run each call on its own thread, released at the same instant; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> object:
    """Poll ``predicate`` until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)
