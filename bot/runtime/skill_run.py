"""Everything one skill run may touch, each access going through the run's guard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from bot.access.guard import Guard
from bot.access.rows import ScopedWorkbook
from bot.clock import now
from bot.errors import NotOnRoster
from bot.ids import order_id as valid_order_id
from bot.resources import Resources
from bot.runtime.roster import Member, member_from_row
from bot.skills.loader import Skill
from bot.skills.registry import Registry
from bot.skills.tools import DEC_011
from bot.stores.factory import Stores
from bot.stores.warehouse import check_params, check_read_only


@dataclass
class SkillContext:
    """The run of one skill for one caller, inside one workflow."""

    skill: Skill
    caller: Member
    stores: Stores
    registry: Registry
    guard: Guard
    execution_id: str
    workflow_id: str
    parent_id: str | None = None
    trigger: str = "chat"
    at: datetime = field(default_factory=now)
    metrics: dict = field(default_factory=dict)
    order_ids: list[str] = field(default_factory=list)
    shows: frozenset[str] | None = None  # the keys of its result (what narration tools return)
    after: list[Callable[[], object]] = field(default_factory=list)
    """Work ``execute`` runs once the run's execution is recorded, so its time is not the
    run's (a shadow run of its candidate: ``bot.canary.shadow``)."""

    def __post_init__(self) -> None:
        self.resources = Resources(self.guard)
        self._workbook: ScopedWorkbook | None = None

    def tool(self, name: str) -> None:
        """Declare use of a tool; the guard refuses one outside the role or the config."""
        self.guard.check_tool(name)

    @property
    def workbook(self) -> ScopedWorkbook:
        """The workbook through the caller's row rules."""
        if self._workbook is None:
            self.guard.check_api("workbook")
            self._workbook = ScopedWorkbook(self.stores.workbook, self.guard, self.caller.email)
        return self._workbook

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction of the system of record: every write inside it (ticket rows and
        their audit row) commits together or not at all. It begins by reading the caller's
        roster row again: a member made inactive, removed, or no longer holding this
        skill's role since the request began writes nothing (NotOnRoster, or AccessDenied
        recorded as a denial once the empty transaction is over)."""
        with self.stores.db.transaction():
            refusal = None if self.caller.system else self._caller_now()
            if refusal is None:
                yield
                return
        if refusal == "inactive":
            raise NotOnRoster(
                f"{self.caller.email} is no longer an active member of the ECM roster, so "
                "nothing was changed. Ask an ECM manager if that is a mistake."
            )
        self.guard.deny(
            f"skill:{self.skill.name}",
            DEC_011,
            message=f"Sorry, {self.skill.name} is a {self.skill.role} skill and you are now on "
            f"the ECM roster as {refusal}, so nothing was changed.",
        )

    def _caller_now(self) -> str | None:
        """None while the caller's roster row still lets them run this skill; else
        "inactive", or the roles they hold now."""
        rows = self.stores.workbook.read("Agents", {"email": self.caller.email})
        current = member_from_row(rows[0]) if rows else None
        if current is None or not current.active or not current.roles:
            return "inactive"
        return None if self.skill.role in current.roles else "/".join(current.roles)

    def query(self, name: str, **params: object) -> list[dict]:
        """Run a named query from shared/queries/ (read-only, parameters bound)."""
        self.guard.check_api("warehouse")
        self.guard.check_tool("read_pending_list" if name == "ecm-pending-list" else "run_query")
        sql = self.resources.query_sql(name)
        check_read_only(sql, name)
        check_params(sql, params, name)
        return self.stores.warehouse.run(sql, params)

    def order_id(self, value: object) -> str:
        oid = valid_order_id(value)
        if oid not in self.order_ids:
            self.order_ids.append(oid)
        return oid

    def audit(self, action: str, target: str, before: object, after: object) -> None:
        self.stores.state.audit(
            actor=self.caller.email,
            action=action,
            target=target,
            before=before,
            after=after,
            workflow_id=self.workflow_id,
        )
