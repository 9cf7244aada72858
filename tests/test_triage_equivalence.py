"""Tuned triage gives exactly what the straightforward computation gives (triage_reference):
the same timestamps, scores, priorities, explanations, plans and summaries, on a large
seeded set and on generated edge cases."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
import triage_reference as ref
from conftest import MANAGER
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.clock import parse_ts
from bot.demo.seed import ROSTER, iter_orders, seed_demo
from bot.paths import CONFIG_DIR
from bot.runtime.roster import Roster
from bot.stores.factory import open_stores
from bot.triage.assign import Agent, Ticket, plan_assignments
from bot.triage.pending import score_pending
from bot.triage.scoring import Scorer
from bot.yaml_safe import parse_yaml

NOW = datetime(2026, 11, 24, 9, 30, 0, tzinfo=UTC)
SCORING = parse_yaml((CONFIG_DIR / "scoring.yaml").read_text())
REASONS = parse_yaml((CONFIG_DIR / "stuck-reasons.yaml").read_text())["reasons"]
AGENTS = [
    Agent(e, frozenset(s.split(",")) if s else frozenset(), c, a)
    for e, _n, _s, roles, s, c, a in ROSTER
    if "field" in roles
]


@pytest.fixture(scope="module")
def pending() -> list[dict]:
    """20,000 stuck orders as the pending-list query returns them (plus a few with a
    stuck reason the config does not know)."""
    orders = islice(iter_orders(20_000, seed=17, now=NOW), 20_000)  # the stuck ones come first
    rows = [
        {
            "order_id": o["order_id"],
            "amount": o["send_amount"],
            "currency": o["send_currency"],
            "stuck_reason": o["stuck_reason"],
            "stuck_since": o["stuck_since"],
        }
        for o in orders
    ]
    assert all(o["status"] == "STUCK" for o in islice(iter_orders(100, 17, NOW), 100))
    for row in rows[:7]:
        row["stuck_reason"] = "NOT_A_KNOWN_REASON"
    return rows


@pytest.fixture(scope="module")
def reference_starts(pending) -> dict[str, datetime]:
    """Each pending order's stuck_since as the reference parses it (once, for both moments)."""
    return {o["order_id"]: ref.parse_ts(o["stuck_since"]) for o in pending}


def _reference_scores(
    pending: list[dict], moment: datetime, starts: dict[str, datetime]
) -> dict[str, ref.Score]:
    scorer = ref.Scorer(SCORING)
    out = {}
    for o in pending:
        reason = REASONS.get(o["stuck_reason"]) or ref.DEFAULT_REASON
        hours = ref.hours_between(starts[o["order_id"]], moment)
        out[o["order_id"]] = scorer.score(hours, reason["sla_hours"], o["amount"], o["currency"])
    return out


def test_timestamps_parse_to_the_same_moment_or_fail_alike():
    rnd = random.Random(5)
    texts = [
        (NOW - timedelta(seconds=rnd.randint(0, 10**8))).strftime(fmt)
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")
        for _ in range(300)
    ]
    texts += [
        "2026-11-24 10:00:00+04:00",
        "2026-11-24 10:00+04",
        "2026-1-24 1:00:00",
        "2026-11-24 24:00:00",
        "2026-02-30 10:00:00",
        "2026-11-24",
        "2026-11-24 1a:00:00",
        "٢٠٢٦-11-24 10:00:00",
        "2026-11-24 10:00:00Z",
        "",
        "garbage text here!!",
    ]
    for text in texts:
        try:
            expected: object = ref.parse_ts(text)
        except ValueError:
            expected = ValueError
        try:
            got: object = parse_ts(text)
        except ValueError:
            got = ValueError
        assert got == expected, text


def test_scores_and_priorities_equal_the_reference_on_twenty_thousand_orders(
    pending, reference_starts
):
    for moment in (NOW, NOW + timedelta(hours=3, seconds=17)):
        expected = _reference_scores(pending, moment, reference_starts)
        scored = score_pending(pending, REASONS, Scorer(SCORING), moment)
        assert len(scored) == len(pending)
        for s in scored:
            want = expected[s.order_id]
            assert (s.priority, s.score) == (want.priority, want.score), s.order_id
        scorer = Scorer(SCORING)
        for s in scored[::40]:  # the explanation, made for assigned and escalated orders
            full = scorer.score(
                s.hours, s.reason["sla_hours"], s.order["amount"], s.order["currency"]
            )
            want = expected[s.order_id]
            assert (full.why, full.amount_base, full.sla_ratio) == (
                want.why,
                want.amount_base,
                want.sla_ratio,
            )


