"""One pass of the SLA watch: which notices are due, claimed once, then sent.

Each open ticket's deadline is its order's ``stuck_since`` (the warehouse's pending list) plus
its stuck reason's ``sla_hours``. Due notices (``plan``) are warnings before and at the
deadline, re-notifications of a breached ticket of the policy's priorities whose row has not
changed since its deadline, then one escalation. Each is claimed in ``sla_notices`` (order,
owner, kind) with an INSERT that only one replica wins, then sent and marked sent; a notice
whose send fails is given back, so the next pass retries it, and a claim left unsent by a
process that died mid-send is taken again after ``CLAIM_LEASE``. Every sent notice is an
audit row linked to the workflow of the triage that assigned the ticket. Warnings to an owner
off shift (``Member.on_shift``) wait for their working hours, except on a P1; a pass lists
them as ``held``. Without a notifier a pass claims nothing and reports what it would send."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import parse_ts, ts
from bot.db.base import Database
from bot.errors import EcmError
from bot.paths import QUERIES_DIR
from bot.runtime.roster import Roster
from bot.sla.policy import SlaPolicy
from bot.stores.factory import Stores
from bot.stores.state import StateStore
from bot.stores.workbook import OPEN_STATUSES

log = logging.getLogger(__name__)
ACTOR = "sla-watch"
CLAIM_LEASE = timedelta(minutes=10)
"""How long a claimed notice may stay unsent before another pass takes it again (far longer
than a send, with its retries, takes)."""


class Notifier(Protocol):
    """Where notices go (Slack in production, ``bot/slack/notices.py``); each raises on a
    failed send, so the notice is retried."""

    def direct(self, slack_id: str, text: str) -> None: ...

    def escalation(self, text: str) -> None: ...


@dataclass(frozen=True)
class Notice:
    order_id: str
    agent: str
    kind: str  # warn:60, warn:0, renotify:1, escalate
    text: str
    to_escalation: bool = False
    held: bool = False  # a warning waiting for its owner's shift (listed, not sent)


@dataclass(frozen=True)
class Ticket:
    order_id: str
    agent: str
    priority: str
    reason: str
    amount: str
    currency: str
    assigned_at: datetime | None
    updated_at: datetime | None


def _ticket(row: dict) -> Ticket:
    assigned = str(row.get("Assigned At") or "")
    updated = str(row.get("Updated At") or assigned)
    return Ticket(
        str(row["Order ID"]),
        str(row["Assigned Agent"]),
        str(row.get("Priority") or ""),
        str(row.get("Stuck Reason") or ""),
        str(row.get("Amount") or ""),
        str(row.get("Currency") or ""),
        parse_ts(assigned) if assigned else None,
        parse_ts(updated) if updated else None,
    )


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def plan(
    ticket: Ticket,
    stuck_since: datetime,
    reason: dict,
    policy: SlaPolicy,
    moment: datetime,
) -> list[Notice]:
    """The notices due for one ticket at ``moment`` (already-sent ones included: the claim
    decides what is new). The most urgent due notice comes last."""
    sla = reason.get("sla_hours")
    if sla is None or not ticket.agent:
        return []
    deadline = stuck_since + timedelta(hours=float(sla))
    money = f"{ticket.amount} {ticket.currency}".strip()
    what = f"`{ticket.order_id}` ({ticket.priority}, {ticket.reason}, {money})"
    found: list[Notice] = []
    for before in policy.warn_before_minutes:  # largest first
        due = deadline - timedelta(minutes=before)
        if moment < due or (before and moment >= deadline):
            continue
        if before:
            text = (
                f"⏳ {what} reaches its {sla}h SLA in {_minutes(deadline - moment)} min "
                f"(at {ts(deadline)[11:16]} UTC). Say `order {ticket.order_id}` to open it."
            )
        else:
            text = (
                f"⏰ {what} has reached its {sla}h SLA (stuck since {ts(stuck_since)[:16]} UTC). "
                f"Say `order {ticket.order_id}` to open it, or `escalate {ticket.order_id} REASON`."
            )
        found.append(Notice(ticket.order_id, ticket.agent, f"warn:{before}", text))
    rules = policy.renotify
    # progress: the row changed after both the deadline and the assignment (a status change,
    # a reassignment), so a ticket assigned after its breach is still reminded about
    since = max(deadline, ticket.assigned_at or deadline)
    moved = ticket.updated_at is not None and ticket.updated_at > since
    if moment < deadline or ticket.priority not in rules.priorities or moved:
        return found
    steps = _minutes(moment - deadline) // rules.every_minutes
    late = f"{(moment - deadline).total_seconds() / 3600:.1f}h"
    for n in range(1, min(steps, rules.escalate_after) + 1):
        found.append(
            Notice(
                ticket.order_id,
                ticket.agent,
                f"renotify:{n}",
                f"🔁 Reminder {n}: {what} is {late} past its {sla}h SLA and has not moved "
                f"since. Say `order {ticket.order_id}` to open it.",
            )
        )
    if steps > rules.escalate_after:
        target = reason.get("escalate_to") or "the ECM managers"
        found.append(
            Notice(
                ticket.order_id,
                ticket.agent,
                "escalate",
                f"🚨 SLA escalation: {what} is {late} past its {sla}h SLA with no progress "
                f"after {rules.escalate_after} reminder(s). Owner: {ticket.agent}. "
                f"Escalates to: {target}.",
                to_escalation=True,
            )
        )
    return found


class NoticeLog:
    """The ``sla_notices`` table: one row per (order, owner, kind) ever claimed."""

    def __init__(self, db: Database):
        self.db = db

    def claim(self, n: Notice, at: datetime) -> bool:
        """Take ``n`` for sending; only one replica wins. A claim that was never marked sent
        and is older than ``CLAIM_LEASE`` (its process died mid-send) is taken again."""
        stale = ts(at - CLAIM_LEASE)
        return bool(
            self.db.query(
                "INSERT INTO sla_notices (order_id, agent, kind, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (order_id, agent, kind) DO UPDATE SET at = excluded.at "
                "WHERE sla_notices.sent_at IS NULL AND sla_notices.at <= ? RETURNING kind",
                [n.order_id, n.agent, n.kind, ts(at), stale],
            )
        )

    def mark_sent(self, notices: Iterable[Notice], at: datetime) -> None:
        """The claimed notices went out (the newest was sent; older ones it superseded)."""
        self.db.executemany(
            "UPDATE sla_notices SET sent_at = ? WHERE order_id = ? AND agent = ? AND kind = ?",
            [(ts(at), n.order_id, n.agent, n.kind) for n in notices],
        )

    def give_back(self, n: Notice) -> None:
        self.db.execute(
            "DELETE FROM sla_notices WHERE order_id = ? AND agent = ? AND kind = ?",
            [n.order_id, n.agent, n.kind],
        )

    def sent(self) -> list[dict]:
        return self.db.query("SELECT * FROM sla_notices ORDER BY at, order_id, kind")


KIND_WORDS = {"warn": "warning(s)", "renotify": "reminder(s)", "escalate": "escalation(s)"}


def newest(notices: Iterable[Notice]) -> list[Notice]:
    """The one notice per ticket a pass would send: its most urgent due one."""
    return [group[-1] for group in _by_ticket(notices)]


@dataclass
class PassReport:
    due: int = 0
    sent: list[Notice] | None = None
    failed: int = 0
    unsent: list[Notice] | None = None  # no notifier: what would have been sent
    woken: list[str] | None = None  # snoozed tickets brought back by the wake pass
    held: list[Notice] | None = None  # warnings waiting for their owner's shift
    extra: str = ""  # what the passes run beside it did (shift digests)

    def line(self) -> str:
        sent = self.sent or []
        back = f" {len(self.woken)} snoozed ticket(s) back." if self.woken else ""
        back += self.extra
        held = newest(self.held or [])
        waiting = f" {len(held)} warning(s) held until their owner's shift." if held else ""
        if self.unsent is not None:
            first = newest(self.unsent)
            counts: dict[str, int] = {}
            for n in first:
                counts[n.kind.split(":")[0]] = counts.get(n.kind.split(":")[0], 0) + 1
            kinds = ", ".join(f"{v} {KIND_WORDS.get(k, k)}" for k, v in counts.items())
            return (
                f"SLA watch: {len(first)} ticket(s) due a notice"
                + (f" ({kinds}; one per ticket, the most urgent)" if first else "")
                + f".{waiting} None sent: Slack is not configured (set SLACK_BOT_TOKEN).{back}"
            )
        kinds = ", ".join(f"{n.kind} {n.order_id}" for n in sent) or "nothing new"
        failed = f"; {self.failed} failed (retried next pass)" if self.failed else ""
        return f"SLA watch: sent {len(sent)} ({kinds}){failed}.{waiting}{back}"


def _held(notices: list[Notice], priority: str, roster: Roster, moment: datetime) -> bool:
    """A ticket's due notices wait when the most urgent is a warning, the ticket is not a P1
    and its owner is off shift: nothing is claimed, so a pass in their working hours sends
    it. Re-notifications and escalations never wait."""
    if not notices or not notices[-1].kind.startswith("warn:") or priority == "P1":
        return False
    member = roster.by_email(notices[-1].agent)
    return member is not None and not member.on_shift(moment)


def _due(
    stores: Stores, reasons: dict, policy: SlaPolicy, moment: datetime, roster: Roster
) -> tuple[list[Notice], list[Notice]]:
    """The notices due, and the held ones (marked ``held``)."""
    sql = (QUERIES_DIR / "ecm-pending-list.sql").read_text(encoding="utf-8")
    since = {str(o["order_id"]): str(o["stuck_since"]) for o in stores.warehouse.run(sql, {})}
    notices: list[Notice] = []
    held: list[Notice] = []
    for row in stores.workbook.read("Assignments"):
        if row.get("Status") not in OPEN_STATUSES or str(row["Order ID"]) not in since:
            continue  # closed, or the order is no longer stuck: no SLA to watch
        ticket = _ticket(row)
        found = plan(
            ticket,
            parse_ts(since[ticket.order_id]),
            reasons.get(ticket.reason) or {},
            policy,
            moment,
        )
        if not _held(found, ticket.priority, roster, moment):
            notices += found
        else:
            held += [replace(n, held=True) for n in found]
    return notices, held


def run_pass(
    stores: Stores,
    reasons: dict,
    policy: SlaPolicy,
    moment: datetime,
    notifier: Notifier | None,
) -> PassReport:
    """Plan, claim and send what is due at ``moment``. With no notifier nothing is claimed:
    the report lists what would have been sent."""
    roster = Roster.load(stores.workbook)
    due, held = _due(stores, reasons, policy, moment, roster)
    if notifier is None:
        return PassReport(due=len(due), unsent=due, held=held)
    notices, state = NoticeLog(stores.db), StateStore(stores.db)
    ids = {m.email.lower(): m.slack_id for m in roster.members}
    managers = [m.slack_id for m in roster.members if "manager" in m.roles and m.active]
    report = PassReport(due=len(due), sent=[], held=held)
    for ticket_notices in _by_ticket(due):
        claimed = [n for n in ticket_notices if notices.claim(n, moment)]
        if not claimed:
            continue
        newest = claimed[-1]  # the most urgent: older warnings it supersedes are not sent
        try:
            _send(newest, notifier, ids.get(newest.agent.lower()) or "", managers)
        except Exception as exc:  # any failed send is retried, never raised
            log.warning("SLA notice %s %s not sent: %s", newest.kind, newest.order_id, exc)
            for n in claimed:
                notices.give_back(n)
            report.failed += 1
            continue
        link = state.workflow_for_order(newest.order_id)
        with stores.db.transaction():  # sent, and its audit row, together
            notices.mark_sent(claimed, moment)
            state.audit(
                actor=ACTOR,
                action="sla_" + newest.kind.split(":")[0],
                target=newest.order_id,
                before=None,
                after={"agent": newest.agent, "kind": newest.kind, "skipped": len(claimed) - 1},
                workflow_id=link[0] if link else None,
            )
        report.sent.append(newest)  # type: ignore[union-attr]
    return report


def _by_ticket(notices: Iterable[Notice]) -> list[list[Notice]]:
    grouped: dict[tuple[str, str], list[Notice]] = {}
    for n in notices:
        grouped.setdefault((n.order_id, n.agent), []).append(n)
    return list(grouped.values())


def _send(n: Notice, notifier: Notifier, slack_id: str, managers: list[str]) -> None:
    if n.to_escalation:
        notifier.escalation(n.text)  # the channel post is the escalation; DMs are courtesy
        for manager in managers:
            try:
                notifier.direct(manager, n.text)
            except Exception as exc:  # one DM never undoes the rest
                log.warning("SLA escalation DM to %s failed: %s", manager, exc)
        return
    if not slack_id:
        raise EcmError(f"{n.agent} has no Slack ID on the roster")
    notifier.direct(slack_id, n.text)
