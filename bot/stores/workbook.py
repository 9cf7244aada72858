"""The workbook interface: the team's Google Sheets tabs, as rows keyed by header name.

Implementations: ``DatabaseWorkbook`` (the tabs as tables in the system of record) and
``SheetsWorkbook`` (Google Sheets, used by the sync). Every implementation keeps the
column order below, writes per row (never clears a tab) and applies an update only when the
row still holds the values the caller expected, so a concurrent edit is never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

TAB_COLUMNS: dict[str, tuple[str, ...]] = {
    "Agents": (
        "email",
        "name",
        "Slack user ID",
        "role",
        "specializations",
        "capacity",
        "active",
        "Timezone",
        "Working Hours",
    ),
    "Assignments": (
        "Order ID",
        "Priority",
        "Score",
        "Why",
        "Stuck Reason",
        "Amount",
        "Currency",
        "Hours Stuck at triage",
        "Assigned Agent",
        "Assigned At",
        "Status",
        "Updated At",
        "Triage Run",
    ),
    "Resolutions": ("Order ID", "Agent", "Resolved At", "Notes", "Time To Resolve", "SLA Met"),
    "Escalations": ("Order ID", "From", "Reason", "At", "Target"),
}
TAB_KEYS = {"Agents": "email", "Assignments": "Order ID"}
CANARY_TAB = "Assignments_canary"
CANARY_SHEET_HEADERS = (
    "Skill", "Version", "Order ID", "Priority", "Score", "Why", "Assigned Agent",
    "Live Priority", "Live Agent", "Differs", "Canary Run", "Live Run", "Workflow ID",
    "Updated At",
)  # fmt: skip
"""The Assignments_canary sheet tab (the candidate's shadow plans, ``bot.canary.store``,
mirrored by the sheet sync): never a workbook tab the bot reads."""
WAITING = "WAITING"
"""A ticket its owner snoozed while waiting on someone (``bot/stores/snoozes.py``): still open,
still theirs, its SLA still running."""
OPEN_STATUSES = ("ASSIGNED", "IN_PROGRESS", WAITING)
"""The statuses of a ticket someone is working: its owner's queue and load, the SLA watch."""
AnyOf = (tuple, list, set, frozenset)
"""A ``where`` value of one of these types matches any of its values."""


@dataclass(frozen=True)
class RowUpdate:
    """Change ``changes`` on the row whose key column equals ``key``, only if it still
    holds every value in ``expect``."""

    key: str
    changes: Mapping[str, object]
    expect: Mapping[str, object] = field(default_factory=dict)


class Workbook(Protocol):
    """The tabs the ECM team keeps: read whole tabs, append rows, update rows by key."""

    def read(self, tab: str, where: dict[str, object] | None = None) -> list[dict]:
        """Rows of a tab (those whose columns equal ``where``'s values, case-insensitively;
        a tuple, list or set value: any of its values), as dicts keyed by header, in sheet
        order."""
        ...

    def read_many(self, tabs: list[str]) -> dict[str, list[dict]]:
        """Several tabs at once (one request where the backend allows it)."""
        ...

    def append(self, tab: str, rows: list[dict]) -> None:
        """Add rows at the end of a tab."""
        ...

    def update(self, tab: str, updates: list[RowUpdate]) -> list[str]:
        """Apply updates by key; return the keys whose expectation failed (left untouched)."""
        ...


def cell_text(value: object) -> str | None:
    """Sheets hold text: store every value as its text form. None and "" are both an empty
    cell, as in Google Sheets, so both workbooks read back the same values."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)
