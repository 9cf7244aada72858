"""One sync cycle between the system of record and the Google Sheet, run at a fixed cadence.

A cycle reads every tab in one request, pulls people's edits, then writes everything that
differs in one request: Sheets use is constant per minute whatever the number of users, and
nothing on a user's request path waits for it.

1. **Pull.** For each keyed row (Agents by email, Assignments by Order ID) the sheet's cells
   are compared with what the sync last wrote there (``sheet_rows``) and with the database:
   - sheet = database: in step; sheet = last written: the bot changed it (pushed below);
   - otherwise a person edited the cell. If the database also changed it since the last
     sync, that is a **conflict: the system of record wins**, the sheet cell is put back, and
     the conflict is audited and reported. Else the edit must pass ``edits.check_edit`` (the
     same rules as the bot's actions); it is applied with an audit row (actor ``sheet``) in one
     transaction, or reverted and reported. An applied edit of a pinned ticket's Assigned
     Agent moves its pin to the new agent (``bot.stores.pins``): the sheet is a manager's
     override too, so the next triage keeps the ticket where the sheet put it.
   A new Agents row is a new member (validated); a row added by hand elsewhere is cleared.
2. **Push.** Every database row is written at its sheet row (found by key, or the next free
   row); only differing cells are sent, as RAW text. Rejected edits are thereby reverted.
   Resolutions and Escalations are the bot's logs: row ``i`` of the table is sheet row
   ``i + 2``. **Assignments_canary** mirrors the candidate versions' shadow plans
   (``assignments_canary``, ``bot.canary.store``; by skill, version and order) the same way,
   push-only: rows below the table are cleared, and a row a person changed (it differs from
   what the sync last wrote there) or added is put back or cleared and reported like a
   rejected edit. That tab is read with the others (no extra request) only while the table
   has rows or the sync wrote some; a cycle whose read fails because it is missing, or
   lacks a header, makes it whole (``SheetsGrid.add_tab``) and reads again: four requests
   more than a normal cycle, once.
3. The snapshot of what was written is saved, and ``sync_status`` records the outcome.
4. The order ids of applied Assignments edits go to ``on_changed`` (in the bot, the Slack
   messages showing them are edited in place: ``bot.slack.outside_updates``).

One sync runs at a time across replicas (the ``sheets-sync`` lease). A sheet that is
unreachable or rate-limited fails the cycle only: nothing is half-applied (the write is one
batch), the status records the error, and the next cycle catches up.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.canary.store import CANARY_TAB, SHEET_HEADERS, CanaryStore
from bot.clock import now, ts
from bot.errors import Conflict, EcmError, InputError, NotConfigured
from bot.ids import clean_text
from bot.observability import tracing
from bot.runtime.roster import Roster
from bot.stores.factory import Stores
from bot.stores.pins import Pins
from bot.stores.sheets_grid import Grid, RowWrite
from bot.stores.workbook import TAB_COLUMNS, TAB_KEYS, RowUpdate, cell_text
from bot.sync.edits import KEYED, check_edit, check_roster_cell

log = logging.getLogger(__name__)
TABS = ("Agents", "Assignments", "Resolutions", "Escalations")
LEASE = "sheets-sync"
STATUS_NAME = "sheets"


class SheetGrid(Protocol):
    """What the sync needs from the sheet (``bot.stores.sheets_grid.SheetsGrid``)."""

    @property
    def requests(self) -> int: ...

    def read_grids(self, tabs: list[str]) -> dict[str, Grid]: ...

    def write_rows(self, writes: list[RowWrite]) -> None: ...

    def add_tab(self, tab: str, header: list[str]) -> list[str]: ...


@dataclass
class SyncReport:
    """What one cycle did."""

    pulled: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    pushed: int = 0
    requests: int = 0
    skipped: str | None = None
    changed_orders: list[str] = field(default_factory=list)  # applied Assignments edits
    created: list[str] = field(default_factory=list)  # tabs or headers the cycle added

    def for_managers(self) -> str | None:
        """The message managers get when an edit was reverted or conflicted, else None."""
        lines = [f"• {x}" for x in self.rejected + self.conflicts]
        if not lines:
            return None
        return "The Google Sheet sync put back edits it could not accept:\n" + "\n".join(lines)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _key(tab: str, value: object) -> str:
    text = _text(value).strip()
    return text.lower() if tab == "Agents" else text.upper()


class SheetSync:
    """Keeps one Google Sheet in step with the system of record."""

    def __init__(
        self,
        stores: Stores,
        grid: SheetGrid,
        *,
        lease_seconds: int = 120,
        notify: Callable[[str], None] | None = None,
        on_changed: Callable[[list[str]], None] | None = None,
    ):
        """``on_changed`` gets the order ids of a cycle's applied Assignments edits once they
        are committed; a failure in it is logged, never undoes them."""
        self.stores = stores
        self.grid = grid
        self.lease_seconds = lease_seconds
        self.notify = notify
        self.on_changed = on_changed

    def run_once(self) -> SyncReport:
        """One cycle, unless another replica holds the sync lease."""
        state = self.stores.state
        try:
            state.acquire_lock(LEASE, LEASE, self.lease_seconds)
        except Conflict:
            return SyncReport(skipped="another replica is syncing")
        started = self.grid.requests
        report = SyncReport()
        try:
            with tracing.span("sheets sync") as span:  # its Sheets and database calls nest
                self._cycle(report)
                span.set_attribute("ecm.sync.pulled", len(report.pulled))
                span.set_attribute("ecm.sync.pushed", report.pushed)
            self._status(ok=True, report=report)
        except EcmError as exc:  # SheetsError, NotConfigured, StoreUnavailable
            log.warning("sheet sync failed: %s", exc)
            report.skipped = str(exc)
            self._status(ok=False, report=report, error=str(exc))
        finally:
            report.requests = self.grid.requests - started
            state.release_lock(LEASE, LEASE)
        message = report.for_managers()
        if message and self.notify:
            try:
                self.notify(message)
            except Exception:
                log.exception("could not tell the managers about reverted sheet edits")
        if report.changed_orders and self.on_changed:
            try:
                self.on_changed(list(report.changed_orders))
            except Exception:  # the edits are committed; only their follow-ups are lost
                log.exception("follow-ups of applied sheet edits failed")
        return report

    # -- the cycle ---------------------------------------------------------------------------
    def _cycle(self, report: SyncReport) -> None:
        snaps = self._snapshots()
        canary = sorted(
            CanaryStore(self.stores.db).tab(),
            key=lambda r: (r["Skill"], r["Version"] or "", r["Order ID"]),
        )
        mirror = bool(canary) or any(tab == CANARY_TAB for tab, _ in snaps)
        grids = self._read(mirror, report)
        for tab in KEYED:  # Agents first, so a new agent can take tickets in the same cycle
            self._pull(tab, grids[tab], snaps, report)
        writes: list[RowWrite] = []
        new_snaps: dict[tuple[str, str], tuple[int, dict]] = {}
        for tab in TABS:
            writes += self._push(tab, grids[tab], new_snaps, report)
        if mirror:
            writes += self._push_canary(grids[CANARY_TAB], canary, snaps, new_snaps, report)
        if writes:
            self.grid.write_rows(writes)
        report.pushed = len(writes)
        self._save_snapshots(new_snaps)

    def _read(self, mirror: bool, report: SyncReport) -> dict[str, Grid]:
        """Every tab in one request (the canary tab too when ``mirror``). When that fails for
        want of a tab or header, the canary tab is made whole and the tabs read again; a
        workbook tab missing still fails the cycle (``ecm-bot sheets init``)."""
        tabs = [*TABS, CANARY_TAB] if mirror else list(TABS)
        try:
            return self.grid.read_grids(tabs)
        except NotConfigured:
            created = self.grid.add_tab(CANARY_TAB, list(SHEET_HEADERS)) if mirror else []
            if not created:
                raise
        log.info("sheet sync created %s", "; ".join(created))
        report.created += created
        return self.grid.read_grids(tabs)

    def _snapshots(self) -> dict[tuple[str, str], dict]:
        rows = self.stores.db.query("SELECT tab, key, row_values FROM sheet_rows")
        return {(r["tab"], r["key"]): json.loads(r["row_values"]) for r in rows}

    def _pull(self, tab: str, grid: Grid, snaps: dict, report: SyncReport) -> None:
        workbook, key_col = self.stores.workbook, KEYED[tab]
        db_rows = {_key(tab, r[key_col]): r for r in workbook.read(tab)}
        agents = {m.email for m in Roster(workbook.read("Agents")).field_agents() if m.active}
        seen: set[str] = set()
        for i in range(len(grid.rows)):
            cells = grid.record(i)
            key = _key(tab, cells.get(key_col))
            if not key or key in seen:
                continue
            seen.add(key)
            snap, db = snaps.get((tab, key)), db_rows.get(key)
            where = f"{tab} row {grid.sheet_row(i)} ({key})"
            if db is None:
                if tab == "Agents" and snap is None:
                    self._add_member(cells, where, report)
                elif snap is None:
                    report.rejected.append(
                        f"{where}: not a ticket the bot knows, so the row was cleared "
                        "(tickets come from triage or `assign`)"
                    )
                continue
            self._pull_row(tab, key, cells, snap, db, agents, where, report)

    def _pull_row(self, tab, key, cells, snap, db, agents, where, report) -> None:
        if snap is None:  # never synced: the database is the truth, the push will write it
            return
        changes: dict[str, str] = {}
        for column in TAB_COLUMNS[tab]:
            if column == KEYED[tab]:
                continue
            sheet_v, db_v = cells.get(column, ""), _text(db.get(column))
            snap_v = _text(snap.get(column))
            if sheet_v in (db_v, snap_v):
                continue  # in step, or the bot's change still to be pushed
            if db_v != snap_v:
                report.conflicts.append(
                    f"{where} › {column}: changed in the sheet to '{clean_text(sheet_v)}' "
                    f"while the bot changed it to '{db_v}'; the bot's value stands"
                )
                self._audit("sheet_conflict", tab, key, {column: db_v}, {column: sheet_v})
                continue
            try:
                changes[column] = check_edit(tab, column, sheet_v, agents)
            except InputError as exc:
                report.rejected.append(
                    f"{where} › {column} = '{clean_text(sheet_v)}': {exc}; put back"
                )
                self._audit("sheet_edit_rejected", tab, key, {column: db_v}, {column: sheet_v})
        if changes:
            self._apply(tab, key, db, changes, where, report)

    def _apply(self, tab, key, db, changes, where, report) -> None:
        stamp = ts(now())
        full = dict(changes)
        if tab == "Assignments":
            full["Updated At"] = stamp
            if "Assigned Agent" in changes:
                full["Assigned At"] = stamp
        expect = {c: db.get(c) for c in changes}
        with self.stores.db.transaction():
            if self.stores.workbook.update(tab, [RowUpdate(db[KEYED[tab]], full, expect)]):
                report.conflicts.append(f"{where}: changed by the bot during the sync; retried")
                return
            self._audit("sheet_edit", tab, key, expect, changes)
            if tab == "Assignments" and "Assigned Agent" in changes:
                self._move_pin(db["Order ID"], key, changes["Assigned Agent"], stamp)
        report.pulled.append(f"{where}: " + ", ".join(f"{c} → {v}" for c, v in changes.items()))
        if tab == "Assignments":
            report.changed_orders.append(str(db["Order ID"]))

    def _move_pin(self, order_id: str, key: str, agent: str, stamp: str) -> None:
        """A sheet edit of a pinned ticket's Assigned Agent is a manager-side override: the
        pin follows the new agent (with the edit's transaction and an audit row), instead of
        going stale and letting the next triage drop it. An unpinned ticket stays unpinned."""
        pins = Pins(self.stores.db)
        pin = pins.get(order_id)
        if pin is None or pin.agent == agent.lower():
            return
        why = f"sheet edit (was pinned to {pin.agent} by {pin.pinned_by}: {pin.reason})"
        pins.pin(order_id, agent, by="sheet", reason=why[:500], at=stamp)
        self._audit("pin_moved", "Assignments", key, {"pinned_to": pin.agent}, {"pinned_to": agent})

    def _add_member(self, cells: dict, where: str, report: SyncReport) -> None:
        try:
            row = {c: check_roster_cell(c, cells.get(c, "")) for c in TAB_COLUMNS["Agents"]}
        except InputError as exc:
            report.rejected.append(f"{where}: new roster row not added: {exc}")
            return
        with self.stores.db.transaction():
            self.stores.workbook.append("Agents", [row])
            self._audit("sheet_edit", "Agents", row["email"], None, row)
        report.pulled.append(f"{where}: new roster member {row['email']}")

    def _audit(self, action: str, tab: str, key: str, before: object, after: object) -> None:
        target = f"order:{key}" if tab == "Assignments" else f"{tab.lower()}:{key}"
        self.stores.state.audit(
            actor="sheet", action=action, target=target, before=before, after=after
        )

    def _push(self, tab: str, grid: Grid, new_snaps: dict, report: SyncReport) -> list[RowWrite]:
        headers = TAB_COLUMNS[tab]
        rows = self.stores.workbook.read(tab)
        writes: list[RowWrite] = []
        keyed = tab in KEYED
        position: dict[str, int] = {}
        stray: list[int] = []
        if keyed:
            for i in range(len(grid.rows)):
                key = _key(tab, grid.record(i).get(KEYED[tab]))
                if key and key not in position:
                    position[key] = i
                elif key:
                    stray.append(i)  # a duplicate row: cleared
            known = {_key(tab, r[KEYED[tab]]) for r in rows}
            stray += [i for k, i in position.items() if k not in known]
        next_free = len(grid.rows)
        for n, row in enumerate(rows):
            desired = {h: _text(row.get(h)) for h in headers}
            if keyed:
                key = _key(tab, row[KEYED[tab]])
                index = position.get(key)
                if index is None:
                    index, next_free = next_free, next_free + 1
                new_snaps[(tab, key)] = (grid.sheet_row(index), desired)
            else:
                index = n
            current = grid.record(index) if index < len(grid.rows) else {}
            diff = {h: v for h, v in desired.items() if current.get(h, "") != v}
            if diff:
                writes.append(RowWrite(tab, grid.sheet_row(index), diff))
        if not keyed:
            stray = [i for i in range(len(rows), len(grid.rows)) if any(grid.rows[i])]
            if stray:
                report.rejected.append(
                    f"{tab}: {len(stray)} row(s) added by hand were cleared (the bot keeps "
                    "this log)"
                )
        for i in stray:
            writes.append(RowWrite(tab, grid.sheet_row(i), {h: "" for h in headers}))
        return writes

    def _push_canary(
        self, grid: Grid, rows: list[dict], snaps: dict, new_snaps: dict, report: SyncReport
    ) -> list[RowWrite]:
        """Row ``i`` of the canary table at sheet row ``i + 2``, rows below cleared; a row that
        is not what the sync last wrote there (its snapshot, keyed by sheet row) was changed
        by a person, one with none below the table was added by one: both are reported."""
        writes: list[RowWrite] = []
        changed: list[int] = []
        added: list[int] = []
        for i in range(max(len(rows), len(grid.rows))):
            number = grid.sheet_row(i)
            cells = grid.record(i) if i < len(grid.rows) else {}
            shown = {h: cells.get(h, "") for h in SHEET_HEADERS}
            row = rows[i] if i < len(rows) else {}
            desired = {h: cell_text(row.get(h)) or "" for h in SHEET_HEADERS}
            snap = snaps.get((CANARY_TAB, str(number)))
            if snap is not None and shown != {h: _text(snap.get(h)) for h in SHEET_HEADERS}:
                changed.append(number)
            elif snap is None and i >= len(rows) and any(shown.values()):
                added.append(number)
            diff = {h: v for h, v in desired.items() if shown[h] != v}
            if diff:
                writes.append(RowWrite(CANARY_TAB, number, diff))
            if i < len(rows):
                new_snaps[(CANARY_TAB, str(number))] = (number, desired)
        for found, what in (
            (changed, "changed by hand were put back"),
            (added, "added by hand were cleared"),
        ):
            if found:
                shown_rows = ", ".join(map(str, found[:10])) + (" …" if len(found) > 10 else "")
                report.rejected.append(
                    f"{CANARY_TAB}: {len(found)} row(s) {what} (row {shown_rows}; the bot "
                    "keeps this tab: the candidate versions' shadow plans)"
                )
        return writes

    def _save_snapshots(self, snaps: dict[tuple[str, str], tuple[int, dict]]) -> None:
        with self.stores.db.transaction():
            self.stores.db.execute("DELETE FROM sheet_rows")
            self.stores.db.executemany(
                "INSERT INTO sheet_rows (tab, key, sheet_row, row_values) VALUES (?, ?, ?, ?)",
                [(t, k, r, json.dumps(v, sort_keys=True)) for (t, k), (r, v) in snaps.items()],
            )

    def _status(self, *, ok: bool, report: SyncReport, error: str | None = None) -> None:
        stamp = ts(now())
        self.stores.db.execute(
            "INSERT INTO sync_status (name, last_ok_at, last_try_at, last_error, pending, "
            "requests) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "last_ok_at = COALESCE(excluded.last_ok_at, sync_status.last_ok_at), "
            "last_try_at = excluded.last_try_at, last_error = excluded.last_error, "
            "pending = excluded.pending, "
            "requests = COALESCE(sync_status.requests, 0) + excluded.requests",
            [
                STATUS_NAME,
                stamp if ok else None,
                stamp,
                error,
                0 if ok else pending_changes(self.stores),
                self.grid.requests,
            ],
        )


def pending_changes(stores: Stores) -> int:
    """Keyed rows whose database values differ from what the sheet last got (the sync lag in
    rows); read from the database only."""
    snaps = {
        (r["tab"], r["key"]): json.loads(r["row_values"])
        for r in stores.db.query("SELECT tab, key, row_values FROM sheet_rows")
    }
    pending = 0
    for tab in KEYED:
        for row in stores.workbook.read(tab):
            key = _key(tab, row[TAB_KEYS[tab]])
            desired = {h: _text(row.get(h)) for h in TAB_COLUMNS[tab]}
            pending += snaps.get((tab, key)) != desired
    return pending


def sync_status(stores: Stores) -> dict | None:
    """The last cycle's outcome (times, error, pending rows), or None if none ran."""
    return stores.db.one("SELECT * FROM sync_status WHERE name = ?", [STATUS_NAME])
