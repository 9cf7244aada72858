"""Trigger patterns: match a user's message to a skill and pull out its arguments.

A pattern is a phrase of literal words and placeholders. ``{name}`` captures one word and
``{name...}`` captures the rest of the message (possibly nothing). A leading mention such as
"@ecm-manager" or "<@U123>" is ignored on both sides, so "@ecm-manager triage" matches "triage".
Literal words compare case-insensitively.
"""

from __future__ import annotations

import re

_MENTION = re.compile(r"^(?:<@[A-Z0-9]+(?:\|[^>]*)?>|@[\w.\-]+)$")
_PLACEHOLDER = re.compile(r"^\{(\w+)(\.\.\.)?\}$")


def words(text: str) -> list[str]:
    """Split a message into words, dropping a leading @-mention."""
    parts = text.strip().split()
    if parts and _MENTION.match(parts[0]):
        parts = parts[1:]
    return parts


def match_pattern(pattern: str, text: str) -> dict[str, str] | None:
    """Return the captured arguments if ``text`` matches ``pattern``, else None."""
    pat, msg = words(pattern), words(text)
    args: dict[str, str] = {}
    i = 0
    for j, token in enumerate(pat):
        ph = _PLACEHOLDER.match(token)
        if ph and ph.group(2):
            if j != len(pat) - 1:
                raise ValueError(f"'{token}' must be the last word of pattern '{pattern}'")
            args[ph.group(1)] = " ".join(msg[i:])
            return args
        if i >= len(msg):
            return None
        if ph:
            args[ph.group(1)] = msg[i]
        elif msg[i].lower().strip("?!.,:") != token.lower():
            return None
        i += 1
    return args if i == len(msg) else None


def literal_length(pattern: str) -> int:
    """How many literal words a pattern has: more literal words means a more specific match."""
    return sum(1 for w in words(pattern) if not _PLACEHOLDER.match(w))
