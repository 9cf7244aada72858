"""Alerts from the skills' monitoring thresholds, missed cron slots and sheet-sync lag,
delivered through a fake PagerDuty Events API and the fake Slack Web API on loopback, with the
real system of record on both engines. Failures are real: triage runs against a warehouse
file that is not a database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import spawn
from click.testing import CliRunner
from conftest import MANAGER, SARAH
from fake_pagerduty import FakePagerDuty
from fake_slack import FakeSlack
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from tenacity import wait_none

from bot.alerts.engine import AlertEngine
from bot.alerts.pagerduty import PagerDutyEvents
from bot.alerts.store import AlertStore
from bot.clock import now, ts
from bot.demo.seed import seed_demo
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.scheduling.runner import Scheduler
from bot.settings_check import problems
from bot.skills.registry import Registry
from bot.slack.alerts import SlackAlerts
from bot.slack.app import web_client
from bot.slack.settings import SlackSettings
from bot.stores.factory import open_stores

KEY = "0123456789abcdef0123456789abcdef"  # an integration key's shape: 32 of [a-z0-9]
FAILURE = "triage-and-assign:failure"
GRACE = timedelta(minutes=30)
BOT = Path(__file__).resolve().parent.parent / "bot"


@pytest.fixture
def pagerduty():
    fake = FakePagerDuty().start()
    yield fake
    fake.stop()


@pytest.fixture
def slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@dataclass
class Site:
    """A seeded data directory on one engine, whose triage can be broken and mended."""

    path: Path
    env: dict
    registry: Registry

    def stores(self):
        return open_stores(self.path, env=self.env)

    def triage(self, trigger: str = "cli"):
        stores = self.stores()  # a fresh warehouse connection each run
        manager = Roster.load(stores.workbook).resolve(MANAGER)
        return execute(self.registry, stores, "triage-and-assign", manager, {}, trigger=trigger)

    def break_warehouse(self) -> None:
        (self.path / "warehouse.db").rename(self.path / "warehouse.ok")
        (self.path / "warehouse.db").write_bytes(b"this is not a database")

    def mend_warehouse(self) -> None:
        (self.path / "warehouse.ok").replace(self.path / "warehouse.db")

    def fail_triage(self) -> None:
        self.break_warehouse()
        with pytest.raises(sqlite3.DatabaseError):
            self.triage()

    def alerts(self) -> AlertStore:
        return AlertStore(self.stores().db)


@pytest.fixture
def site(engine_env, tmp_path, registry) -> Site:
    """30 stuck orders seeded, on embedded SQLite and on PostgreSQL."""
    seed_demo(tmp_path, open_stores(tmp_path, env=engine_env).workbook, orders=30, seed=3)
    return Site(tmp_path, engine_env, registry)


@pytest.fixture
def sqlite_site(tmp_path, registry) -> Site:
    env = {"ECM_DATA_DIR": str(tmp_path)}
    seed_demo(tmp_path, open_stores(tmp_path, env=env).workbook, orders=30, seed=3)
    return Site(tmp_path, env, registry)


def channels(slack, pagerduty, routing_key: str = KEY) -> dict:
    """The bot's destinations against the fakes, retrying as in production without the sleeps
    (the fakes answer 429 with Retry-After: 0, and no jitter or back-off is added)."""
    client = web_client(
        SlackSettings(bot_token="xoxb-test", api_url=slack.url),
        rate_limit_jitter=0.0,
        server_error_backoff=FixedValueRetryIntervalCalculator(0.0),
    )
    return {
        "slack": SlackAlerts(client, "CALERT"),
        "pagerduty": PagerDutyEvents(routing_key, pagerduty.url, wait=wait_none()),
    }


def engine(site: Site, slack, pagerduty, **kw) -> AlertEngine:
    routing_key = kw.pop("routing_key", KEY)
    return AlertEngine(
        site.registry, site.stores, channels(slack, pagerduty, routing_key), grace=GRACE, **kw
    )


def posted(slack) -> list[dict]:
    """The alert channel's messages."""
    return [p for p in slack.of("chat.postMessage") if p.get("channel") == "CALERT"]


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# -- a failed run --------------------------------------------------------------------------------
def test_a_failing_manager_skill_pages_once_posts_once_and_resolves_when_it_succeeds(
    site, slack, pagerduty
):
    alerts = engine(site, slack, pagerduty)
    site.fail_triage()
    first, second = alerts.check(), alerts.check()  # two passes: still one alert
    assert first.opened == [FAILURE] and second.opened == [] and second.still_open == [FAILURE]
    (trigger,) = pagerduty.accepted("trigger")
    assert trigger["dedup_key"] == "ecm-bot:triage-and-assign:failure"
    payload = trigger["payload"]
    assert payload["severity"] == "critical"  # a manager skill that assigns the P1 tickets
    assert payload["source"] == "ecm-bot" and payload["component"] == "triage-and-assign"
    assert payload["summary"] == "triage-and-assign: the last run failed"
    details = payload["custom_details"]
    assert "file is not a database" in details["last_error"]
    assert details["see"].startswith("ecm-bot trace --date ") and details["execution_id"]
    (message,) = posted(slack)
    text = json.dumps(message["blocks"], ensure_ascii=False)
    for needed in (
        "triage-and-assign: the last run failed",  # the skill
        "failed; 1 of 1 runs in the window failed (threshold: alert_on_failure: true)",
        "the last 60 min",  # the window
        "DatabaseError: file is not a database",  # the last error
        f"`ecm-bot trace --date {details['see'][21:31]}` (execution {details['execution_id']}",
    ):
        assert needed in text, needed

    site.mend_warehouse()
    site.triage()
    third = alerts.check()
    assert third.resolved == [FAILURE]
    (resolve,) = pagerduty.accepted("resolve")
    assert resolve["dedup_key"] == trigger["dedup_key"]
    alert_post, resolution = posted(slack)
    slack_trigger = site.alerts().delivery(FAILURE, 1, "slack", "trigger")
    assert slack_trigger is not None and resolution["thread_ts"] == slack_trigger.ref
    assert "Resolved: triage-and-assign" in json.dumps(resolution["blocks"])
    assert "succeeded" in json.dumps(resolution["blocks"])
    assert alerts.check().sent == [] and len(pagerduty.calls) == 2 and len(posted(slack)) == 2
    events = [(e["event"], e["channel"]) for e in reversed(site.alerts().events(50))]
    assert events == [
        ("opened", None),
        ("sent", "pagerduty"),
        ("sent", "slack"),
        ("resolved", None),
        ("sent", "pagerduty"),
        ("sent", "slack"),
    ]


