"""The scheduler loop: run each due slot exactly once (a claim in the system of record, shared
by every replica), including a slot missed while the process was down if it is still within
the grace window, then publish. A slot whose run meets a held lock (a triage already running)
is given back and retried every ``retry`` seconds while its grace window lasts, never silently
lost. Each slot's outcome is recorded on its claim. Once an hour (claimed like a slot) it
prunes old state (``StateStore.prune``). After every tick it runs the alert pass it was given
(``check``, wired by ``ecm-bot scheduler``), and wakes at least every ``check_every`` for it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import now as utcnow
from bot.clock import ts
from bot.errors import Conflict, EcmError
from bot.runtime.executor import SkillResult, execute, system_member
from bot.scheduling.cron import CronJob, cron_jobs, due
from bot.skills.registry import Registry
from bot.stores.factory import Stores

log = logging.getLogger(__name__)
Publisher = Callable[[SkillResult], None]


class Scheduler:
    def __init__(
        self,
        registry: Registry,
        stores: Callable[[], Stores],
        publish: Publisher,
        grace: timedelta = timedelta(minutes=30),
        *,
        retry: timedelta = timedelta(seconds=30),
        keep_days: int = 90,
        check: Callable[[datetime], object] | None = None,
        check_every: timedelta = timedelta(seconds=60),
    ):
        self.registry = registry
        self.stores = stores
        self.publish = publish
        self.grace = grace
        self.retry = retry
        self.keep_days = keep_days
        self.check = check  # the alert pass, after every tick (bot/alerts)
        self.check_every = check_every
        self.deferred: set[str] = set()
        self.jobs: list[CronJob] = cron_jobs(registry)

    def tick(self, now: datetime | None = None) -> list[str]:
        """Run every due, unclaimed slot; return what ran as 'skill@slot'."""
        moment = now or utcnow()
        ran = []
        self.deferred = set()
        for job, slot in due(self.jobs, moment, self.grace):
            stores = self.stores()
            if not stores.state.claim_slot(job.skill, ts(slot)):
                continue
            log.info("running %s for the %s slot", job.skill, ts(slot))
            try:
                result = execute(
                    self.registry, stores, job.skill, system_member(), {}, trigger="cron"
                )
            except Conflict as exc:  # e.g. a triage already running: try again soon
                stores.state.unclaim_slot(job.skill, ts(slot))
                self.deferred.add(f"{job.skill}@{ts(slot)}")
                log.warning("scheduled %s deferred, will retry: %s", job.skill, exc)
                continue
            except EcmError as exc:
                log.warning("scheduled %s refused: %s", job.skill, exc)
                self._finish(stores, job, slot, "refused", str(exc))
                continue
            except Exception as exc:
                log.exception("scheduled %s failed", job.skill)
                self._finish(stores, job, slot, "error", f"{type(exc).__name__}: {exc}")
                continue
            self._finish(stores, job, slot, "ok", execution_id=result.execution_id)
            try:
                self.publish(result)
            except Exception:
                log.exception("publishing %s failed", job.skill)
            ran.append(f"{job.skill}@{ts(slot)}")
        self.maintain(moment)
        if self.check is not None:  # the alert pass: never stops the clock
            try:
                self.check(moment)
            except Exception:
                log.exception("the alert check failed")
        return ran

    @staticmethod
    def _finish(stores: Stores, job: CronJob, slot: datetime, outcome: str, error: str = "", **kw):
        """Record how the slot's run ended (read by the missed-slot alert)."""
        try:
            stores.state.finish_slot(job.skill, ts(slot), outcome, error=error[:500], **kw)
        except EcmError as exc:
            log.warning("could not record the %s slot's outcome: %s", job.skill, exc)

    def maintain(self, moment: datetime) -> dict | None:
        """Prune old state once per hour across replicas (the hour is claimed like a slot)."""
        stores = self.stores()
        if not stores.state.claim_slot("maintenance", ts(moment)[:13]):
            return None
        try:
            done = stores.state.prune(moment, keep_days=self.keep_days)
        except EcmError as exc:
            log.warning("maintenance failed: %s", exc)
            return None
        log.info("maintenance: %s", done)
        return done

    def next_wake(self, now: datetime) -> datetime:
        return min(job.next(now) for job in self.jobs)

    def run_forever(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Catch up on a missed slot within the grace window, then wake for each slot."""
        if not self.jobs:
            raise EcmError("No manager skill has a cron trigger; nothing to schedule.")
        while True:
            self.tick()
            wake = min(self.next_wake(utcnow()), utcnow() + timedelta(hours=1))
            if self.deferred:
                wake = min(wake, utcnow() + self.retry)
            if self.check is not None:
                wake = min(wake, utcnow() + self.check_every)
            log.info("next wake at %s UTC", ts(wake))
            sleep(max(1.0, (wake - utcnow()).total_seconds() + 1))
