"""Which cron slots are due: the manager skills' cron triggers, evaluated in their timezones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.skills.registry import Registry


@dataclass(frozen=True)
class CronJob:
    skill: str
    schedule: str
    timezone: str

    def previous(self, now: datetime) -> datetime:
        """The latest slot at or before ``now`` (UTC)."""
        local = now.astimezone(ZoneInfo(self.timezone)) + timedelta(seconds=1)
        return croniter(self.schedule, local).get_prev(datetime).astimezone(UTC)

    def next(self, now: datetime) -> datetime:
        """The first slot after ``now`` (UTC)."""
        local = now.astimezone(ZoneInfo(self.timezone))
        return croniter(self.schedule, local).get_next(datetime).astimezone(UTC)


def cron_jobs(registry: Registry) -> list[CronJob]:
    """Every cron trigger of the manager skills (field skills are never scheduled)."""
    return [
        CronJob(skill.name, t.cron.schedule, t.cron.timezone)
        for skill in registry.for_role("manager")
        for t in skill.config.triggers
        if t.cron
    ]


def due(jobs: list[CronJob], now: datetime, grace: timedelta) -> list[tuple[CronJob, datetime]]:
    """(job, slot) for each job whose latest slot is within ``grace`` of ``now``."""
    out = []
    for job in jobs:
        slot = job.previous(now)
        if now - slot <= grace:
            out.append((job, slot))
    return out
