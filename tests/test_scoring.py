"""Priority scoring: monotonic in hours and amount, bounded, explained, and strict about config."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.triage.scoring import PRIORITIES, Scorer
from bot.yaml_safe import parse_yaml

CONFIG = parse_yaml(
    (Path(__file__).resolve().parents[1] / "shared" / "config" / "scoring.yaml").read_text()
)
SCORER = Scorer(CONFIG)

hours = st.floats(min_value=0, max_value=1000, allow_nan=False)
slas = st.floats(min_value=0.5, max_value=72, allow_nan=False)
amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False)
currencies = st.sampled_from(sorted(CONFIG["rates_to_base"]))


def rank(priority: str) -> int:
    """0 for P1 (most urgent) up to 4 for P5."""
    return PRIORITIES.index(priority)


@settings(max_examples=200)
@given(hours, hours, slas, amounts, amounts, currencies)
def test_more_hours_or_more_money_never_lowers_the_priority_or_the_score(
    h_a, h_b, sla, a_a, a_b, currency
):
    h1, h2 = sorted((h_a, h_b))
    a1, a2 = sorted((a_a, a_b))
    lower = SCORER.score(h1, sla, a1, currency)
    higher = SCORER.score(h2, sla, a2, currency)
    assert rank(higher.priority) <= rank(lower.priority)
    assert higher.score >= lower.score


@pytest.mark.parametrize("sla", [0.5, 4, 24, 72], ids=lambda sla: f"sla-{sla:g}h")
def test_score_never_falls_as_hours_rise_over_a_fine_grid(sla):
    scores = [SCORER.score(h / 4, sla, 250, "USD").score for h in range(4001)]  # 0..1000 h
    assert all(a <= b for a, b in zip(scores, scores[1:], strict=False))


def test_score_never_falls_as_the_amount_rises_over_a_fine_grid():
    scores = [SCORER.score(10, 24, a * 10, "USD").score for a in range(5001)]  # 0..50,000
    assert all(a <= b for a, b in zip(scores, scores[1:], strict=False))


@pytest.mark.parametrize("priority", list(CONFIG["priorities"]), ids=lambda p: f"{p}-threshold")
def test_a_score_exactly_at_a_threshold_gets_that_priority_and_just_below_the_next(priority):
    minimum = float(CONFIG["priorities"][priority])
    assert SCORER.priority_of(minimum) == priority
    assert SCORER.priority_of(minimum - 0.01) == PRIORITIES[PRIORITIES.index(priority) + 1]


@settings(max_examples=200)
@given(hours, slas, amounts, currencies)
def test_score_stays_between_0_and_100_and_matches_its_priority_band(h, sla, amount, currency):
    result = SCORER.score(h, sla, amount, currency)
    assert 0 <= result.score <= 100
    assert result.priority in PRIORITIES
    assert result.priority == SCORER.priority_of(result.score)


@settings(max_examples=200)
@given(hours, slas, amounts, currencies)
def test_why_line_mentions_the_hours_the_sla_and_the_base_currency(h, sla, amount, currency):
    why = SCORER.score(h, sla, amount, currency).why
    assert f"{h:.0f}h stuck" in why
    assert f"{sla:g}h SLA" in why
    assert why.endswith(f" {CONFIG['base_currency']}")


def test_why_line_says_whether_the_order_is_over_or_within_sla():
    assert "over SLA" in SCORER.score(30, 24, 100, "USD").why
    assert "within SLA" in SCORER.score(6, 24, 100, "USD").why


@pytest.mark.parametrize(
    ("hours_stuck", "sla", "amount", "currency", "expected"),
    [
        pytest.param(200, 24, 50_000, "USD", "P1", id="big-old-usd-order-is-P1"),
        pytest.param(120, 24, 100_000, "AED", "P1", id="big-old-aed-order-is-P1"),
        pytest.param(0, 24, 10, "USD", "P5", id="tiny-fresh-usd-order-is-P5"),
        pytest.param(1, 48, 500, "INR", "P5", id="tiny-fresh-inr-order-is-P5"),
    ],
)
def test_known_orders_get_the_expected_priority(hours_stuck, sla, amount, currency, expected):
    assert SCORER.score(hours_stuck, sla, amount, currency).priority == expected


def test_amount_is_converted_to_the_base_currency_before_scoring():
    gbp = SCORER.score(10, 24, 1000, "GBP")
    assert gbp.amount_base == pytest.approx(1000 * CONFIG["rates_to_base"]["GBP"])
    assert gbp.score == SCORER.score(10, 24, gbp.amount_base, CONFIG["base_currency"]).score


def test_unknown_currency_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="XYZ"):
        SCORER.score(10, 24, 100, "XYZ")


@pytest.mark.parametrize(
    ("bands_key", "bands"),
    [
        pytest.param("time_bands", [[0, 0], [1, 50], [2, 40]], id="time-points-fall"),
        pytest.param("time_bands", [[0, 0], [1, 50], [1, 60]], id="time-ratio-repeats"),
        pytest.param("time_bands", [[0, 0], [2, 50], [1, 60]], id="time-ratio-falls"),
        pytest.param("amount_bands", [[0, 0], [100, 30], [1000, 20]], id="amount-points-fall"),
        pytest.param("amount_bands", [[0, 0], [500, 10], [100, 20]], id="amount-falls"),
    ],
)
def test_config_with_bands_that_do_not_rise_is_rejected(bands_key, bands):
    config = copy.deepcopy(CONFIG)
    config[bands_key] = bands
    with pytest.raises(ValueError, match=bands_key):
        Scorer(config)


def test_config_with_flat_bands_is_accepted():
    config = copy.deepcopy(CONFIG)
    config["amount_bands"] = [[0, 10], [100, 10], [1000, 40]]
    assert Scorer(config).score(0, 24, 50, "USD").score == pytest.approx(0.4 * 10)
