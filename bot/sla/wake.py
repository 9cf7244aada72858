"""The wake pass: snoozed tickets whose time is up come back to their owner.

For each snooze due at ``moment`` (``bot/stores/snoozes.py``), one transaction claims it (a
conditional UPDATE only one replica wins), returns the Assignments row from WAITING to the
status it had (only if it is still WAITING and still the snoozer's) and writes the audit
row; after the commit the owner gets one DM. A ticket resolved, escalated or moved while it
was waiting just has its snooze ended, with no DM. Run by ``ecm-bot sla-watch --once`` and
the scheduler's SLA watch, before the watch's own notices."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import ts
from bot.runtime.roster import Roster
from bot.sla.watch import Notifier
from bot.stores.factory import Stores
from bot.stores.snoozes import Snooze, Snoozes
from bot.stores.workbook import WAITING, RowUpdate

log = logging.getLogger(__name__)
ACTOR = "snooze-wake"


@dataclass
class WakeReport:
    woken: list[str] = field(default_factory=list)  # back in their owner's queue
    ended: list[str] = field(default_factory=list)  # no longer waiting: snooze just ended
    dm_failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        failed = f"; {len(self.dm_failed)} DM(s) not sent" if self.dm_failed else ""
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


def wake_pass(stores: Stores, moment: datetime, notifier: Notifier | None) -> WakeReport:
    """Bring back every snoozed ticket due at ``moment``; DM each owner once (when Slack is
    configured; a failed DM is logged, the ticket is back either way)."""
    report, stamp = WakeReport(), ts(moment)
    due = Snoozes(stores.db).due(stamp)
    if not due:
        return report
    ids = {m.email.lower(): m.slack_id for m in Roster.load(stores.workbook).members}
    for s in due:
        back = _wake_one(stores, s, stamp)
        if back is None:
            report.ended.append(s.order_id)
            continue
        report.woken.append(s.order_id)
        if notifier is None:
            continue
        try:
            slack_id = ids.get(s.agent) or ""
            if not slack_id:
                raise ValueError(f"{s.agent} has no Slack ID on the roster")
            notifier.direct(slack_id, dm_text(s, back))
        except Exception as exc:  # the ticket is back; a DM never undoes that
            log.warning("snooze DM for %s not sent: %s", s.order_id, exc)
            report.dm_failed.append(s.order_id)
    return report
