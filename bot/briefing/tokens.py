"""Token estimates. No tokenizer ships offline, so we use the usual ~4 characters per token
for English prose and code; figures are for comparing contexts, not for billing."""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """Estimated tokens in ``text`` (ceil of characters / 4)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)
