"""The scheduler loop: run each due slot exactly once (a claim in state.db), including a slot
missed while the process was down if it is still within the grace window, then publish."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import now as utcnow
from bot.clock import ts
from bot.errors import EcmError
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
    ):
        self.registry = registry
        self.stores = stores
        self.publish = publish
        self.grace = grace
        self.jobs: list[CronJob] = cron_jobs(registry)

    def tick(self, now: datetime | None = None) -> list[str]:
        """Run every due, unclaimed slot; return what ran as 'skill@slot'."""
        moment = now or utcnow()
        ran = []
        for job, slot in due(self.jobs, moment, self.grace):
            stores = self.stores()
            if not stores.state.claim_slot(job.skill, ts(slot)):
                continue
            log.info("running %s for the %s slot", job.skill, ts(slot))
            try:
                result = execute(
                    self.registry, stores, job.skill, system_member(), {}, trigger="cron"
                )
            except EcmError as exc:
                log.warning("scheduled %s refused: %s", job.skill, exc)
                continue
            except Exception:  # noqa: BLE001 - keep the clock alive; the run is recorded
                log.exception("scheduled %s failed", job.skill)
                continue
            try:
                self.publish(result)
            except Exception:  # noqa: BLE001 - a posting failure must not kill the clock
                log.exception("publishing %s failed", job.skill)
            ran.append(f"{job.skill}@{ts(slot)}")
        return ran

    def next_wake(self, now: datetime) -> datetime:
        return min(job.next(now) for job in self.jobs)

    def run_forever(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Catch up on a missed slot within the grace window, then wake for each slot."""
        if not self.jobs:
            raise EcmError("No manager skill has a cron trigger; nothing to schedule.")
        while True:
            self.tick()
            wake = self.next_wake(utcnow())
            log.info("next scheduled run at %s UTC", ts(wake))
            sleep(max(1.0, (wake - utcnow()).total_seconds() + 1))
