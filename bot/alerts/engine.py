"""One alert pass: evaluate every rule, open / update / resolve alerts, then deliver what is
pending. Run by ``ecm-bot scheduler`` after every tick (at least once a minute) and by
``ecm-bot alerts check``; never on a user's request path, so no skill run waits for, or fails
by, its own alerting.

Evaluation runs under the ``alerts`` lease (one evaluator at a time across replicas, so two
passes cannot flap an alert); delivery does not need it: each delivery is claimed in the
database (``AlertStore.claim``), so any number of passes send it once. A destination that is
down leaves its deliveries pending for the next pass; one that refuses a notice (PagerDuty's
400) has it recorded as rejected and not retried.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.alerts import evidence
from bot.alerts.channels import TRIGGER, AlertChannel, ChannelDown, ChannelRejected
from bot.alerts.rules import Finding, skill_findings, slot_finding, sync_finding
from bot.alerts.store import REJECTED, SENT, SUPERSEDED, AlertStore, Delivery, notice
from bot.clock import now as utcnow
from bot.clock import ts
from bot.errors import Conflict
from bot.ids import new_id
from bot.scheduling.cron import cron_jobs
from bot.skills.registry import Registry
from bot.stores.factory import Stores
from bot.stores.state import HOST

log = logging.getLogger(__name__)
LEASE = "alerts"
LEASE_SECONDS = 120
CLAIM = timedelta(minutes=10)  # longer than any send with its retries
DEFAULT_WINDOW = timedelta(minutes=60)


@dataclass
class PassReport:
    """What one pass did."""

    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    still_open: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # failed, retried on the next pass
    rejected: list[str] = field(default_factory=list)
    unrouted: list[str] = field(default_factory=list)  # for a channel this process lacks
    skipped: str | None = None  # evaluation skipped (another replica evaluating)

    def line(self) -> str:
        def named(items: list[str]) -> str:
            return f" ({', '.join(items)})" if items else ""

        head = (
            f"evaluation skipped: {self.skipped}"
            if self.skipped
            else f"{len(self.opened)} opened{named(self.opened)}, "
            f"{len(self.resolved)} resolved{named(self.resolved)}, "
            f"{len(self.still_open)} still open"
        )
        tail = f"; delivered {len(self.sent)}{named(self.sent)}"
        if self.kept:
            tail += f", {len(self.kept)} kept for the next pass{named(self.kept)}"
        if self.rejected:
            tail += f", {len(self.rejected)} rejected{named(self.rejected)}"
        if self.unrouted:
            tail += f", {len(self.unrouted)} waiting for a process with their channel"
        return f"Alerts: {head}{tail}."


class AlertEngine:
    """Evaluates the alert rules on the system of record and delivers to ``channels``."""

    def __init__(
        self,
        registry: Registry,
        stores: Callable[[], Stores],
        channels: Mapping[str, AlertChannel],
        *,
        window: timedelta = DEFAULT_WINDOW,
        grace: timedelta = timedelta(minutes=30),
        sync_lag_limit: timedelta | None = None,
    ):
        self.registry = registry
        self.stores = stores
        self.channels = dict(channels)
        self.window = window
        self.grace = grace
        self.sync_lag_limit = sync_lag_limit  # None: no sheet configured, no sync_lag alert

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, stores: Stores, moment: datetime) -> list[Finding]:
        """Every rule's finding at ``moment``."""
        db = stores.db
        until = ts(moment)
        open_p1 = evidence.open_p1_tickets(db)
        found: list[Finding] = []
        for skill in self.registry:
            minutes = skill.config.monitoring.window_minutes or int(
                self.window.total_seconds() // 60
            )
            since = ts(moment - timedelta(minutes=minutes))
            w = evidence.window(db, skill.name, since, until)
            last = evidence.last_finished(db, skill.name, until)
            found += skill_findings(skill, w, last, minutes=minutes, open_p1=open_p1)
        for job in cron_jobs(self.registry):
            skill = self.registry.get(job.skill)
            armed, claims = evidence.slots(db, job.skill, ts(moment - timedelta(days=7)))
            found.append(
                slot_finding(job, skill, armed, claims, moment, self.grace, open_p1=open_p1)
            )
        found.append(sync_finding(evidence.sync_status(db), self.sync_lag_limit, moment))
        return found

    def check(self, moment: datetime | None = None) -> PassReport:
        """One pass: evaluate (unless another replica is), then deliver what is pending."""
        moment = moment or utcnow()
        stores = self.stores()
        store = AlertStore(stores.db)
        report = PassReport()
        try:
            stores.state.acquire_lock(LEASE, LEASE, LEASE_SECONDS)
        except Conflict:
            report.skipped = "another replica is evaluating"
        else:
            try:
                for finding in self.evaluate(stores, moment):
                    self._apply(store, finding, report)
            finally:
                stores.state.release_lock(LEASE, LEASE)
        self.deliver(store, report)
        return report

    def _apply(self, store: AlertStore, f: Finding, report: PassReport) -> None:
        state = store.state(f.key)
        is_open = state is not None and state["status"] == "open"
        if f.firing and is_open:
            assert state is not None
            store.update(f, state["seq"])
            report.still_open.append(f.key)
        elif f.firing and f.opens:
            channels = [c for c in f.channels if c in self.channels]
            if store.open(f, channels, state) is not None:
                log.warning("alert opened: %s (%s)", f.summary, f.severity)
                report.opened.append(f.key)
        elif f.firing is False and is_open:
            assert state is not None
            if store.resolve(f, state["seq"]):
                log.info("alert resolved: %s", f.key)
                report.resolved.append(f.key)

    # -- delivery ----------------------------------------------------------------------------
    def deliver(self, store: AlertStore, report: PassReport) -> None:
        """Send every pending delivery this process has a channel for, each exactly once."""
        holder = f"{HOST}:{os.getpid()}:{new_id()}"
        for d in store.due():
            channel = self.channels.get(d.channel)
            name = f"{d.channel} {d.action} {d.key}"
            if channel is None:
                report.unrouted.append(name)
                continue
            state = store.state(d.key)
            ref = None
            if d.action == TRIGGER:
                if state is None or state["seq"] != d.seq or state["status"] != "open":
                    store.supersede(d, "resolved before its trigger could be sent")
                    continue
            else:
                trigger = store.delivery(d.key, d.seq, d.channel, TRIGGER)
                if trigger is None or trigger.status in (REJECTED, SUPERSEDED):
                    store.supersede(d, "its trigger was never sent")
                    continue
                if trigger.status != SENT:
                    continue  # its trigger is being sent by another process
                ref = trigger.ref
            if state is None or not store.claim(d, holder, CLAIM):
                continue
            self._send(store, channel, d, notice(state, d.action, ref), holder, name, report)

    @staticmethod
    def _send(store, channel, d: Delivery, note, holder: str, name: str, report) -> None:
        try:
            ref = channel.send(note)
        except ChannelRejected as exc:
            log.error("%s refused %s: %s", d.channel, d.key, exc)
            store.failed(d, holder, str(exc), final=True)
            report.rejected.append(name)
        except Exception as exc:  # ChannelDown, or anything else: kept for the next pass
            why = str(exc) if isinstance(exc, ChannelDown) else f"{type(exc).__name__}: {exc}"
            log.warning("%s did not take %s (kept for the next pass): %s", d.channel, d.key, why)
            store.failed(d, holder, why, final=False)
            report.kept.append(name)
        else:
            store.sent(d, holder, ref)
            report.sent.append(name)
