"""Prometheus ``/metrics`` on the HTTP Slack app and on the health port (Socket Mode worker,
scheduler, sheet sync): the per-skill series after a skill runs, model use, and the business
gauges read from the shared database at scrape time (SQLite and PostgreSQL), scraped over
real servers on 127.0.0.1."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import spawn
from conftest import MANAGER, SARAH
from fake_slack import FakeSlack
from prometheus_client.parser import text_string_to_metric_families
from slack_harness import serve_bot

from bot.clock import now, ts
from bot.gauges import metrics_app
from bot.health import serve_health
from bot.observability import metrics
from bot.stores.factory import open_stores

SARAH_ID = "U0SARAH003"
OPEN = ("ASSIGNED", "IN_PROGRESS", "ESCALATED")
Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(base: str) -> Samples:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse(answer.read().decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def runs(samples: Samples, skill: str, role: str, outcome: str = "ok") -> float:
    return value(
        samples, metrics.SKILL_EXECUTIONS, domain="ecm", role=role, skill=skill, outcome=outcome
    )


def timed(samples: Samples, skill: str, role: str) -> float:
    name = metrics.SKILL_DURATION + "_count"
    return value(samples, name, domain="ecm", role=role, skill=skill)


def open_tickets(demo) -> int:
    return len([r for r in demo.rows("Assignments") if r["Status"] in OPEN])


@pytest.fixture
def served(triaged, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    app = serve_bot(triaged.registry, triaged.path, fake)
    yield app, fake, triaged
    app.stop()
    fake.stop()


def test_the_http_app_exposes_the_per_skill_series_after_a_skill_runs(served):
    app, fake, demo = served
    before = scrape(app.base)
    labels = {"domain": "ecm", "role": "manager", "skill": "triage-and-assign", "outcome": "error"}
    assert (metrics.SKILL_EXECUTIONS, frozenset(labels.items())) in before  # at zero, if unused
    assert app.command(SARAH_ID, "my-tickets").status == 200
    deadline = time.monotonic() + 10
    while True:  # the listener runs after the ack: poll, bounded
        after = scrape(app.base)
        if runs(after, "my-tickets", "field") > runs(before, "my-tickets", "field"):
            break
        assert time.monotonic() < deadline, "my-tickets never showed up in /metrics"
        time.sleep(0.05)
    assert timed(after, "my-tickets", "field") >= timed(before, "my-tickets", "field") + 1
    le = metrics.SKILL_DURATION + "_bucket"
    assert value(after, le, domain="ecm", role="field", skill="my-tickets", le="+Inf") >= 1
    assert value(after, metrics.DATABASE_UP) == 1
    assert total(after, metrics.OPEN_TICKETS) == open_tickets(demo)
    assert total(after, "process_cpu_seconds_total") > 0  # the client's process collector


def test_the_health_port_serves_metrics_beside_health(triaged):
    server = serve_health(0, metrics=metrics_app(triaged.registry))
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        before = scrape(base)
        triaged.run(SARAH, "my-tickets")
        with pytest.raises(Exception, match="is not an order ID"):
            triaged.run(SARAH, "order-details", order_id="not-an-order")
        after = scrape(base)
        assert runs(after, "my-tickets", "field") == runs(before, "my-tickets", "field") + 1
        refused = runs(after, "order-details", "field", "refused")
        assert refused == runs(before, "order-details", "field", "refused") + 1
        request = urllib.request.Request(
            base + "/metrics", headers={"Accept": "application/openmetrics-text"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.read().decode().rstrip().endswith("# EOF")
        with urllib.request.urlopen(base + "/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_model_use_is_counted_per_skill_model_and_kind(triaged):
    from fake_llm import FakeAnthropic, text

    from bot.agents.assistant import Assistant
    from bot.runtime.dispatch import route
    from bot.runtime.roster import Roster

    server = serve_health(0, metrics=metrics_app(triaged.registry))
    base = f"http://127.0.0.1:{server.server_port}"
    anthropic = FakeAnthropic().start()
    try:
        env = {"ANTHROPIC_API_KEY": "test-a", "ANTHROPIC_BASE_URL": anthropic.url}
        assistant = Assistant.from_env(env, notify=lambda message: None)
        anthropic.script(text("Replay the webhook first."))
        before = scrape(base)
        ticket = triaged.tickets_of(SARAH)[0]
        sarah = Roster.load(triaged.stores.workbook).resolve(SARAH)
        route(
            triaged.registry,
            triaged.stores,
            sarah,
            f"order {ticket['Order ID']}",
            assistant=assistant,
        )
        after = scrape(base)
    finally:
        anthropic.stop()
        server.shutdown()
        server.server_close()
    record = [e for e in triaged.stores.state.executions() if e["skill"] == "order-details"][-1]
    model = record["model"]
    for kind, used in (("input", record["tokens_in"]), ("output", record["tokens_out"])):
        labels = {"skill": "order-details", "model": model, "kind": kind}
        assert used > 0
        assert value(after, metrics.LLM_TOKENS, **labels) - value(
            before, metrics.LLM_TOKENS, **labels
        ) == pytest.approx(used)
    spent = value(after, metrics.LLM_COST, skill="order-details", model=model) - value(
        before, metrics.LLM_COST, skill="order-details", model=model
    )
    assert spent == pytest.approx(record["cost"] or 0.0)


ORDER_ID = re.compile(r"^[A-Z]{2}[A-Z0-9]{8}$")
LABELS = {
    "domain", "role", "skill", "outcome", "model", "kind", "priority", "status", "reason", "state",
    "version", "track",  # a skill's few versions and live/shadow, from the canary metrics
}  # fmt: skip


def test_no_label_carries_an_order_id_an_email_or_anything_unbounded(triaged):
    server = serve_health(0, metrics=metrics_app(triaged.registry))
    try:
        oid = triaged.tickets_of(SARAH)[0]["Order ID"]
        triaged.run(SARAH, "order-details", order_id=oid)
        triaged.run(SARAH, "resolve-ticket", order_id=oid, notes="replayed the webhook")
        samples = scrape(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
    ours = [(n, dict(labels)) for n, labels in samples if n.startswith("ecm_")]
    assert ours
    for name, labels in ours:
        allowed = LABELS | {"le"} | ({"metric"} if name == metrics.CUSTOM_METRIC else set())
        assert set(labels) <= allowed, (name, labels)
        for v in labels.values():
            assert "@" not in v and not ORDER_ID.match(v) and oid not in v, (name, labels)


def _ticket(oid: str, priority: str, status: str, reason: str, hours: float, run: str) -> dict:
    return {
        "Order ID": oid,
        "Priority": priority,
        "Score": "50",
        "Why": "test",
        "Stuck Reason": reason,
        "Amount": "100",
        "Currency": "AED",
        "Hours Stuck at triage": hours,
        "Assigned Agent": SARAH,
        "Assigned At": ts(now() - timedelta(hours=1)),
        "Status": status,
        "Updated At": ts(now()),
        "Triage Run": run,
    }


def _execution(eid: str, skill: str, role: str, at, metrics_: dict) -> dict:
    return {
        "id": eid,
        "workflow_id": eid,
        "skill": skill,
        "role": role,
        "caller": MANAGER,
        "trigger": "chat",
        "started_at": ts(at),
        "duration_ms": 10.0,
        "outcome": "ok",
        "metrics": metrics_,
    }


def test_business_gauges_reflect_the_shared_database(engine_env, tmp_path, registry):
    stores = open_stores(tmp_path, env=engine_env)
    moment = now()
    state = stores.state
    state.record_execution(
        _execution("tri1", "triage-and-assign", "manager", moment - timedelta(hours=2), {})
    )
    state.record_execution(
        _execution(
            "tri0",
            "triage-and-assign",
            "manager",
            moment - timedelta(days=1),
            {"orders_triaged": 10, "assignment_accuracy": 0.5},
        )
    )
    state.record_execution(
        _execution(
            "tri2",
            "triage-and-assign",
            "manager",
            moment - timedelta(minutes=5),
            {"orders_triaged": 42, "assignment_accuracy": 0.75},
        )
    )
    stores.workbook.append(
        "Assignments",
        [  # LULU_NOT_CONFIRMED: SLA 4 h; FALCON_REJECTED: SLA 8 h
            _ticket("AE00000001", "P1", "ASSIGNED", "LULU_NOT_CONFIRMED", 3.0, "tri1"),  # 5 h
            _ticket("AE00000002", "P1", "ASSIGNED", "LULU_NOT_CONFIRMED", 1.0, "tri1"),  # 3 h
            _ticket("AE00000003", "P2", "IN_PROGRESS", "FALCON_REJECTED", 7.0, "tri1"),  # 9 h
            _ticket("AE00000004", "P3", "RESOLVED", "LULU_NOT_CONFIRMED", 30.0, "tri1"),
            _ticket("AE00000005", "P1", "ESCALATED", "FALCON_REJECTED", 0.5, "pruned"),  # 1.5 h
        ],
    )
    stores.db.execute(
        "INSERT INTO sync_status (name, last_ok_at, last_try_at, last_error, pending, requests) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ["sheets", ts(moment - timedelta(seconds=120)), ts(moment), "HTTP 429", 3, 10],
    )
    stores.db.executemany(  # the SLA watch's claims: three sent, one a dead process left
        "INSERT INTO sla_notices (order_id, agent, kind, at, sent_at) VALUES (?, ?, ?, ?, ?)",
        [
            ("AE00000001", "a@x", "warn:60", ts(moment), ts(moment)),
            ("AE00000001", "a@x", "warn:0", ts(moment), ts(moment)),
            ("AE00000003", "a@x", "escalate", ts(moment), ts(moment)),
            ("AE00000002", "a@x", "renotify:1", ts(moment), None),
        ],
    )
    server = serve_health(0, metrics=metrics_app(registry, env={**os.environ, **engine_env}))
    try:
        samples = scrape(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
    assert value(samples, metrics.DATABASE_UP) == 1
    notices = {
        (dict(k)["kind"], dict(k)["state"]): v
        for (n, k), v in samples.items()
        if n == metrics.SLA_NOTICES
    }
    assert notices == {
        ("warn", "sent"): 2,
        ("warn", "unsent"): 0,
        ("renotify", "sent"): 0,
        ("renotify", "unsent"): 1,
        ("escalate", "sent"): 1,
        ("escalate", "unsent"): 0,
    }
    tickets = {
        (dict(k)["priority"], dict(k)["status"]): v
        for (n, k), v in samples.items()
        if n == metrics.OPEN_TICKETS and v
    }
    assert tickets == {("P1", "ASSIGNED"): 2, ("P2", "IN_PROGRESS"): 1, ("P1", "ESCALATED"): 1}
    assert value(samples, metrics.OPEN_TICKETS, priority="P5", status="ASSIGNED") == 0
    assert value(samples, metrics.SLA_BREACHES, reason="LULU_NOT_CONFIRMED") == 1
    assert value(samples, metrics.SLA_BREACHES, reason="FALCON_REJECTED") == 1
    assert total(samples, metrics.SLA_BREACHES) == 2
    assert 120 <= value(samples, metrics.SYNC_LAG) < 3600
    assert value(samples, metrics.SYNC_FAILING) == 1
    custom = {"domain": "ecm", "role": "manager", "skill": "triage-and-assign"}
    assert value(samples, metrics.CUSTOM_METRIC, **custom, metric="orders_triaged") == 42
    assert value(samples, metrics.CUSTOM_METRIC, **custom, metric="assignment_accuracy") == 0.75


def test_a_database_that_does_not_answer_leaves_the_scrape_up(registry, tmp_path, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    env = {**os.environ, "ECM_DATABASE_URL": f"postgresql://ecm:pw@127.0.0.1:{port}/ecm"}
    server = serve_health(0, metrics=metrics_app(registry, env=env))
    try:
        samples = scrape(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
    assert value(samples, metrics.DATABASE_UP) == 0
    assert not total(samples, metrics.OPEN_TICKETS)
    labels = {"domain": "ecm", "role": "field", "skill": "my-tickets", "outcome": "ok"}
    assert (metrics.SKILL_EXECUTIONS, frozenset(labels.items())) in samples  # counters still


def test_the_scheduler_process_serves_metrics_on_its_health_port(triaged):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "ECM_DATA_DIR": str(triaged.path),
        "PATH": "/usr/bin:/bin",
        "ECM_HEALTH_PORT": str(port),
    }
    proc = spawn.Popen(
        [sys.executable, "-m", "bot", "scheduler", "--grace-minutes", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, samples = time.monotonic() + 30, None
        while samples is None:
            try:
                samples = scrape(f"http://127.0.0.1:{port}")
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, "the scheduler exited"
                assert time.monotonic() < deadline, "the scheduler never served /metrics"
                time.sleep(0.1)  # polling until the process is up
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert value(samples, metrics.DATABASE_UP) == 1
    assert total(samples, metrics.OPEN_TICKETS) == open_tickets(triaged)
    labels = {"domain": "ecm", "role": "manager", "skill": "triage-and-assign", "outcome": "ok"}
    assert (metrics.SKILL_EXECUTIONS, frozenset(labels.items())) in samples
