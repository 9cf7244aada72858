"""Cost of model calls from the price table in shared/config/llm-prices.yaml."""

from __future__ import annotations

from bot.paths import CONFIG_DIR
from bot.resources import load_yaml

PRICES_FILE = CONFIG_DIR / "llm-prices.yaml"


def price(model: str) -> dict[str, float]:
    table = load_yaml(PRICES_FILE)
    return table["models"].get(model) or table["default"]


def cost(model: str, tokens_in: int, tokens_out: int) -> float:
    """USD for one response."""
    p = price(model)
    return (tokens_in * float(p["input"]) + tokens_out * float(p["output"])) / 1_000_000