def test_plans_equal_the_reference_on_twenty_thousand_orders(pending):
    scored = score_pending(pending, REASONS, Scorer(SCORING), NOW)
    rnd = random.Random(11)
    emails = [a.email for a in AGENTS] + ["gone@example.com"]
    weights = SCORING["priority_weights"]
    for current in ({}, {s.order_id: rnd.choice(emails) for s in rnd.sample(scored, 400)}):
        got = plan_assignments(scored, AGENTS, current, weights)
        tickets = [ref.Ticket(s.order_id, s.priority, s.score, s.team) for s in scored]
        want = ref.plan_assignments(tickets, AGENTS, current, weights)
        assert list(got.assigned.items()) == list(want.assigned.items())
        assert got.unassigned == want.unassigned
        assert (got.kept, got.moved, got.new) == (want.kept, want.moved, want.new)


plan_tickets = st.lists(
    st.tuples(
        st.sampled_from(ref.PRIORITIES),
        st.integers(0, 30).map(float),
        st.sampled_from(["ops", "kyc", "payments"]),
    ),
    max_size=40,
)
plan_agents = st.lists(
    st.tuples(
        st.frozensets(st.sampled_from(["ops", "kyc", "payments"])),
        st.integers(0, 4),
        st.booleans(),
    ),
    max_size=5,
)


@settings(max_examples=150)
@given(plan_tickets, plan_agents, st.data())
def test_plans_equal_the_reference_on_generated_cases(raw_tickets, raw_agents, data):
    tickets = [Ticket(f"ORD{i:03d}", p, s, team) for i, (p, s, team) in enumerate(raw_tickets)]
    agents = [Agent(f"a{i}@x.com", t, c, on) for i, (t, c, on) in enumerate(raw_agents)]
    emails = [a.email for a in agents] + ["gone@x.com"]
    current = {
        t.order_id: data.draw(st.sampled_from(emails)) for t in tickets if data.draw(st.booleans())
    }
    got = plan_assignments(tickets, agents, current, SCORING["priority_weights"])
    want = ref.plan_assignments(
        [ref.Ticket(*t) for t in tickets], agents, current, SCORING["priority_weights"]
    )
    assert list(got.assigned.items()) == list(want.assigned.items())
    assert (got.unassigned, got.kept, got.moved, got.new) == (
        want.unassigned,
        want.kept,
        want.moved,
        want.new,
    )


def test_a_triage_of_a_seeded_set_equals_the_reference_summary(tmp_path, registry):
    stores = open_stores(tmp_path, env={})
    seed_demo(tmp_path, stores.workbook, orders=2_000, seed=23)
    from bot.runtime.executor import execute

    caller = Roster.load(stores.workbook).resolve(MANAGER)
    data = execute(registry, stores, "triage-and-assign", caller, {"full_lists": True}).data
    moment = parse_ts(stores.state.executions()[-1]["started_at"])  # the run's ctx.at
    sql = (CONFIG_DIR.parent / "queries" / "ecm-pending-list.sql").read_text()
    conn = sqlite3.connect(tmp_path / "warehouse.db")
    conn.row_factory = sqlite3.Row
    pending = [dict(r) for r in conn.execute(sql)]
    want = ref.triage_reference(pending, REASONS, SCORING, AGENTS, {}, moment)
    tickets = [{k: v for k, v in t.items() if k not in ("reopened", "change", "from")}
               for a in data["agents"] for t in a["tickets"]]  # fmt: skip
    assert tickets == [t for a in want["agents"] for t in a["tickets"]]
    assert [a["agent"] for a in data["agents"]] == [a["agent"] for a in want["agents"]]
    assert data["unassigned"] == want["unassigned"]
    assert data["counts"]["unassigned"] == len(want["unassigned"]) > 1_000
    assert [(e["order_id"], e["reason"]) for e in data["escalated"]] == [
        (e["order_id"], e["reason"]) for e in want["escalated"]
    ]
