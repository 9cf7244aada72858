"""Pattern rule: an exact Poisson upper tail, and detect() flagging real spikes only."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.clock import ts
from bot.triage.patterns import detect, poisson_upper_tail
from bot.yaml_safe import parse_yaml

CONFIG = parse_yaml(
    (Path(__file__).resolve().parents[1] / "shared" / "config" / "patterns.yaml").read_text()
)
NOW = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)


def exact_upper_tail(k: int, lam: float) -> Decimal:
    """P(X ≥ k | λ) as 1 − P(X < k), in 400-digit decimals (no cancellation, no underflow)."""
    with localcontext() as ctx:
        ctx.prec = 400
        lam_d = Decimal(lam)
        term, lower = (-lam_d).exp(), Decimal(0)
        for i in range(k):
            lower += term
            term = term * lam_d / (i + 1)
        return Decimal(1) - lower


# --- poisson_upper_tail -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "lam", "expected"),
    [
        pytest.param(1, 2.0, 1 - math.exp(-2), id="at-least-1-of-mean-2"),
        pytest.param(3, 3.0, 1 - math.exp(-3) * (1 + 3 + 4.5), id="at-least-3-of-mean-3"),
        pytest.param(2, 0.5, 1 - math.exp(-0.5) * 1.5, id="at-least-2-of-mean-half"),
        pytest.param(0, 2.0, 1.0, id="at-least-0-is-certain"),
        pytest.param(0, 0.001, 1.0, id="at-least-0-of-tiny-mean-is-certain"),
        pytest.param(-3, 5.0, 1.0, id="negative-k-is-certain"),
    ],
)
def test_upper_tail_matches_the_closed_form(k, lam, expected):
    assert poisson_upper_tail(k, lam) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0, 10.0], ids=lambda lam: f"mean-{lam:g}")
def test_tiny_tails_are_positive_and_strictly_decreasing_in_k(lam):
    tails = [poisson_upper_tail(k, lam) for k in range(math.ceil(lam) + 1, 121)]
    assert all(p > 0 for p in tails)
    assert all(a > b for a, b in zip(tails, tails[1:], strict=False))
    assert tails[-1] < 1e-50


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=400),
    st.floats(min_value=0.01, max_value=2000, allow_nan=False),
)
def test_upper_tail_agrees_with_a_high_precision_sum(k, lam):
    exact = exact_upper_tail(k, lam)
    assume(exact > Decimal("1e-280"))  # below this a float tail legitimately rounds to 0
    assert poisson_upper_tail(k, lam) == pytest.approx(float(exact), rel=1e-9)


@pytest.mark.parametrize(
    ("k", "lam"),
    [
        pytest.param(1, 1000.0, id="one-of-mean-1000"),
        pytest.param(5, 750.0, id="five-of-mean-750"),
        pytest.param(100, 2000.0, id="hundred-of-mean-2000"),
    ],
)
def test_a_count_far_below_a_large_mean_has_an_upper_tail_of_about_one(k, lam):
    assert poisson_upper_tail(k, lam) == pytest.approx(1.0)


# --- detect -------------------------------------------------------------------------------


def row(hours_ago: float, reason: str, corridor: str = "AE-IN", partner: str = "BANKX") -> dict:
    return {
        "stuck_since": ts(NOW - timedelta(hours=hours_ago)),
        "stuck_reason": reason,
        "corridor": corridor,
        "payout_partner": partner,
    }


def baseline_days(per_day: dict[str, int], **dims) -> list[dict]:
    """``per_day[reason]`` orders of each reason on each of the 7 days before the last 24 h."""
    return [
        row(24 * day + 1 + i * 22 / n, reason, **dims)
        for day in range(1, 8)
        for reason, n in per_day.items()
        for i in range(n)
    ]


def last_day(per_reason: dict[str, int], **dims) -> list[dict]:
    """``per_reason[reason]`` orders of each reason in the last 24 h."""
    return [
        row(1 + i * 22 / n, reason, **dims) for reason, n in per_reason.items() for i in range(n)
    ]


def test_planted_spike_is_flagged_and_steady_totals_are_not():
    # every day 12 orders in the corridor; today they are all the spiking reason
    rows = baseline_days({"BANK_DOWN": 1, "KYC_PENDING": 11}) + last_day({"BANK_DOWN": 12})
    found = detect(rows, NOW, CONFIG)
    assert [(a.dimension, a.value) for a in found] == [("stuck_reason", "BANK_DOWN")]
    spike = found[0]
    assert spike.observed == 12
    assert spike.baseline == 1.0
    assert spike.ratio == 12.0
    assert spike.p_value == pytest.approx(poisson_upper_tail(12, 1.0))
    assert spike.p_value < CONFIG["p_value"]


@pytest.mark.parametrize("per_day", [1, 5, 12, 40], ids=lambda n: f"{n}-a-day")
def test_a_steady_count_every_day_is_not_flagged(per_day):
    rows = baseline_days({"KYC_PENDING": per_day}) + last_day({"KYC_PENDING": per_day})
    assert detect(rows, NOW, CONFIG) == []


def test_a_sharp_drop_in_a_high_volume_value_is_not_flagged():
    rows = baseline_days({"KYC_PENDING": 800}, partner="BIGBANK") + last_day(
        {"KYC_PENDING": 10}, partner="BIGBANK"
    )
    assert detect(rows, NOW, CONFIG) == []


@pytest.mark.parametrize(
    ("min_count", "flagged"),
    [pytest.param(5, False, id="min-count-5-holds-back-4"), pytest.param(4, True, id="min-4")],
)
def test_min_count_holds_back_small_counts_that_would_otherwise_be_rare(min_count, flagged):
    # 4 orders vs a floored baseline of 0.5: P ≈ 0.0018, rare at p_value 0.01
    config = {**CONFIG, "min_count": min_count, "p_value": 0.01, "dimensions": ["stuck_reason"]}
    found = detect(last_day({"NEW_REASON": 4}), NOW, config)
    assert bool(found) is flagged
    if flagged:
        assert found[0].baseline == config["min_baseline"]
        assert found[0].ratio == 8.0


def test_flags_are_ranked_by_p_value_smallest_first():
    rows = baseline_days({"A_SMALL": 1, "Z_BIG": 1}) + last_day({"A_SMALL": 9, "Z_BIG": 15})
    found = detect(rows, NOW, {**CONFIG, "dimensions": ["stuck_reason"]})
    assert [a.value for a in found] == ["Z_BIG", "A_SMALL"]
    assert found[0].p_value < found[1].p_value


def test_every_dimension_is_checked_and_reported_by_name():
    rows = baseline_days({"KYC_PENDING": 2}, corridor="GB-IN", partner="OLDBANK") + last_day(
        {"KYC_PENDING": 2}, corridor="GB-IN", partner="OLDBANK"
    )
    rows += last_day({"KYC_PENDING": 10}, corridor="AE-PK", partner="NEWBANK")
    found = {(a.dimension, a.value) for a in detect(rows, NOW, CONFIG)}
    assert found == {
        ("stuck_reason", "KYC_PENDING"),
        ("corridor", "AE-PK"),
        ("payout_partner", "NEWBANK"),
    }


def test_orders_older_than_the_baseline_window_are_ignored():
    ancient = [row(24 * 8 + 1 + i * 0.3, "BANK_DOWN") for i in range(70)]  # 8+ days ago
    rows = ancient + last_day({"BANK_DOWN": 12})
    found = detect(rows, NOW, {**CONFIG, "dimensions": ["stuck_reason"]})
    assert found[0].baseline == CONFIG["min_baseline"]
