"""The shift digest pass: at the end of each agent's shift, one DM listing what is still open
with them.

An agent with working hours (the roster's ``Working Hours``, in their ``Timezone``) whose shift
ended within ``WINDOW`` of ``moment`` gets the digest once per shift end: it is claimed in
``shift_digests`` (agent, shift end) with an INSERT only one replica wins, sent, then marked
sent with its audit row; a failed send is given back, so the next pass retries it, and a claim
left unsent by a process that died is taken again after ``DIGEST_LEASE``. A pass long after the
shift ended (the scheduler was down) sends nothing for it. The digest row keeps the order ids,
so the next shift's queues can show the handover (``shift_notes``). Run by the scheduler's SLA
watch and ``ecm-bot sla-watch --once``; agents always on shift get no digest."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.clock import ts
from bot.runtime.roster import Member, Roster
from bot.runtime.shift import shift_hours, zone
from bot.sla.watch import Notifier
from bot.stores.away import AwayStore
from bot.stores.factory import Stores
from bot.stores.workbook import OPEN_STATUSES

log = logging.getLogger(__name__)
ACTOR = "shift-digest"
WINDOW = timedelta(hours=2)
"""A shift's digest is sent by a pass within this long after the shift ended."""
LISTED = 15


@dataclass
class DigestReport:
    sent: list[str] = field(default_factory=list)  # "agent@shift end"
    failed: int = 0
    due: list[str] = field(default_factory=list)  # no notifier: what would have been sent

    def line(self) -> str:
        if not (self.sent or self.failed or self.due):
            return ""
        if not self.sent and not self.failed:
            return f" {len(self.due)} shift digest(s) due, not sent."
        failed = f", {self.failed} failed (retried next pass)" if self.failed else ""
        return f" Shift digests: {len(self.sent)} sent{failed}."


def last_shift_end(member: Member, moment: datetime) -> datetime | None:
    """When ``member``'s latest shift ended at or before ``moment`` (UTC), or None without
    readable working hours."""
    tz, span = zone(member.timezone), shift_hours(member.working_hours)
    if tz is None or span is None:
        return None
    local = moment.astimezone(tz)
    end = datetime.combine(local.date(), span[1], tz)
    if end > local:
        end -= timedelta(days=1)
    return end.astimezone(UTC).replace(microsecond=0)


def digest_text(member: Member, end: datetime, rows: list[dict]) -> str:
    local = end.astimezone(zone(member.timezone) or UTC).strftime("%H:%M")
    where = member.timezone or "UTC"
    if not rows:
        return f"🌙 Your shift ended at {local} ({where}): nothing is open with you. Nice work."
    listed = [
        f"`{r['Order ID']}` ({r.get('Priority') or 'P?'}, {r.get('Stuck Reason') or '?'}, "
        f"{r.get('Status')})"
        for r in rows[:LISTED]
    ]
    more = f" … and {len(rows) - LISTED} more" if len(rows) > LISTED else ""
    return (
        f"🌙 Your shift ended at {local} ({where}). Still open with you ({len(rows)}): "
        + ", ".join(listed)
        + more
        + ". The next shift sees them in their queue; say `away until …` if you won't be "
        "back for your next shift, so they are handed over."
    )


def _open(stores: Stores, email: str) -> list[dict]:
    rows = stores.workbook.read("Assignments", {"Assigned Agent": email, "Status": OPEN_STATUSES})
    mine = [r for r in rows if r.get("Status") in OPEN_STATUSES]
    return sorted(mine, key=lambda r: (str(r.get("Priority") or "P9"), str(r["Order ID"])))


def digest_pass(stores: Stores, moment: datetime, notifier: Notifier | None) -> DigestReport:
    """Send each shift digest due at ``moment`` once (see the module)."""
    report = DigestReport()
    store = AwayStore(stores.db)
    for m in Roster.load(stores.workbook).field_agents():
        end = last_shift_end(m, moment) if m.active else None
        if end is None or moment - end > WINDOW:
            continue
        rows = _open(stores, m.email)
        key = f"{m.email}@{ts(end)}"
        if notifier is None:
            report.due.append(key)
            continue
        ids = [str(r["Order ID"]) for r in rows]
        if not store.claim_digest(m.email, ts(end), moment, ids):
            continue  # sent already, or another replica is sending it
        try:
            if not m.slack_id:
                raise ValueError(f"{m.email} has no Slack ID on the roster")
            notifier.direct(m.slack_id, digest_text(m, end, rows))
        except Exception as exc:  # given back: the next pass sends it
            log.warning("shift digest for %s not sent: %s", m.email, exc)
            store.give_back_digest(m.email, ts(end))
            report.failed += 1
            continue
        with stores.db.transaction():  # sent, and its audit row, together
            store.digest_sent(m.email, ts(end), ts(moment))
            stores.state.audit(
                actor=ACTOR,
                action="shift_digest",
                target=f"agent:{m.email}",
                before=None,
                after={"agent": m.email, "shift_end": ts(end), "open": ids},
                workflow_id=None,
            )
        report.sent.append(key)
    return report


def shift_notes(stores: Stores, member: Member, moment: datetime) -> list[dict]:
    """For ``member``'s queue: the digests of teammates (a specialization in common) whose
    shift ended in the last 12 hours and who are off shift now, with how many tickets are
    still open with them (counts only: their tickets stay theirs)."""
    if not member.on_shift(moment):
        return []
    roster = Roster.load(stores.workbook)
    out = []
    for d in AwayStore(stores.db).latest_digests(ts(moment - timedelta(hours=12))):
        other = roster.by_email(str(d["agent"]))
        if other is None or other.email == member.email or other.on_shift(moment):
            continue
        if not (other.specializations & member.specializations):
            continue
        still = {str(r["Order ID"]) for r in _open(stores, other.email)}
        left = [o for o in json.loads(d["tickets"] or "[]") if o in still]
        if left:
            out.append({"agent": other.email, "shift_end": str(d["shift_end"]), "open": len(left)})
    return out