def test_two_processes_checking_at_once_page_once_and_post_once(
    pg_url, tmp_path, registry, slack, pagerduty
):
    env = {"ECM_DATA_DIR": str(tmp_path), "ECM_DATABASE_URL": pg_url}
    seed_demo(tmp_path, open_stores(tmp_path, env=env).workbook, orders=30, seed=3)
    Site(tmp_path, env, registry).fail_triage()
    proc_env = {
        **env,
        "PATH": "/usr/bin:/bin",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.url,
        "ECM_ALERT_CHANNEL": "CALERT",
        "PAGERDUTY_ROUTING_KEY": KEY,
        "PAGERDUTY_EVENTS_URL": pagerduty.url,
    }
    for _round in range(2):
        procs = [
            spawn.Popen(
                [sys.executable, "-m", "bot", "alerts", "check"],
                env=proc_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
    assert len(pagerduty.accepted("trigger")) == 1 and pagerduty.statuses() == [202]
    assert len(posted(slack)) == 1


# -- thresholds over the window -----------------------------------------------------------------
def record(stores, skill: str, outcomes: list[str], duration_ms: float = 40.0) -> None:
    """Executions of a field skill, started now (the order is the order recorded)."""
    for i, outcome in enumerate(outcomes):
        stores.state.record_execution(
            {
                "id": f"{skill}-{outcome}-{i}-{now():%H%M%S}-{len(outcomes)}",
                "workflow_id": "w",
                "skill": skill,
                "role": "field",
                "caller": SARAH,
                "trigger": "chat",
                "started_at": ts(now()),
                "duration_ms": duration_ms,
                "outcome": outcome,
                "error": "RuntimeError: boom" if outcome == "error" else None,
            }
        )


def test_a_success_rate_below_its_threshold_alerts_on_slack_only_and_resolves(
    site, slack, pagerduty
):
    alerts = engine(site, slack, pagerduty)
    record(site.stores(), "my-tickets", ["error"] * 3 + ["ok"] * 7)  # the last run is ok
    report = alerts.check()
    assert report.opened == ["my-tickets:success_rate"]
    assert pagerduty.calls == []  # field skills don't page
    (message,) = posted(slack)
    text = json.dumps(message["blocks"])
    assert "success 70.0% (7 of 10 runs ok) (threshold: 95%)" in text
    assert "my-tickets: success rate 70.0% is below 95%" in text
    assert "RuntimeError: boom" in text and "the last 60 min" in text

    record(site.stores(), "my-tickets", ["ok"] * 60)  # 67 of 70: 95.7 %
    assert alerts.check().resolved == ["my-tickets:success_rate"]
    assert len(posted(slack)) == 2 and pagerduty.calls == []


def test_a_p95_above_its_threshold_alerts_and_few_runs_are_not_judged(
    sqlite_site, slack, pagerduty
):
    alerts = engine(sqlite_site, slack, pagerduty)
    record(sqlite_site.stores(), "order-details", ["ok"] * 4, duration_ms=9000.0)
    assert alerts.check().opened == []  # 4 runs: fewer than min_runs (5)
    record(sqlite_site.stores(), "order-details", ["ok"], duration_ms=9000.0)
    assert alerts.check().opened == ["order-details:latency_p95"]
    (message,) = posted(slack)
    assert "p95 9.0 s over 5 runs (threshold: 5 s)" in json.dumps(message["blocks"])


# -- the dead man's switch ----------------------------------------------------------------------
def test_a_missed_slot_alerts_after_its_grace_and_resolves_when_a_later_slot_runs(
    site, slack, pagerduty
):
    alerts = engine(site, slack, pagerduty)
    published: list = []
    sched = Scheduler(site.registry, site.stores, published.append, GRACE, check=alerts.check)
    assert sched.tick(at(3, 1)) == ["triage-and-assign@2026-11-24 03:00:00"]  # arms the switch
    # the 10:00 UTC slot (14:00 Dubai) never runs: the clock is down
    assert alerts.check(at(10, 31)).opened == []  # still inside grace + the skill's timeout
    report = alerts.check(at(10, 33))
    assert report.opened == ["triage-and-assign:missed_slot"]
    (trigger,) = pagerduty.accepted("trigger")
    assert trigger["dedup_key"] == "ecm-bot:triage-and-assign:missed_slot"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["summary"] == (
        "triage-and-assign: the 14:00 Asia/Dubai slot (2026-11-24 10:00 UTC) did not run"
    )
    (message,) = posted(slack)
    text = json.dumps(message["blocks"])
    assert "did not run by 10:32 UTC" in text and "ecm-bot scheduler" in text
    assert "`ecm-bot trace --date 2026-11-24`" in text

    assert sched.tick(at(16, 1)) == ["triage-and-assign@2026-11-24 16:00:00"]  # back
    (resolve,) = pagerduty.accepted("resolve")
    assert resolve["dedup_key"] == trigger["dedup_key"] and len(published) == 2
    assert len(posted(slack)) == 2


def test_a_slot_that_ran_and_was_refused_alerts(sqlite_site, slack, pagerduty):
    """A refusal (here: no warehouse at all) is not a `failure` alert, so the slot raises it."""
    alerts = engine(sqlite_site, slack, pagerduty)
    sched = Scheduler(sqlite_site.registry, sqlite_site.stores, list().append, GRACE)
    (sqlite_site.path / "warehouse.db").rename(sqlite_site.path / "warehouse.ok")
    assert sched.tick(at(3, 1)) == []
    report = alerts.check(at(3, 2))
    assert report.opened == ["triage-and-assign:missed_slot"]
    (trigger,) = pagerduty.accepted("trigger")
    assert "ran and failed" in trigger["payload"]["summary"]
    assert "No warehouse data" in trigger["payload"]["custom_details"]["last_error"]


# -- destinations down --------------------------------------------------------------------------
def test_pagerduty_down_keeps_the_alert_and_a_later_pass_sends_it(sqlite_site, slack, pagerduty):
    alerts = engine(sqlite_site, slack, pagerduty)
    sqlite_site.fail_triage()
    pagerduty.fail_next(503, times=3)
    first = alerts.check()
    assert first.kept == [f"pagerduty trigger {FAILURE}"] and first.sent == [
        f"slack trigger {FAILURE}"
    ]
    assert pagerduty.statuses() == [503, 503, 503]  # a bounded retry inside one pass
    kept = sqlite_site.alerts().delivery(FAILURE, 1, "pagerduty", "trigger")
    assert kept is not None and kept.status == "pending" and kept.attempts == 1
    assert "HTTP 503" in (kept.last_error or "")
    second = alerts.check()
    assert second.sent == [f"pagerduty trigger {FAILURE}"] and second.kept == []
    assert len(pagerduty.accepted("trigger")) == 1 and len(posted(slack)) == 1


def test_a_400_from_pagerduty_is_recorded_and_not_retried(sqlite_site, slack, pagerduty):
    alerts = engine(sqlite_site, slack, pagerduty, routing_key="not-an-integration-key")
    sqlite_site.fail_triage()
    first = alerts.check()
    assert first.rejected == [f"pagerduty trigger {FAILURE}"]
    assert pagerduty.statuses() == [400]
    rejected = sqlite_site.alerts().delivery(FAILURE, 1, "pagerduty", "trigger")
    assert rejected is not None and rejected.status == "rejected"
    assert "'routing_key' is invalid" in (rejected.last_error or "")
    alerts.check()
    sqlite_site.mend_warehouse()
    sqlite_site.triage()
    assert alerts.check().resolved == [FAILURE]
    assert pagerduty.statuses() == [400]  # never again, and no resolve for it
    assert len(posted(slack)) == 2  # Slack got the alert and its resolution


def test_slack_down_keeps_the_alert_for_the_next_pass(sqlite_site, slack, pagerduty):
    alerts = engine(sqlite_site, slack, pagerduty)
    sqlite_site.fail_triage()
    slack.fail_next("chat.postMessage", 429, times=4)  # the client's own retries: 3
    first = alerts.check()
    assert first.kept == [f"slack trigger {FAILURE}"] and posted(slack) == []
    assert len(slack.of("chat.postMessage!429")) == 4  # a bounded retry inside one pass
    assert alerts.check().sent == [f"slack trigger {FAILURE}"]
    assert len(posted(slack)) == 1 and len(pagerduty.accepted("trigger")) == 1


def test_a_429_waits_its_retry_after_plus_at_most_the_jitter(slack, monkeypatch):
    """The client's 429 wait, which the other tests set to Retry-After: 0 without jitter:
    production waits Retry-After plus up to a second at random (slack_sdk's own)."""
    import time

    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)  # the waits, recorded, not slept
    settings = SlackSettings(bot_token="xoxb-test", api_url=slack.url)
    slack.fail_next("chat.postMessage", 429, retry_after=2)
    web_client(settings).chat_postMessage(channel="CALERT", text="x")
    slack.fail_next("chat.postMessage", 429, retry_after=2)
    web_client(settings, rate_limit_jitter=0.0).chat_postMessage(channel="CALERT", text="y")
    assert len(slack.of("chat.postMessage!429")) == 2 and len(posted(slack)) == 2
    assert len(slept) == 2 and 2 <= slept[0] < 3 and slept[1] == 2


def test_alerting_that_fails_never_fails_the_scheduled_run(sqlite_site, slack, pagerduty):
    alerts = engine(sqlite_site, slack, pagerduty)
    sqlite_site.fail_triage()
    pagerduty.fail_next(503, times=3)
    slack.fail_next("chat.postMessage", 429, times=4)
    assert alerts.check().kept  # both destinations down: kept
    sqlite_site.mend_warehouse()
    published: list = []

    def check_then_break(moment):
        alerts.check(moment)
        raise RuntimeError("the alert pass itself blew up")

    sched = Scheduler(  # 12 h of grace: the latest slot is always due
        sqlite_site.registry,
        sqlite_site.stores,
        published.append,
        timedelta(hours=12),
        check=check_then_break,
    )
    (ran,) = sched.tick()
    assert ran.startswith("triage-and-assign@") and len(published) == 1
    # recovered before either destination took it: nothing is sent, the history keeps it
    assert pagerduty.accepted() == [] and posted(slack) == []
    events = {e["event"] for e in sqlite_site.alerts().events(50)}
    assert {"opened", "send_failed", "resolved", "superseded"} <= events


# -- sheet sync lag -----------------------------------------------------------------------------
def test_a_sheet_sync_that_lags_beyond_its_limit_alerts_and_resolves(sqlite_site, slack, pagerduty):
    alerts = engine(sqlite_site, slack, pagerduty, sync_lag_limit=timedelta(minutes=5))
    db = sqlite_site.stores().db
    db.execute(
        "INSERT INTO sync_status (name, last_ok_at, last_try_at, last_error) "
        "VALUES ('sheets', ?, ?, 'Google Sheets: HTTP 503')",
        [ts(now() - timedelta(minutes=20)), ts(now())],
    )
    assert alerts.check().opened == ["sheets-sync:sync_lag"]
    (trigger,) = pagerduty.accepted("trigger")
    assert trigger["payload"]["severity"] == "warning"
    assert trigger["payload"]["custom_details"]["last_error"] == "Google Sheets: HTTP 503"
    db.execute("UPDATE sync_status SET last_ok_at = ?, last_error = NULL", [ts(now())])
    assert alerts.check().resolved == ["sheets-sync:sync_lag"]


# -- the command line ---------------------------------------------------------------------------
def test_alerts_lists_what_is_open_where_it_went_and_the_history(
    sqlite_site, slack, pagerduty, monkeypatch
):
    import bot.cli.alerts_cmd  # noqa: F401  (registers `ecm-bot alerts`)
    from bot.cli import cli

    for name, value in {
        "ECM_DATA_DIR": str(sqlite_site.path),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.url,
        "ECM_ALERT_CHANNEL": "CALERT",
        "PAGERDUTY_ROUTING_KEY": KEY,
        "PAGERDUTY_EVENTS_URL": pagerduty.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    monkeypatch.setattr("bot.alerts.pagerduty.BACKOFF", wait_none())  # retry without sleeping
    sqlite_site.fail_triage()
    pagerduty.fail_next(503, times=3)
    done = CliRunner().invoke(cli, ["alerts", "check"])
    assert done.exit_code == 0, done.output
    assert pagerduty.statuses() == [503, 503, 503]  # the command's own bounded retry
    assert f"Alerts: 1 opened ({FAILURE}), 0 resolved, 0 still open" in done.output
    assert "kept for the next pass (pagerduty trigger" in done.output
    listing = CliRunner().invoke(cli, ["alerts"])
    assert listing.exit_code == 0, listing.output
    out = listing.output
    assert "Open alerts (1):" in out and "[critical] triage-and-assign: the last run failed" in out
    assert "last error: DatabaseError: file is not a database" in out
    assert "see: ecm-bot trace --date" in out
    assert "delivered: pagerduty pending (1 tries; PagerDuty: HTTP 503" in out
    assert "slack sent" in out and "opened" in out and "send_failed pagerduty" in out
    data = json.loads(CliRunner().invoke(cli, ["alerts", "--json"]).output)
    assert data["open"][0]["key"] == FAILURE and data["history"]


# -- configuration ------------------------------------------------------------------------------
def test_manager_skills_page_and_field_skills_do_not(registry):
    """Field skills never page; the manager's batch and workflow skills do. A manager's
    read-only list or an away may choose Slack only (its config says why)."""
    for skill in registry:
        channels = skill.config.monitoring.alert_channels
        if skill.role == "field":
            assert channels == ["slack"], skill.name
        else:
            assert channels[0] == "slack", skill.name
    for name in ("triage-and-assign", "ecm-daily-flow", "run-ecm", "assign-tickets"):
        assert registry.get(name).config.monitoring.alert_channels == ["slack", "pagerduty"]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("alert_channels", ["sms"], ["monitoring.alert_channels.0", "'slack' or 'pagerduty'"]),
        ("window_minutes", 0, ["monitoring.window_minutes", "greater than 0"]),
    ],
    ids=["unknown-channel", "empty-window"],
)
def test_a_bad_alert_setting_in_a_skill_config_fails_naming_the_field(
    tmp_path, field, value, words
):
    from helpers_skills import copy_skill, edit_config

    from bot.errors import SkillConfigError
    from bot.skills.loader import load_skill

    folder = copy_skill(tmp_path, "field", "my-tickets")
    edit_config(folder, lambda d: d["monitoring"].__setitem__(field, value))
    with pytest.raises(SkillConfigError) as caught:
        load_skill(folder)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"PAGERDUTY_ROUTING_KEY": "R0123ABC"}, "integration key is 32 lowercase"),
        ({"PAGERDUTY_ROUTING_KEY": KEY.upper()}, "integration key is 32 lowercase"),
        (
            {"PAGERDUTY_ROUTING_KEY": KEY, "PAGERDUTY_EVENTS_URL": "events.pagerduty.com"},
            "PAGERDUTY_EVENTS_URL must be a https/http:// URL",
        ),
        ({"PAGERDUTY_EVENTS_URL": "https://events.pagerduty.com/v2/enqueue"}, "ROUTING_KEY"),
        ({"ECM_ALERT_CHANNEL": "CALERT"}, "SLACK_BOT_TOKEN is not"),
        ({"ECM_ALERT_WINDOW_MINUTES": "0"}, "ECM_ALERT_WINDOW_MINUTES=0 is outside"),
    ],
    ids=["short-key", "upper-key", "url", "url-without-key", "channel-no-token", "window"],
)
def test_doctor_names_a_malformed_alert_setting(env, says):
    found = problems(env)
    assert len(found) == 1 and says in found[0], found
    assert KEY not in found[0]  # a key is never echoed


def test_a_well_formed_pagerduty_setting_has_no_problem():
    assert problems({"PAGERDUTY_ROUTING_KEY": KEY, "PAGERDUTY_EVENTS_URL": "https://x.io/v2"}) == []


def test_the_alert_core_imports_no_vendor_sdk_or_http_library():
    from test_architecture import VENDORS, imports

    for path in (BOT / "alerts").glob("*.py"):
        allowed = {"requests", "tenacity"} if path.name == "pagerduty.py" else set()
        bad = {
            m
            for m in imports(path)
            if m.split(".")[0] in {*VENDORS, "requests", "urllib3", "httpx"} - allowed
        }
        assert not bad, f"{path} imports {bad}"
