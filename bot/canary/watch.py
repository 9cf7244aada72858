"""The canary pass, run before every alert pass (``CanaryAlertEngine``: ``ecm-bot alerts
check``, the scheduler) and by ``ecm-bot canary check``; never on a request path.

- A split candidate whose success rate over its window fails (below the skill's threshold,
  or more than its margin below the live version's) is rolled back, audited, the managers are
  told, and an alert ``<skill>:canary_rollback`` opens on the skill's alert channels; it
  resolves once that candidate is no longer the rolled-back one (a new version, or promoted).
- A candidate whose config says ``promote.auto`` is promoted once its rule holds.
Of two replicas doing the same change, one wins; the other's Conflict is ignored."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.alerts.engine import AlertEngine, PassReport
from bot.alerts.rules import Finding
from bot.alerts.store import AlertStore
from bot.canary.promote import Notify, promote, rollback
from bot.canary.status import status
from bot.clock import now
from bot.errors import Conflict, NotFound
from bot.skills.registry import Registry
from bot.stores.factory import Stores
from bot.stores.releases import CANDIDATE, ROLLED_BACK, Releases

log = logging.getLogger(__name__)
ACTOR = "canary"
RULE = "canary_rollback"


@dataclass
class CanaryReport:
    promoted: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    alerts_opened: list[str] = field(default_factory=list)
    alerts_resolved: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [
            f"promoted {', '.join(self.promoted)}" if self.promoted else "",
            f"rolled back {', '.join(self.rolled_back)}" if self.rolled_back else "",
        ]
        return "Canary pass: " + ("; ".join(p for p in parts if p) or "no change") + "."


def canary_pass(
    registry: Registry,
    stores: Stores,
    moment: datetime,
    *,
    notify: Notify | None = None,
    channels: Mapping[str, object] | None = None,
) -> CanaryReport:
    """One pass (see the module docstring); ``channels``: the configured alert destinations."""
    report, alerts = CanaryReport(), AlertStore(stores.db)
    for entry in status(registry, stores.db, moment):
        if entry["state"] != CANDIDATE:
            continue
        name, why = entry["skill"], entry["why"]
        try:
            if entry["strategy"] == "split" and entry.get("failing"):
                with stores.db.transaction():  # the rollback, its audit row and its alert
                    message = rollback(
                        registry, stores.db, name, by=ACTOR, moment=moment,
                        reason=f"automatic rollback: {why}",
                    )  # fmt: skip
                    opened = _alert(alerts, registry, entry, channels)
                report.rolled_back.append(name)
                if opened:
                    report.alerts_opened.append(name)
                if notify is not None:
                    notify(message)
            elif entry["auto_promote"] and entry["rule_holds"]:
                promote(
                    registry, stores.db, name, by=ACTOR, moment=moment, notify=notify,
                    reason=f"automatic promotion: {why}",
                )  # fmt: skip
                report.promoted.append(name)
        except Conflict:  # another replica made the change first
            continue
    report.alerts_resolved = _resolve_stale(alerts, registry, Releases(stores.db))
    return report


def _alert(alerts: AlertStore, registry: Registry, entry: dict, channels) -> bool:
    skill = registry.get(entry["skill"])
    configured = [str(c) for c in skill.config.monitoring.alert_channels if c in (channels or {})]
    rule = entry["rule"]
    versions = entry["versions"]
    rate = versions[entry["candidate_version"]]["success_rate"]
    finding = Finding(
        subject=skill.name,
        rule=RULE,
        firing=True,
        summary=(
            f"{skill.name}: candidate {entry['candidate_version']} rolled back automatically "
            f"({entry['why']})"
        ),
        figure=f"success rate {rate:.1%}" if rate is not None else "",
        threshold=f"{rule['success_rate_threshold']:.0%}, margin {rule['margin']:.0%}",
        window=f"{rule['window_minutes']} min",
        see=f"ecm-bot canary status {skill.name}",
        severity="warning",
        channels=tuple(configured),
        role=skill.role,
    )
    previous = alerts.state(finding.key)
    if previous is not None and previous["status"] == "open":
        alerts.update(finding, previous["seq"])
        return False
    return alerts.open(finding, configured, previous) is not None


def _resolve_stale(alerts: AlertStore, registry: Registry, releases: Releases) -> list[str]:
    resolved = []
    for state in alerts.open_alerts():
        if state["rule"] != RULE:
            continue
        try:
            skill = registry.get(state["subject"])
        except NotFound:  # the skill is gone: so is its candidate
            skill = None
        cand = skill.candidate if skill else None
        row = releases.state(cand.name, cand.version) if cand else None
        if row is not None and row["state"] == ROLLED_BACK:
            continue
        finding = Finding(subject=state["subject"], rule=RULE, firing=False)
        if alerts.resolve(finding, state["seq"]):
            resolved.append(state["subject"])
    return resolved


class CanaryAlertEngine(AlertEngine):
    """The alert pass with the canary pass run first, so a rollback's alert goes out in the
    same pass."""

    def __init__(self, *args, notify: Callable[[str], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.notify = notify

    def check(self, moment: datetime | None = None) -> PassReport:
        try:
            canary_pass(
                self.registry,
                self.stores(),
                moment or now(),
                notify=self.notify,
                channels=self.channels,
            )
        except Exception:  # the alert pass itself must still run
            log.exception("the canary pass failed")
        return super().check(moment)
