"""Two replicas on one PostgreSQL act as one bot: real `ecm-bot serve --http` and
`ecm-bot scheduler --once` processes share ECM_DATABASE_URL, the data directory (the demo
warehouse.db) and one fake Slack Web API. A redelivery, a race for triage, a cron slot, a
proposal and the monthly model budget each behave as if there were a single process."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import psycopg
import pytest
from conftest import MANAGER, SARAH, Demo
from fake_llm import FakeAnthropic, text, tool_use
from fake_slack import FakeSlack
from replica_procs import (
    ECM_BOT,
    Proc,
    replica_env,
    start_replicas,
    stop_all,
    together,
    wait_until,
)

from bot.clock import now, ts
from bot.demo.seed import seed_demo
from bot.scheduling.cron import cron_jobs, due
from bot.stores.factory import open_stores

MAYA, OMAR, SARAH_ID = "U0MAYA0001", "U0OMAR0002", "U0SARAH003"
OMAR_EMAIL = "omar.lead@example.com"
MANAGERS = {MAYA, OMAR}  # the demo roster's active managers
PAUSED = "monthly model budget is spent"


@pytest.fixture
def shared(pg_url, tmp_path, registry):
    """One system of record on PostgreSQL and one data directory (warehouse.db), seeded once
    by the test; every process below points at both. The database is pg_url's: reset for the
    next test once the replicas are gone (their sessions ended, every table emptied), not
    dropped and made again."""
    stores = open_stores(tmp_path, env={"ECM_DATABASE_URL": pg_url, "ECM_DATA_DIR": str(tmp_path)})
    seed_demo(tmp_path, stores.workbook, orders=120, seed=3)
    demo = Demo(tmp_path, registry, stores)
    demo.url = pg_url
    yield demo
    stores.db.close()


@pytest.fixture
def fake():
    slack = FakeSlack().start()
    yield slack
    slack.stop()


@pytest.fixture
def llm():
    model = FakeAnthropic().start()
    yield model
    model.stop()


def llm_env(model: FakeAnthropic) -> dict:
    return {
        "ANTHROPIC_API_KEY": "test-a",
        "ANTHROPIC_BASE_URL": model.url,
        "ECM_LLM_TIMEOUT": "5",
    }


def envs(demo: Demo, fake: FakeSlack, **per_replica: dict) -> dict:
    return {
        name: replica_env(demo.url, demo.path, fake.url, **extra)
        for name, extra in per_replica.items()
    }


def mention(replica, user: str, text: str, thread: str, event_id: str):
    return replica.slack.event(
        {
            "type": "app_mention",
            "user": user,
            "text": f"<@UBOT> {text}",
            "channel": "COPS",
            "ts": thread,
        },
        event_id=event_id,
    )


def summaries(fake: FakeSlack) -> list[dict]:
    return [
        p
        for p in fake.of("chat.postMessage")
        if "ECM Triage" in json.dumps(p.get("blocks", ""), ensure_ascii=False)
    ]


def in_thread(fake: FakeSlack, thread: str) -> list[dict]:
    return [p for p in fake.of("chat.postMessage") if p.get("thread_ts") == thread]


def told(fake: FakeSlack, user: str) -> list[dict]:
    """What only ``user`` was shown (a refusal in a channel is ephemeral)."""
    return [p for p in fake.of("chat.postEphemeral") if p.get("user") == user]


def rows(demo: Demo, sql: str, *params) -> list[dict]:
    return demo.stores.db.query(sql, list(params))


def button_value(post: dict, action_id: str) -> str:
    for block in post.get("blocks") or []:
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button in {post}")


# -- 1. redeliveries -------------------------------------------------------------------------
def test_an_event_redelivered_to_the_other_replica_is_answered_once(shared, fake):
    # B under --debug: plain `serve` drops INFO logs (see the report), and B's "ignoring a
    # redelivery" line is the proof that it saw the event and let it go.
    replicas = start_replicas(envs(shared, fake, A={}, B={}), fake, debug=("B",))
    try:
        a, b = replicas["A"], replicas["B"]
        thread = "1699999999.000101"
        assert mention(a, MAYA, "triage", thread, "EvREPLICA1").status == 200
        assert mention(b, MAYA, "triage", thread, "EvREPLICA1").status == 200
        b.wait_log("ignoring a redelivery: event:EvREPLICA1")
        fake.wait_for(lambda f: summaries(f), timeout=20)
        fake.wait_for(lambda f: f.of("reactions.remove"), timeout=20)  # A's work is done
        b.slack.dm(SARAH_ID, "my tickets")  # B is alive and answering other events
        fake.wait_for(
            lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == "DU0SARAH003"]
        )

        assert len(summaries(fake)) == 1
        assert len(fake.of("reactions.add")) == 1  # only one replica ever started on it
        runs = shared.stores.state.triage_runs()
        assert [(r["started_by"], r["status"]) for r in runs] == [(MANAGER, "done")]
    finally:
        stop_all(replicas.values())


# -- 2. concurrent triage --------------------------------------------------------------------
def test_two_triage_requests_at_the_same_moment_make_one_run_and_the_other_is_told_who(
    shared, fake
):
    replicas = start_replicas(envs(shared, fake, A={}, B={}), fake)
    gate = psycopg.connect(shared.url)
    try:
        a, b = replicas["A"], replicas["B"]
        # Hold the winner inside its run (it may read, not write the Assignments tab) so the
        # two requests overlap however the processes are scheduled.
        gate.execute("LOCK TABLE assignments IN EXCLUSIVE MODE")
        threads = {MANAGER: "1699999999.000201", OMAR_EMAIL: "1699999999.000202"}
        acks = together(
            lambda: mention(a, MAYA, "triage", threads[MANAGER], "EvRACE1"),
            lambda: mention(b, OMAR, "run triage", threads[OMAR_EMAIL], "EvRACE2"),
        )
        assert [r.status for r in acks] == [200, 200]
        first = fake.wait_for(lambda f: f.of("chat.postEphemeral"), timeout=20)[0]
        gate.rollback()  # let the winner finish
        fake.wait_for(lambda f: summaries(f), timeout=20)
        fake.wait_for(lambda f: len(f.of("reactions.remove")) == 2, timeout=20)

        runs = shared.stores.state.triage_runs()
        assert len(runs) == 1 and runs[0]["status"] == "done", runs
        winner = runs[0]["started_by"]
        loser = OMAR_EMAIL if winner == MANAGER else MANAGER
        assert len(summaries(fake)) == 1
        refusal = told(fake, {MANAGER: MAYA, OMAR_EMAIL: OMAR}[loser])
        assert len(refusal) == 1 and refusal[0] == first, first
        assert not [p for t in threads.values() for p in in_thread(fake, t)]  # nothing public
        assert "already running" in first["text"] and f"started by {winner}" in first["text"], (
            first["text"] + "\n" + a.stderr[-2000:] + "\n" + b.stderr[-2000:]
        )
    finally:
        gate.close()
        stop_all(replicas.values())


def test_a_triage_that_meets_another_replica_taking_the_lock_is_refused_politely(shared, fake):
    """The same race pinned at its worst instant: another replica (this test's connection) has
    inserted the triage lock row but not yet committed when this replica looks for it."""
    replicas = start_replicas(envs(shared, fake, A={}), fake)
    other = psycopg.connect(shared.url)
    watch = psycopg.connect(shared.url, autocommit=True)
    try:
        a = replicas["A"]
        moment = now()
        other.execute(
            "INSERT INTO locks (name, holder, acquired_at, expires_at, host, pid, heartbeat_at) "
            "VALUES ('triage', %s, %s, %s, 'replica-b', 1, %s)",
            [OMAR_EMAIL, ts(moment), ts(moment + timedelta(minutes=4)), ts(moment)],
        )
        thread = "1699999999.000301"
        assert mention(a, MAYA, "triage", thread, "EvPIN1").status == 200
        wait_until(
            lambda: watch.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchall(),
            what="replica A to wait on the uncommitted lock row",
        )
        other.commit()
        reply = fake.wait_for(lambda f: told(f, MAYA), timeout=20)[0]
        fake.wait_for(lambda f: f.of("reactions.remove"), timeout=20)

        assert not summaries(fake)
        assert shared.stores.state.triage_runs() == []
        assert "already running" in reply["text"] and f"started by {OMAR_EMAIL}" in reply["text"], (
            reply["text"] + "\n" + a.stderr[-2500:]
        )
    finally:
        other.close()
        watch.close()
        stop_all(replicas.values())


# -- 3. cron slots ---------------------------------------------------------------------------
def settled_slot(registry, grace: timedelta) -> str:
    """The slot a scheduler started now runs, waiting out the rare minute before a new slot
    begins (so both processes and this test agree on it)."""
    (job,) = cron_jobs(registry)
    while True:
        moment = now()
        if (job.next(moment) - moment).total_seconds() > 60:
            ((_, slot),) = due([job], moment, grace)
            return ts(slot)
        time.sleep(1)


def test_two_schedulers_started_together_run_each_cron_slot_once(shared, fake, registry):
    grace = timedelta(minutes=720)  # 03:00, 10:00 and 16:00 UTC: the latest is always due
    slot = settled_slot(registry, grace)
    env = replica_env(shared.url, shared.path, fake.url)
    args = [ECM_BOT, "scheduler", "--once", "--grace-minutes", "720"]
    clocks = [Proc("clock-1", args, env), Proc("clock-2", args, env)]
    try:
        codes = [c.wait(timeout=60) for c in clocks]
        logs = [c.stderr for c in clocks]
        assert codes == [0, 0], logs
        ran = [log for log in logs if f"Ran: triage-and-assign@{slot}" in log]
        idle = [log for log in logs if "Ran: nothing due" in log]
        assert len(ran) == 1 and len(idle) == 1, logs

        runs = shared.stores.state.triage_runs()
        assert [(r["started_by"], r["status"]) for r in runs] == [("scheduler@ecm.local", "done")]
        claims = rows(shared, "SELECT skill, slot FROM schedule_slots ORDER BY skill")
        assert [c for c in claims if c["skill"] == "triage-and-assign"] == [
            {"skill": "triage-and-assign", "slot": slot}
        ]
        assert len([c for c in claims if c["skill"] == "maintenance"]) == 1
        assert [p["channel"] for p in summaries(fake)] == ["CTRIAGE"]
    finally:
        stop_all(clocks)


# -- 4. proposals ----------------------------------------------------------------------------
def test_a_proposal_made_on_one_replica_is_confirmed_on_the_other_once(shared, fake, llm):
    shared.run(MANAGER, "triage-and-assign")
    oid = shared.tickets_of(SARAH)[0]["Order ID"]
    llm.script(
        tool_use(
            "activate_skill",
            {"skill": "resolve-ticket", "order_id": oid, "notes": "replayed webhook, LULU ok"},
        )
    )
    replicas = start_replicas(envs(shared, fake, A=llm_env(llm), B={}), fake)  # B: no model
    try:
        a, b = replicas["A"], replicas["B"]
        a.slack.dm(SARAH_ID, f"I replayed the webhook on {oid} and LULU confirmed")
        proposal = fake.wait_for(
            lambda f: [p for p in f.of("chat.postMessage") if "proposal_confirm" in json.dumps(p)],
            timeout=20,
        )[0]
        assert oid in proposal["text"] and len(llm.requests) == 1
        assert shared.stores.workbook.find("Assignments", oid)["Status"] == "ASSIGNED"
        pid = button_value(proposal, "proposal_confirm")

        assert b.slack.click(SARAH_ID, "proposal_confirm", pid, channel="DU0SARAH003").status == 200
        fake.wait_for(
            lambda f: [p for p in f.of("response_url") if p.get("text") == "✅ Confirmed."]
        )
        assert shared.stores.workbook.find("Assignments", oid)["Status"] == "RESOLVED"

        assert a.slack.click(SARAH_ID, "proposal_confirm", pid, channel="DU0SARAH003").status == 200
        again = fake.wait_for(
            lambda f: [p for p in f.of("response_url") if "already handled" in p.get("text", "")]
        )
        assert len(again) == 1
        assert [r["Order ID"] for r in shared.rows("Resolutions")].count(oid) == 1
        assert len(shared.stores.state.audit_entries(f"order:{oid}")) == 1
        assert len(llm.requests) == 1  # confirming needs no model: B has none
    finally:
        stop_all(replicas.values())


# -- 5. monthly model budget -----------------------------------------------------------------
def test_monthly_model_spend_and_its_alert_are_shared_by_the_replicas(shared, fake, llm):
    skill = "pattern-intelligence"
    limit = shared.registry.get(skill).config.model.cost_budget.monthly_limit
    month = ts(now())[:7]
    replicas = start_replicas(envs(shared, fake, A=llm_env(llm), B=llm_env(llm)), fake)

    def costs() -> dict[str, float]:
        runs = [e for e in shared.stores.state.executions() if e["skill"] == skill]
        return {e["id"]: float(e["cost"] or 0) for e in runs if e["id"] != "earlier-spend"}

    def ask(replica, n: int) -> float:
        """Ask for patterns in a new thread; the model cost its execution recorded."""
        thread = f"1699999999.0005{n:02d}"
        before = costs()
        mention(replica, MAYA, "patterns", thread, f"EvSPEND{n}")
        fake.wait_for(lambda f: in_thread(f, thread), timeout=20)
        after = wait_until(lambda: len(costs()) == len(before) + 1 and costs(), what=f"run {n}")
        (new,) = set(after) - set(before)
        return after[new]

    try:
        a, b = replicas["A"], replicas["B"]
        llm.script(*[text("The payments team should look first.")] * 3)  # 3 narrations, no more
        a1 = ask(a, 1)
        assert a1 > 0
        # Earlier spend this month, so that A's and B's next runs together cross the limit
        # while neither process's own spend would.
        earlier = limit - 2.5 * a1
        shared.stores.state.record_execution(
            {
                "id": "earlier-spend",
                "workflow_id": "w",
                "skill": skill,
                "role": "manager",
                "caller": MANAGER,
                "trigger": "chat",
                "started_at": ts(now()),
                "duration_ms": 1,
                "outcome": "ok",
                "metrics": {},
                "cost": earlier,
            }
        )
        b2 = ask(b, 2)
        a3 = ask(a, 3)
        assert len(llm.requests) == 3 and b2 > 0 and a3 > 0
        assert shared.stores.state.spend(skill, month) == pytest.approx(earlier + a1 + b2 + a3)
        assert earlier + a1 + b2 + a3 >= limit
        # Neither replica's refusal below can come from its own spend: A's needs B's run and
        # B's needs A's last run.
        assert earlier + a1 + a3 < limit and earlier + a1 + b2 < limit

        together(
            lambda: mention(a, MAYA, "patterns", "1699999999.000510", "EvSPEND10"),
            lambda: mention(b, MAYA, "patterns", "1699999999.000511", "EvSPEND11"),
        )
        for thread in ("1699999999.000510", "1699999999.000511"):  # both answered, unnarrated
            fake.wait_for(
                lambda f, t=thread: [p for p in in_thread(f, t) if PAUSED in json.dumps(p)],
                timeout=20,
            )
        wait_until(lambda: len(costs()) == 5, what="both refused runs recorded")
        fake.wait_for(lambda f: len(f.of("reactions.remove")) == 5, timeout=20)

        assert len(llm.requests) == 3  # neither replica asked the model again
        alerts = rows(shared, "SELECT key FROM alerts")
        assert alerts == [{"key": f"monthly:{skill}:{month}"}]
        dms = [p for p in fake.of("chat.postMessage") if "💸" in (p.get("text") or "")]
        assert sorted(p["channel"] for p in dms) == sorted(f"D{m}" for m in MANAGERS)
    finally:
        stop_all(replicas.values())


# -- 6. slash command replays and roster changes ----------------------------------------------
def test_a_signed_slash_command_replayed_to_the_other_replica_runs_once(shared, fake):
    from urllib.parse import urlencode

    replicas = start_replicas(envs(shared, fake, A={}, B={}), fake)
    try:
        a, b = replicas["A"], replicas["B"]
        form = urlencode(
            {
                "team_id": "T1",
                "channel_id": "COPS",
                "user_id": MAYA,
                "command": "/ecm",
                "text": "triage",
                "trigger_id": "trig-replay-across",
                "response_url": fake.response_url("replayed"),
            }
        )
        moment = int(time.time())  # the very same signed bytes, sent to each replica
        first = a.slack.post(form, "application/x-www-form-urlencoded", timestamp=moment)
        again = b.slack.post(form, "application/x-www-form-urlencoded", timestamp=moment)
        assert first.status == again.status == 200
        fake.wait_for(lambda f: f.answers(), timeout=20)
        b.slack.command(SARAH_ID, "my-tickets")  # a later command: the replay was seen
        fake.wait_for(lambda f: len(f.answers()) >= 2, timeout=20)
        working = [p for p in fake.of("response_url") if p["text"].startswith("⏳")]
        assert len(working) == 2  # one replica worked on the triage, then my-tickets
        runs = shared.stores.state.triage_runs()
        assert [(r["started_by"], r["status"]) for r in runs] == [(MANAGER, "done")]
    finally:
        stop_all(replicas.values())


def test_a_roster_change_made_in_the_database_counts_on_every_replica_next_request(shared, fake):
    replicas = start_replicas(envs(shared, fake, A={}, B={}), fake)
    try:
        b = replicas["B"]
        b.slack.dm(MAYA, "dashboard")  # B caches Maya as an active manager
        fake.wait_for(lambda f: f.of("chat.postMessage"), timeout=20)
        with psycopg.connect(shared.url) as conn:  # an operator's SQL, outside the bot
            conn.execute("UPDATE agents SET role = 'field' WHERE email = %s", [MANAGER])
        mention(b, MAYA, "triage", "1699999999.000601", "EvDEMOTED1")
        refusal = fake.wait_for(lambda f: f.of("chat.postEphemeral"), timeout=20)[0]
        assert refusal["text"].startswith("🙅 Triage is for ECM managers.")
        assert shared.stores.state.triage_runs() == []
    finally:
        stop_all(replicas.values())
