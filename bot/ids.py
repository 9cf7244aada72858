"""Identifiers: new ids for executions, workflows and proposals, and validation of user input
that reaches SQL or the workbook (order IDs and free text)."""

from __future__ import annotations

import re
import uuid

from bot.errors import InputError

ORDER_ID_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{8}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")


def new_id() -> str:
    """A new random id (12 hex digits) for an execution, a workflow or a proposal."""
    return uuid.uuid4().hex[:12]


def order_id(value: object) -> str:
    """Return the order ID in canonical (upper) case, or raise InputError."""
    text = str(value or "").strip().upper()
    if not ORDER_ID_RE.match(text):
        shown = str(value or "")[:40]
        raise InputError(
            f"'{shown}' is not an order ID. Order IDs are a two-letter corridor and 8 letters "
            "or digits, like AE136ABC00."
        )
    return text


def free_text(value: object, *, limit: int, usage: str, what: str) -> str:
    """Required free text (notes, a reason) kept verbatim, as untrusted data; InputError
    with ``usage`` when it is empty, or a length message when it is over ``limit``."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if not text.strip():
        raise InputError(usage)
    if len(text) > limit:
        raise InputError(f"That {what} is {len(text):,} characters; keep it under {limit:,}.")
    return text
