"""The wake pass: snoozed tickets whose time is up come back to their owner.

For each snooze due at ``moment`` (``bot/stores/snoozes.py``), one transaction claims it (a
conditional UPDATE only one replica wins), returns the Assignments row from WAITING to the
status it had (only if it is still WAITING and still the snoozer's) and writes the audit
row; after the commit the owner gets one DM. A ticket resolved, escalated or moved while it
was waiting just has its snooze ended, with no DM. The DM is claimed in ``sla_notices`` (kind
``wake:<snoozed at>``) inside the wake's transaction and marked sent once it went out; a DM
that failed is given back (its claim made stale) and the next pass sends it. Run by
``ecm-bot sla-watch --once`` and the scheduler's SLA watch, before the watch's own notices."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import parse_ts, ts
from bot.runtime.roster import Roster
from bot.sla.watch import CLAIM_LEASE, Notice, NoticeLog, Notifier
from bot.stores.factory import Stores
from bot.stores.snoozes import Snooze, Snoozes
from bot.stores.workbook import WAITING, RowUpdate

log = logging.getLogger(__name__)
ACTOR = "snooze-wake"


@dataclass
class WakeReport:
    woken: list[str] = field(default_factory=list)  # back in their owner's queue
    ended: list[str] = field(default_factory=list)  # no longer waiting: snooze just ended
    dm_failed: list[str] = field(default_factory=list)  # retried by the next pass
    resent: list[str] = field(default_factory=list)  # a DM an earlier pass failed to send

    def line(self) -> str:
        failed = (
            f"; {len(self.dm_failed)} DM(s) not sent (retried next pass)" if self.dm_failed else ""
        )
        return f"Snoozes: {len(self.woken)} back ({', '.join(self.woken) or 'none'}){failed}."


def dm_text(s: Snooze, status: str) -> str:
    return (
        f"⏰ `{s.order_id}` is back in your queue ({status}): you snoozed it until "
        f"{s.until[:16]} UTC — {s.note}. Say `order {s.order_id}` to open it."
    )


def _wake_one(stores: Stores, s: Snooze, stamp: str) -> str | None:
    """In one transaction: claim the snooze and bring its ticket back. The status it went
    back to, or None when someone else claimed it or the ticket is no longer waiting."""
    snoozes = Snoozes(stores.db)
    with stores.db.transaction():
        if not snoozes.wake(s, stamp):
            return None  # another pass (another replica) woke it
        row = stores.workbook.find("Assignments", s.order_id)
        agent = str((row or {}).get("Assigned Agent") or "")
        if row is None or row.get("Status") != WAITING or agent.lower() != s.agent:
            return None  # resolved, escalated or moved while waiting: nothing to bring back
        back = s.resume_status if s.resume_status != WAITING else "IN_PROGRESS"
        conflicts = stores.workbook.update(
            "Assignments",
            [
                RowUpdate(
                    s.order_id,
                    {"Status": back, "Updated At": stamp},
                    {"Status": WAITING, "Assigned Agent": agent},
                )
            ],
        )
        if conflicts:
            return None
        NoticeLog(stores.db).claim(_dm_notice(s), parse_ts(stamp))  # the DM, owed until sent
        link = stores.state.workflow_for_order(s.order_id)
        stores.state.audit(
            actor=ACTOR,
            action="snooze_wake",
            target=f"order:{s.order_id}",
            before={"Status": WAITING, "Until": s.until},
            after={"Status": back, "Updated At": stamp, "agent": s.agent},
            workflow_id=link[0] if link else None,
        )
    return back


def _dm_notice(s: Snooze) -> Notice:
    return Notice(s.order_id, s.agent, f"wake:{s.snoozed_at}", "")


def _owed(stores: Stores, moment: datetime) -> list[tuple[Snooze, str]]:
    """Wake DMs claimed and not sent whose claim is stale (given back, or left by a process
    that died), with the status the ticket is back in; a ticket moved since is dropped."""
    rows = stores.db.query(
        "SELECT order_id, agent, kind FROM sla_notices WHERE kind LIKE 'wake:%' "
        "AND sent_at IS NULL AND at <= ?",
        [ts(moment - CLAIM_LEASE)],
    )
    snoozes, owed = Snoozes(stores.db), []
    for r in rows:
        s = snoozes.get(str(r["order_id"]))
        row = stores.workbook.find("Assignments", str(r["order_id"]))
        mine = row is not None and str(row.get("Assigned Agent") or "").lower() == r["agent"]
        if s is None or f"wake:{s.snoozed_at}" != r["kind"] or not mine or not s.woken_at:
            NoticeLog(stores.db).give_back(Notice(r["order_id"], r["agent"], r["kind"], ""))
            continue
        owed.append((s, str((row or {}).get("Status") or "")))
    return owed


def wake_pass(stores: Stores, moment: datetime, notifier: Notifier | None) -> WakeReport:
    """Bring back every snoozed ticket due at ``moment``, then DM each owner once (when Slack
    is configured): a failed DM is given back and retried by the next pass, the ticket is
    back either way."""
    report, stamp = WakeReport(), ts(moment)
    owe: list[tuple[Snooze, str]] = []
    for s in Snoozes(stores.db).due(stamp):
        back = _wake_one(stores, s, stamp)
        if back is None:
            report.ended.append(s.order_id)
            continue
        report.woken.append(s.order_id)
        owe.append((s, back))
    if notifier is None:
        return report
    retried = [(s, back) for s, back in _owed(stores, moment) if s.order_id not in report.woken]
    if not owe and not retried:
        return report
    ids = {m.email.lower(): m.slack_id for m in Roster.load(stores.workbook).members}
    notices = NoticeLog(stores.db)
    for s, back in owe + retried:
        n = _dm_notice(s)
        if (s, back) in retried and not notices.claim(n, moment):
            continue  # another replica is sending it
        try:
            slack_id = ids.get(s.agent) or ""
            if not slack_id:
                raise ValueError(f"{s.agent} has no Slack ID on the roster")
            notifier.direct(slack_id, dm_text(s, back))
        except Exception as exc:  # the ticket is back; the DM is retried next pass
            log.warning("snooze DM for %s not sent: %s", s.order_id, exc)
            _give_back(stores, n, moment)
            report.dm_failed.append(s.order_id)
            continue
        notices.mark_sent([n], moment)
        if (s, back) in retried:
            report.resent.append(s.order_id)
    return report


def _give_back(stores: Stores, n: Notice, moment: datetime) -> None:
    """Make the DM's claim stale, so the next pass takes it at once."""
    stores.db.execute(
        "UPDATE sla_notices SET at = ? WHERE order_id = ? AND agent = ? AND kind = ? "
        "AND sent_at IS NULL",
        [ts(moment - CLAIM_LEASE), n.order_id, n.agent, n.kind],
    )
