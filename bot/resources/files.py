"""Reading the shared resources' files: YAML parsed once per modification
(``bot.yaml_safe``), and the header of a named query."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from bot.yaml_safe import parse_yaml

QUERY_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REASON_RE = re.compile(r"^[A-Z][A-Z0-9_]{2,63}$")
HEADER_FIELDS = ("name", "returns", "params", "role")


@functools.lru_cache(maxsize=64)
def _parse_yaml(path: Path, mtime: float) -> dict:
    return parse_yaml(path.read_text(encoding="utf-8")) or {}


def load_yaml(path: Path) -> dict:
    """Parse a YAML file once per modification (safe_load)."""
    return _parse_yaml(path, path.stat().st_mtime)


def query_header(sql: str) -> dict[str, str]:
    """The ``-- key: value`` header of a query file (continuation lines are joined)."""
    header: dict[str, str] = {}
    key = None
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        m = re.match(r"^(\w+):\s*(.*)$", body)
        if m and m.group(1) in HEADER_FIELDS:
            key = m.group(1)
            header[key] = m.group(2)
        elif key:
            header[key] += " " + body
    return header
