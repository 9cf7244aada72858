"""Helpers shared by CLI commands: JSON output and tables."""

from __future__ import annotations

import json
import re

import click

# What a terminal would obey rather than print: C0 controls but tab and newline, DEL, the C1
# controls (CSI 0x9b among them) and the bidirectional overrides that reorder a line.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def terminal_safe(text: object) -> str:
    """``text`` with every terminal control character shown as an escape (``\\x1b``,
    ``\\u202e``) instead of being sent to the terminal, so data can't retitle, clear or
    recolour it, or reorder what it shows."""

    def shown(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(shown, str(text))


def emit_json(data: object) -> None:
    """Print ``data`` as indented JSON (control characters as JSON escapes)."""
    text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
    click.echo(_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def table(rows: list[list[object]], headers: list[str]) -> str:
    """A plain left-aligned text table (cells ``terminal_safe``)."""
    cells = [[terminal_safe(h) for h in headers]] + [[terminal_safe(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
