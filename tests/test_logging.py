"""Logs you can use: the long-running commands print INFO lines (the CLI's quiet WARNING
default does not hide them), ECM_LOG_FORMAT=json writes one JSON object a line with the skill
run's labels, and no record attribute beyond those fields (customer data) is written."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import spawn
from conftest import MANAGER
from fake_slack import FakeSlack

from bot.agents.assistant import Assistant
from bot.logs import JsonFormatter, bind_execution, configure, log_format, unbind_execution
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.settings_check import problems

ECM_BOT = str(Path(sys.executable).parent / "ecm-bot")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def json_root_handler():
    """A JSON handler on the root logger (INFO) for the test; its output as a StringIO."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_json_line_has_the_fields_and_the_skill_runs_labels_and_nothing_else():
    record = logging.LogRecord(
        "bot.x", logging.WARNING, __file__, 1, "order %s late", ("AE1",), None
    )
    record.customer_ref = "CUST-0042"  # what extra={...} does: never written
    record.notes = "called Mr Smith on +971..."
    token = bind_execution("exec-1", "wf-1", "order-details", "field")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        unbind_execution(token)
    assert set(line) == {
        "timestamp", "level", "logger", "message", "execution_id", "workflow_id", "skill", "role",
    }  # fmt: skip
    assert line["level"] == "WARNING" and line["logger"] == "bot.x"
    assert line["message"] == "order AE1 late" and line["timestamp"].endswith("+00:00")
    assert (line["execution_id"], line["workflow_id"], line["skill"], line["role"]) == (
        "exec-1", "wf-1", "order-details", "field")  # fmt: skip
    outside = json.loads(JsonFormatter().format(record))
    assert "execution_id" not in outside and "CUST-0042" not in json.dumps(outside)


def test_an_exception_is_one_json_line_with_its_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text and "ValueError: boom" in json.loads(text)["exception"]


def test_log_lines_inside_a_skill_run_carry_its_execution(triaged, json_root_handler):
    dead = f"http://127.0.0.1:{free_port()}"
    assistant = Assistant.from_env(
        {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": dead, "ECM_LLM_TIMEOUT": "2"}
    )
    maya = Roster.load(triaged.stores.workbook).resolve(MANAGER)
    skill = "pattern-intelligence"
    result = execute(triaged.registry, triaged.stores, skill, maya, {}, assistant=assistant)
    lines = json_lines(json_root_handler.getvalue())
    inside = [x for x in lines if f"narration for {skill} unavailable" in x["message"]]
    assert inside, lines
    assert inside[0]["execution_id"] == result.execution_id
    assert inside[0]["workflow_id"] == result.workflow_id
    assert (inside[0]["skill"], inside[0]["role"]) == (skill, "manager")
    logging.getLogger("bot.test").warning("after the run")
    lines = json_lines(json_root_handler.getvalue())
    (after,) = [x for x in lines if x["message"] == "after the run"]
    assert "execution_id" not in after


def test_configure_replaces_the_handler_so_a_later_info_level_is_printed(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure(logging.WARNING, {"ECM_LOG_FORMAT": "json"})
        logging.getLogger("bot.test").info("hidden")
        configure(logging.INFO, {"ECM_LOG_FORMAT": "json"})
        logging.getLogger("bot.test").info("shown")
        err = capsys.readouterr().err
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    assert [x["message"] for x in json_lines(err)] == ["shown"]


def test_a_malformed_log_format_is_refused_by_doctor_and_falls_back_to_text():
    assert problems({"ECM_LOG_FORMAT": "jsonl"}) == ["ECM_LOG_FORMAT='jsonl' is not text or json"]
    assert problems({"ECM_LOG_FORMAT": "JSON"}) == [] and log_format({"ECM_LOG_FORMAT": "JSON"})
    assert log_format({"ECM_LOG_FORMAT": "jsonl"}) == "text" and log_format({}) == "text"


def test_the_scheduler_prints_its_info_lines_as_text(tmp_path):
    env = {"PATH": os.environ["PATH"], "ECM_DATA_DIR": str(tmp_path)}
    done = spawn.run(
        [ECM_BOT, "scheduler", "--once"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert " INFO bot.scheduling.runner maintenance: " in done.stderr


def test_the_scheduler_logs_json_when_asked(tmp_path):
    env = {"PATH": os.environ["PATH"], "ECM_DATA_DIR": str(tmp_path), "ECM_LOG_FORMAT": "json"}
    done = spawn.run(
        [ECM_BOT, "scheduler", "--once"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stderr)
    assert any(x["logger"] == "bot.scheduling.runner" and x["level"] == "INFO" for x in lines)
    assert all({"timestamp", "level", "logger", "message"} <= set(x) for x in lines)


def test_serve_prints_its_info_lines_as_json(tmp_path):
    fake = FakeSlack().start()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ECM_"))},
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": fake.url,
        "PORT": str(port),
        "ECM_DATA_DIR": str(tmp_path),
        "ECM_LOG_FORMAT": "json",
    }
    proc = spawn.Popen(
        [ECM_BOT, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.1)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        fake.stop()
    listening = [x for x in json_lines(err) if x["logger"] == "bot.slack.server"]
    assert listening and listening[0]["level"] == "INFO", err
    assert listening[0]["message"] == f"ECM bot listening on http://0.0.0.0:{port}/slack/events"
