"""`ecm-bot doctor` reports each system as ok, embedded, missing or failing, with a fix."""

from __future__ import annotations

import socket

from fake_llm import FakeAnthropic, FakeOpenAI
from fake_slack import FakeSlack

from bot.doctor import run_checks


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def by_system(checks):
    return {c.system: c for c in checks}


def test_nothing_configured_is_embedded_or_missing_and_nothing_fails(demo):
    checks = by_system(run_checks({}))
    assert checks["slack"].status == "missing" and "SLACK_BOT_TOKEN" in checks["slack"].fix
    assert checks["warehouse"].status == "embedded"
    assert checks["sheet"].status == "embedded"
    assert checks["llm"].status == "missing"


def test_configured_systems_are_checked_for_real(demo):
    fake = FakeSlack().start()
    anthropic, openai = FakeAnthropic(api_key="k").start(), FakeOpenAI(api_key="k").start()
    try:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-t",
            "SLACK_API_URL": fake.url,
            "SLACK_APP_TOKEN": "xapp",
            "REDSHIFT_HOST": "127.0.0.1",
            "REDSHIFT_PORT": str(closed_port()),
            "REDSHIFT_DATABASE": "db",
            "REDSHIFT_USER": "u",
            "REDSHIFT_PASSWORD": "secret-pw",
            "REDSHIFT_SSL": "false",
            "ANTHROPIC_API_KEY": "k",
            "ANTHROPIC_BASE_URL": anthropic.url,
            "OPENAI_API_KEY": "k",
            "OPENAI_BASE_URL": openai.url,
        }
        checks = by_system(run_checks(env))
    finally:
        fake.stop()
        anthropic.stop()
        openai.stop()
    assert checks["slack"].status == "ok" and "UBOT" in checks["slack"].detail
    assert checks["warehouse"].status == "failing" and "secret-pw" not in checks["warehouse"].detail
    assert checks["warehouse"].fix
    assert checks["llm"].status == "ok"
    models = {k: c for k, c in checks.items() if k.startswith("model ")}
    assert len(models) == 5 and all(c.status == "ok" for c in models.values()), models
    assert "served by anthropic" in checks["model claude-sonnet-5-5"].detail
    assert anthropic.model_lookups and openai.model_lookups


def test_a_rejected_slack_token_is_failing_with_a_fix(demo):
    fake = FakeSlack().start()
    fake.answer = lambda method, params: (200, {}, {"ok": False, "error": "invalid_auth"})
    try:
        check = by_system(run_checks({"SLACK_BOT_TOKEN": "xoxb-bad", "SLACK_API_URL": fake.url}))
    finally:
        fake.stop()
    assert check["slack"].status == "failing" and "invalid_auth" in check["slack"].detail


def test_doctor_says_where_alerts_go_and_what_is_still_undelivered(demo):
    from bot.alerts.rules import Finding
    from bot.alerts.store import AlertStore

    assert by_system(run_checks({}))["alerts"].status == "missing"
    env = {"PAGERDUTY_ROUTING_KEY": "a" * 32}
    assert by_system(run_checks(env))["alerts"].status == "ok"
    failing = Finding("triage-and-assign", "failure", True, "the last run failed")
    assert AlertStore(demo.stores.db).open(failing, ["pagerduty"], None) is not None
    check = by_system(run_checks(env))["alerts"]
    assert check.status == "warning" and "1 open, 1 delivery(ies) waiting" in check.detail
