"""What ``/metrics`` answers (``metrics_app``): this process's counters, and the business gauges
read from the system of record at every scrape, the same on every replica:

- ``ecm_open_tickets{priority,status}``: open tickets (ASSIGNED, IN_PROGRESS, WAITING, ESCALATED);
- ``ecm_sla_breaches{reason}``: open tickets stuck longer than their stuck reason's
  ``sla_hours`` (hours stuck at their last triage plus the time since; no warehouse query);
- ``ecm_sla_notices{kind,state}``: the SLA watch's notices (warn, renotify, escalate) ever
  sent, and those claimed but not yet sent (a send in flight, or a claim a dead process left
  for the next pass);
- ``ecm_handovers{kind}``: tickets away agents handed over (moved) or left to the managers
  (pinned, no_room), ever;
- ``ecm_sheets_sync_lag_seconds`` (+Inf before a first successful sync) and
  ``ecm_sheets_sync_failing``, once a sheet sync has run;
- ``ecm_skill_custom_metric{domain,role,skill,metric}``: the latest value each skill
  reported for the custom metrics its monitoring block names (last 7 days);
- ``ecm_database_up``: 0 when the database did not answer (the other gauges are then absent).

A scrape costs a few small queries (``bot.stores.reports``): the open tickets with a
primary-key look-up of their triage each, the sync's status row, and a bounded index range
of each skill's newest executions.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import hours_between, now, parse_ts, ts
from bot.db.base import Database
from bot.observability import metrics
from bot.observability.metrics import Gauge
from bot.stores.reports import CUSTOM_DAYS, Reports

log = logging.getLogger(__name__)
OPEN = ("ASSIGNED", "IN_PROGRESS", "WAITING", "ESCALATED")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
OTHER = "other"
SLA_NOTICE_KINDS = ("warn", "renotify", "escalate")
HANDOVER_KINDS = ("moved", "pinned", "no_room")
HELP = {
    metrics.OPEN_TICKETS: "Open tickets in the system of record, by priority and status.",
    metrics.SLA_BREACHES: "Open tickets stuck longer than their stuck reason's SLA.",
    metrics.SLA_NOTICES: "SLA watch notices by kind, sent or claimed and not yet sent.",
    metrics.HANDOVERS: "Tickets away agents handed over (moved) or left to the managers.",
    metrics.SYNC_LAG: "Seconds since the sheet sync last succeeded (+Inf: never).",
    metrics.SYNC_FAILING: "1 when the sheet sync's last cycle failed.",
    metrics.CUSTOM_METRIC: "The latest value a skill reported for a custom metric it names.",
    metrics.DATABASE_UP: "1 when the system of record answered this scrape.",
}


@dataclass(frozen=True)
class SkillMetrics:
    domain: str
    role: str
    skill: str
    names: tuple[str, ...]


def _gauge(name: str, value: float, **labels: str) -> Gauge:
    return Gauge(name, HELP[name], tuple(labels.items()), value)


def stuck_hours(row: Mapping, moment: datetime) -> float | None:
    """How long an open ticket's order has been stuck: its hours at its last triage plus the
    time since that triage (None when the row does not say)."""
    at = row.get("triaged_at") or row.get("assigned_at")
    try:
        hours = float(row.get("hours") or "")
        return hours + hours_between(parse_ts(at), moment)
    except (TypeError, ValueError):
        return None


class BusinessGauges:
    """A gauge source for ``bot.observability.prometheus.wsgi_app``."""

    def __init__(
        self,
        open_db: Callable[[], Database],
        skills: list[SkillMetrics],
        sla_hours: Mapping[str, float],
        clock: Callable[[], datetime] = now,
    ):
        self.open_db = open_db
        self.skills = skills
        self.sla_hours = dict(sla_hours)
        self.clock = clock

    @classmethod
    def for_registry(cls, registry, env: Mapping[str, str] = os.environ) -> BusinessGauges:
        """The gauges of ``registry``'s skills over the configured database."""
        from bot.db import open_database
        from bot.paths import CONFIG_DIR, data_dir
        from bot.yaml_safe import parse_yaml

        reasons = parse_yaml((CONFIG_DIR / "stuck-reasons.yaml").read_text("utf-8"))
        sla = {
            code: float(r["sla_hours"])
            for code, r in (reasons.get("reasons") or {}).items()
            if isinstance(r, dict) and r.get("sla_hours") is not None
        }
        skills = [
            SkillMetrics(
                s.config.skill.domain, s.role, s.name, tuple(s.config.monitoring.custom_metrics)
            )
            for s in registry
        ]
        where = (env.get("ECM_DATA_DIR") or "").strip()
        directory = Path(where).expanduser() if where else data_dir()
        return cls(lambda: open_database(directory, env), skills, sla)

    def __call__(self) -> list[Gauge]:
        moment = self.clock()
        try:
            db = self.open_db()
            found = self.tickets(Reports(db), moment)
            found += self.sync(db, moment)
            found += self.notices(db)
            found += self.handovers(db)
            found += self.custom(Reports(db), moment)
        except Exception as exc:  # a scrape still answers: the database is down
            log.warning("business gauges: the database did not answer: %s", exc)
            return [_gauge(metrics.DATABASE_UP, 0)]
        return [_gauge(metrics.DATABASE_UP, 1), *found]

    def tickets(self, reports: Reports, moment: datetime) -> list[Gauge]:
        rows = reports.open_tickets(OPEN)
        counts = Counter(
            (r["priority"] if r["priority"] in PRIORITIES else OTHER, r["status"]) for r in rows
        )
        found = [
            _gauge(metrics.OPEN_TICKETS, counts[(p, s)], priority=p, status=s)
            for p in PRIORITIES
            for s in OPEN
        ]
        found += [
            _gauge(metrics.OPEN_TICKETS, n, priority=p, status=s)
            for (p, s), n in sorted(counts.items())
            if p == OTHER
        ]
        breaches: Counter[str] = Counter()
        for r in rows:
            limit, hours = self.sla_hours.get(r["reason"]), stuck_hours(r, moment)
            if limit is not None and hours is not None and hours > limit:
                breaches[r["reason"]] += 1
        found += [
            _gauge(metrics.SLA_BREACHES, breaches[reason], reason=reason)
            for reason in sorted(self.sla_hours)
        ]
        return found

    def notices(self, db: Database) -> list[Gauge]:
        """Sent and unsent SLA notices per kind (warn:60 and warn:0 are both ``warn``)."""
        counts: Counter[tuple[str, str]] = Counter()
        for r in db.query(
            "SELECT kind, sent_at IS NOT NULL AS sent, COUNT(*) AS n FROM sla_notices "
            "GROUP BY kind, sent_at IS NOT NULL"
        ):
            counts[(str(r["kind"]).split(":")[0], "sent" if r["sent"] else "unsent")] += int(r["n"])
        return [
            _gauge(metrics.SLA_NOTICES, counts[(kind, state)], kind=kind, state=state)
            for kind in SLA_NOTICE_KINDS
            for state in ("sent", "unsent")
        ]

    def handovers(self, db: Database) -> list[Gauge]:
        """Handed-over tickets per kind (``bot/stores/away.py``)."""
        from bot.stores.away import AwayStore

        counts = AwayStore(db).count_by_kind()
        return [_gauge(metrics.HANDOVERS, counts.get(k, 0), kind=k) for k in HANDOVER_KINDS]

    def sync(self, db: Database, moment: datetime) -> list[Gauge]:
        from bot.sync.sheets_sync import STATUS_NAME

        row = db.one("SELECT * FROM sync_status WHERE name = ?", [STATUS_NAME])
        if row is None:
            return []
        ok = row.get("last_ok_at")
        lag = (moment - parse_ts(ok)).total_seconds() if ok else math.inf
        return [
            _gauge(metrics.SYNC_LAG, max(0.0, lag)),
            _gauge(metrics.SYNC_FAILING, 1 if row.get("last_error") else 0),
        ]

    def custom(self, reports: Reports, moment: datetime) -> list[Gauge]:
        since = ts(moment - timedelta(days=CUSTOM_DAYS))
        found = []
        for s in self.skills:
            if not s.names:
                continue
            latest = reports.latest_custom(s.skill, list(s.names), since)
            found += [
                _gauge(
                    metrics.CUSTOM_METRIC,
                    float(latest[name]),
                    domain=s.domain,
                    role=s.role,
                    skill=s.skill,
                    metric=name,
                )
                for name in s.names
                if name in latest
            ]
        return found


def metrics_app(registry=None, env: Mapping[str, str] = os.environ):
    """The ``/metrics`` WSGI app of a long-running process: counting starts now; at the first
    scrape each skill's series is set up at zero (``registry``, default the skills on disk)
    and from then on the business gauges come from the database at every scrape."""
    from bot.observability import prometheus

    prometheus.enable()
    built: list = []
    lock = threading.Lock()

    def application(environ, start_response):
        if not built:
            with lock:
                if not built:
                    from bot.skills.registry import Registry

                    skills = registry if registry is not None else Registry.load()
                    prometheus.enable((s.config.skill.domain, s.role, s.name) for s in skills)
                    built.append(prometheus.wsgi_app(BusinessGauges.for_registry(skills, env)))
        return built[0](environ, start_response)

    return application
