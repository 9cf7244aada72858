"""doctor catches what an operator gets wrong: half-configured systems and malformed values."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from bot.settings_check import problems


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"GOOGLE_SHEETS_CREDENTIALS": "{}"}, "ECM_SPREADSHEET_ID is not"),
        ({"REDSHIFT_PASSWORD": "p"}, "REDSHIFT_HOST or REDSHIFT_URL"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN"),
        ({"ECM_LLM_TIMEOUT": "-3"}, "ECM_LLM_TIMEOUT=-3 is outside"),
        ({"REDSHIFT_SSL": "flase"}, "'flase' is not true or false"),
        ({"ECM_DATABASE_URL": "mysql://h/db"}, "ECM_DATABASE_URL must be a postgresql"),
        ({"ECM_HEALTH_PORT": "http"}, "is not a number"),
        ({"ECM_LOG_FORMAT": "yaml"}, "ECM_LOG_FORMAT='yaml' is not text or json"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT must"),
    ],
    ids=[
        "sheets-half",
        "redshift-no-host",
        "slack-no-mode",
        "timeout",
        "bool",
        "url",
        "port",
        "log-format",
        "otlp-endpoint",
    ],
)
def test_a_setting_an_operator_got_wrong_is_named(env, says):
    found = problems(env)
    assert len(found) == 1 and says in found[0], found


def test_a_complete_and_well_formed_environment_has_no_problem():
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "ECM_DATABASE_URL": "postgresql://ecm:pw@db:5432/ecm",
        "REDSHIFT_SSL": "true",
        "ECM_LLM_TIMEOUT": "30",
        "ECM_LOG_FORMAT": "json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
    }
    assert problems(env) == []


def test_doctor_fails_naming_the_missing_variable(tmp_path, monkeypatch):
    from bot.cli import load_commands

    for key in list(os.environ):  # nothing configured but the one malformed value
        if key not in ("PATH", "HOME"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDSHIFT_SSL", "flase")
    done = CliRunner().invoke(load_commands(), ["doctor", "--json"])
    assert done.exit_code == 1, done.output
    (settings,) = [c for c in json.loads(done.stdout) if c["system"] == "settings"]
    assert settings["status"] == "failing" and "REDSHIFT_SSL" in settings["detail"]
