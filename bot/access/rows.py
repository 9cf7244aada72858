"""Row-level rules on the workbook for field callers (managers are not row-restricted).

| tab         | field read               | field write                                  |
|-------------|--------------------------|----------------------------------------------|
| Assignments | Assigned Agent = caller  | those rows, status only IN_PROGRESS, WAITING |
|             |                          | (snoozed), RESOLVED or ESCALATED             |
| Resolutions | all rows                 | rows where Agent = caller                    |
| Escalations | rows where From = caller | rows where From = caller                     |
| Agents      | all rows                 | nothing                                      |

A skill's ``permissions.sheets_access`` overrides these per tab; a skill without it gets them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.access.guard import Guard
from bot.skills.schema import TabAccess
from bot.stores.workbook import TAB_KEYS, RowUpdate, Workbook

OWNER_COLUMN = {
    "Assignments": "Assigned Agent",
    "Resolutions": "Agent",
    "Escalations": "From",
    "Agents": "email",
}
FIELD_DEFAULTS = {
    "Assignments": TabAccess(
        read="own", write="own", statuses=["IN_PROGRESS", "WAITING", "RESOLVED", "ESCALATED"]
    ),
    "Resolutions": TabAccess(read="all", write="own"),
    "Escalations": TabAccess(read="own", write="own"),
    "Agents": TabAccess(read="all", write="none"),
}
MANAGER_DEFAULTS = {tab: TabAccess(read="all", write="all") for tab in OWNER_COLUMN}
HIDDEN_COLUMNS = frozenset({"customer_ref"})
"""Warehouse columns no skill shows a person (pseudonymous, but still the customer's)."""


@dataclass(frozen=True)
class RowPolicy:
    """The effective per-tab rules for one skill."""

    tabs: dict[str, TabAccess]

    @property
    def every_order(self) -> bool:
        """Whether the Assignments read rule covers every order (managers' skills)."""
        rule = self.tabs.get("Assignments")
        return rule is not None and rule.read == "all"

    @classmethod
    def for_skill(cls, skill) -> RowPolicy:
        if skill.role == "manager":
            return cls(dict(MANAGER_DEFAULTS))
        tabs = dict(FIELD_DEFAULTS)
        tabs.update(skill.config.permissions.sheets_access or {})
        return cls(tabs)


def _same(a: object, b: object) -> bool:
    return str(a or "").strip().lower() == str(b or "").strip().lower()


class ScopedWorkbook:
    """A workbook seen through one caller's row rules; refusals go through the guard."""

    def __init__(self, workbook: Workbook, guard: Guard, caller_email: str):
        self.inner = workbook
        self.guard = guard
        self.caller = caller_email
        self.policy = RowPolicy.for_skill(guard.skill)

    def _rule(self, tab: str) -> TabAccess:
        return self.policy.tabs.get(tab, TabAccess(read="none", write="none"))

    def _owns(self, tab: str, row: dict) -> bool:
        return _same(row.get(OWNER_COLUMN[tab]), self.caller)

    def read(self, tab: str, where: dict[str, object] | None = None) -> list[dict]:
        """Rows of ``tab`` this caller may see (``where``: only rows with those values). An
        "own" rule is part of the query, so a field read costs the caller's rows only."""
        rule = self._rule(tab)
        if rule.read == "none":
            self.guard.deny(f"sheet:{tab}", "this skill may not read that tab")
        if rule.read == "all":
            return self.inner.read(tab, where)
        rows = self.inner.read(tab, {**(where or {}), OWNER_COLUMN[tab]: self.caller})
        return [r for r in rows if self._owns(tab, r)]

    def visible_orders(self) -> set[str] | None:
        """The orders this caller's Assignments read rule lets them see: None for every
        order (managers), else the order IDs of the rows they may read (a field agent's
        own tickets). A warehouse row about any other order is not theirs to read."""
        rule = self._rule("Assignments")
        if rule.read == "all":
            return None
        if rule.read == "none":
            return set()
        return {str(r.get("Order ID")) for r in self.read("Assignments")}

    def read_many(self, tabs: list[str]) -> dict[str, list[dict]]:
        """Several tabs through the read rules, fetched together."""
        for tab in tabs:
            if self._rule(tab).read == "none":
                self.guard.deny(f"sheet:{tab}", "this skill may not read that tab")
        found = self.inner.read_many(tabs)
        return {
            tab: rows if self._rule(tab).read == "all" else [r for r in rows if self._owns(tab, r)]
            for tab, rows in found.items()
        }

    def append(self, tab: str, rows: list[dict]) -> None:
        """Append rows, each of which must be allowed for this caller."""
        rule = self._rule(tab)
        for row in rows:
            self._check_write(tab, rule, row, row)
            if rule.statuses is not None and row.get("Status") not in rule.statuses:
                self.guard.deny(
                    f"sheet:{tab}", f"status may only be set to {', '.join(rule.statuses)}"
                )
        self.inner.append(tab, rows)

    def update(self, tab: str, updates: list[RowUpdate]) -> list[str]:
        """Update rows by key after checking each against the current row and the rules."""
        rule = self._rule(tab)
        if rule.write == "none":
            self.guard.deny(f"sheet:{tab}", "this skill may not write that tab")
        if rule.write == "all" and rule.statuses is None:
            return self.inner.update(tab, updates)  # unrestricted: the workbook checks `expect`
        key, guarded = TAB_KEYS[tab], []
        for up in updates:
            found = self.inner.read(tab, {key: up.key})
            row = found[0] if found else None
            if row is None:
                self.guard.deny(f"sheet:{tab}:{up.key}", "no such row")
            self._check_write(tab, rule, row, {**row, **up.changes})
            if rule.write == "own":  # ownership is part of the UPDATE's condition too
                owner = OWNER_COLUMN[tab]
                up = RowUpdate(up.key, up.changes, {**up.expect, owner: row.get(owner)})
            guarded.append(up)
        return self.inner.update(tab, guarded)

    def _check_write(self, tab: str, rule: TabAccess, before: dict, after: dict) -> None:
        where = f"sheet:{tab}:{before.get(TAB_KEYS.get(tab, OWNER_COLUMN[tab]), '?')}"
        if rule.write == "none":
            self.guard.deny(where, "this skill may not write that tab")
        if rule.write == "own" and not (self._owns(tab, before) and self._owns(tab, after)):
            self.guard.deny(where, "a field agent writes only their own rows")
        status_changed = "Status" in after and after["Status"] != before.get("Status")
        if rule.statuses is not None and status_changed and after["Status"] not in rule.statuses:
            self.guard.deny(where, f"status may only be set to {', '.join(rule.statuses)}")
