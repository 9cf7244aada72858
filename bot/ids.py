"""Identifiers: new ids for executions, workflows and proposals, and validation of user input
that reaches SQL or the workbook (order IDs and free text)."""

from __future__ import annotations

import re
import uuid

from bot.errors import InputError

ORDER_ID_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{8}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
# What a person's text never keeps: NUL and the other C0 controls but tab and newlines, DEL,
# the C1 controls, and the bidirectional controls that reorder what a reader sees (LRE RLE
# PDF LRO RLO, LRI RLI FSI PDI, LRM RLM, ALM).
HIDDEN_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)


def new_id() -> str:
    """A new random id (12 hex digits) for an execution, a workflow or a proposal."""
    return uuid.uuid4().hex[:12]


def order_id(value: object) -> str:
    """Return the order ID in canonical (upper) case, or raise InputError."""
    text = str(value or "").strip().upper()
    if not ORDER_ID_RE.match(text):
        shown = clean_text(str(value or ""))[:40]
        raise InputError(
            f"'{shown}' is not an order ID. Order IDs are a two-letter corridor and 8 letters "
            "or digits, like AE136ABC00."
        )
    return text


def clean_text(value: str) -> str:
    """``value`` without the characters a person's text never keeps (``HIDDEN_RE``): NUL,
    terminal controls and bidirectional overrides, which would otherwise be stored and echoed
    to Slack, the sheet and terminals. Everything else is kept as typed."""
    return HIDDEN_RE.sub("", value)


def free_text(value: object, *, limit: int, usage: str, what: str) -> str:
    """Required free text (notes, a reason) kept as typed but for hidden control characters
    (``clean_text``), as untrusted data; InputError with ``usage`` when it is empty, or a
    length message when it is over ``limit``."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    text = clean_text(text)
    if not text.strip():
        raise InputError(usage)
    if len(text) > limit:
        raise InputError(f"That {what} is {len(text):,} characters; keep it under {limit:,}.")
    return text
