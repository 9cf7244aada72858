"""What fires: each rule turns the evidence into one ``Finding`` — firing, within its
threshold, or no evidence either way (``firing=None``: an open alert stays open, none opens).

Per skill, over its rolling window (``monitoring.window_minutes``, default 60):
- ``success_rate``: ok runs / all runs (as ``ecm-bot metrics`` counts) below
  ``success_rate_threshold``; judged once the window holds ``min_runs`` runs;
- ``latency_p95``: the p95 duration above ``latency_p95_threshold`` (seconds), same minimum;
- ``failure`` (``alert_on_failure``): the skill's last finished run failed (outcome error).
  It opens only for a failure inside the window and resolves when a later run succeeds.

For each cron trigger, ``missed_slot`` (the dead man's switch): the newest slot that is
decided — its run ended, or its time plus the grace window and the skill's timeout passed —
did not run, was claimed but never finished, or ran and failed (a failure already covered by
``failure`` is not raised twice). It is armed by the first slot ever claimed for the skill,
and resolves when a later slot runs ok.

``sync_lag``: the sheet sync last succeeded longer ago than its limit (or never did).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.alerts.evidence import Window
from bot.clock import parse_ts, ts
from bot.scheduling.cron import CronJob
from bot.skills.loader import Skill
from bot.skills.monitoring import p95_high, rate_low

SYNC_SUBJECT = "sheets-sync"
SYNC_CHANNELS = ("slack", "pagerduty")  # severity warning: low urgency in PagerDuty
SLOTS_BACK = 12  # how many earlier slots the dead man's switch looks through


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one subject (a skill, or the sheet sync)."""

    subject: str
    rule: str
    firing: bool | None
    summary: str = ""
    figure: str = ""
    threshold: str = ""
    window: str = ""
    last_error: str = ""
    see: str = ""  # how to see the trace (a command)
    execution_id: str = ""
    severity: str = "error"
    channels: tuple[str, ...] = ("slack",)
    opens: bool = True  # False: old evidence keeps an open alert open but opens none
    role: str = ""
    open_p1_tickets: int = 0

    @property
    def key(self) -> str:
        return f"{self.subject}:{self.rule}"

    def details(self) -> dict:
        """What is stored with the alert and sent as PagerDuty custom details."""
        skip = ("subject", "rule", "firing", "summary", "severity", "channels", "opens")
        return {k: v for k, v in asdict(self).items() if k not in skip and v not in ("", None)}


def plain_error(text: str | None) -> str:
    """An execution's error as one short line."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return first[:300] + ("…" if len(first) > 300 else "")


def trace_hint(run: dict | None, day: str) -> str:
    when = str(run["started_at"])[:10] if run else day
    hint = f"ecm-bot trace --date {when}"
    if run:
        hint += f" (execution {run['id']}, workflow {run['workflow_id']})"
    return hint


def _since(w: Window, minutes: int) -> str:
    return f"the last {minutes} min (since {w.since} UTC)"


def skill_findings(
    skill: Skill,
    w: Window,
    last: dict | None,
    *,
    minutes: int,
    open_p1: int = 0,
) -> list[Finding]:
    """The success-rate, p95 and failure findings of one skill."""
    limits = skill.config.monitoring
    base = Finding(
        subject=skill.name,
        rule="",
        firing=None,
        channels=tuple(limits.alert_channels),
        role=skill.role,
        window=_since(w, minutes),
        open_p1_tickets=open_p1,
    )
    problem = w.last_problem
    evidence = replace(
        base,
        last_error=plain_error(problem["error"]) if problem else "",
        see=trace_hint(problem, w.until[:10]),
        execution_id=problem["id"] if problem else "",
    )
    rate_rule = replace(base, rule="success_rate")
    if w.runs >= limits.min_runs:
        rate = w.ok / w.runs
        low = rate_low(limits, rate)
        below = f" is below {limits.success_rate_threshold:.0%}" if low else ""
        rate_rule = replace(
            evidence,
            rule="success_rate",
            firing=low,
            summary=f"{skill.name}: success rate {rate:.1%}{below}",
            figure=f"success {rate:.1%} ({w.ok} of {w.runs} runs ok)",
            threshold=f"{limits.success_rate_threshold:.0%}",
        )
    p95_rule = replace(base, rule="latency_p95", severity="warning")
    if w.timed >= limits.min_runs:
        slow = p95_high(limits, w.p95_ms)
        above = f" is above {limits.latency_p95_threshold:g} s" if slow else ""
        p95_rule = replace(
            evidence,
            rule="latency_p95",
            firing=slow,
            severity="warning",
            summary=f"{skill.name}: p95 {w.p95_ms / 1000:.1f} s{above}",
            figure=f"p95 {w.p95_ms / 1000:.1f} s over {w.timed} runs",
            threshold=f"{limits.latency_p95_threshold:g} s",
        )
    return [rate_rule, p95_rule, _failure(skill, w, last, base)]


def _failure(skill: Skill, w: Window, last: dict | None, base: Finding) -> Finding:
    rule = replace(base, rule="failure", threshold="alert_on_failure: true")
    if not skill.config.monitoring.alert_on_failure:
        return replace(rule, firing=False)
    if last is None:
        return rule
    at = f"{str(last['started_at'])[:19]} UTC"
    found = replace(rule, see=trace_hint(last, w.until[:10]), execution_id=last["id"])
    if last["outcome"] == "ok":
        return replace(
            found,
            firing=False,
            summary=f"{skill.name}: the last run succeeded",
            figure=f"the last run (started {at}) succeeded",
        )
    counted = f"; {w.errors} of {w.runs} runs in the window failed" if w.runs else ""
    return replace(
        found,
        firing=True,
        opens=str(last["started_at"]) >= w.since,
        summary=f"{skill.name}: the last run failed",
        figure=f"the last run (started {at}) failed{counted}",
        last_error=plain_error(last["error"]) or "no error text was recorded",
        severity=_failure_severity(skill, base.open_p1_tickets),
    )


def _failure_severity(skill: Skill, open_p1: int) -> str:
    """A manager failure that affects P1 tickets (the skill assigns them, or P1 tickets are
    open) is critical; any other failure is an error."""
    if skill.role == "manager" and (skill.config.output.assigns or open_p1 > 0):
        return "critical"
    return "error"


def slot_finding(
    job: CronJob,
    skill: Skill,
    armed: str | None,
    claims: dict[str, dict],
    moment: datetime,
    grace: timedelta,
    *,
    open_p1: int = 0,
) -> Finding:
    """The dead man's switch of one cron trigger (see the module docstring)."""
    limits = skill.config.monitoring
    base = Finding(
        subject=skill.name,
        rule="missed_slot",
        firing=None,
        channels=tuple(limits.alert_channels),
        role=skill.role,
        open_p1_tickets=open_p1,
        severity=_failure_severity(skill, open_p1),
        threshold=f"runs by its time + {grace.total_seconds() / 60:g} min grace",
    )
    if armed is None:
        return base
    allowance = grace + timedelta(seconds=skill.config.runtime.timeout)
    slot = job.previous(moment)
    for _ in range(SLOTS_BACK):
        key = ts(slot)
        if key < armed:
            return base
        claim = claims.get(key) or {}
        outcome = claim.get("outcome")
        local = slot.astimezone(ZoneInfo(job.timezone)).strftime("%H:%M")
        label = f"the {local} {job.timezone} slot ({key[:16]} UTC)"
        seen = replace(base, see=f"ecm-bot trace --date {key[:10]}")
        deadline = slot + allowance
        if outcome == "ok":
            return replace(
                seen,
                firing=False,
                summary=f"{skill.name}: {label} ran",
                figure=f"{label} ran ok",
                execution_id=claim.get("execution_id") or "",
            )
        if outcome == "unknown" or (outcome == "error" and limits.alert_on_failure):
            return base  # claimed before m010, or already raised by the failure rule
        if outcome or moment >= deadline:
            if outcome:
                what, error = "ran and failed", plain_error(claim.get("error"))
            elif claim:
                what = f"was claimed at {claim['claimed_at']} UTC but never finished"
                error = "the process running it stopped (crash, restart or kill)"
            else:
                what = "did not run"
                error = (
                    "no scheduler claimed it: is `ecm-bot scheduler` (Procfile clock:) "
                    "or the ecm-triage CronJob running?"
                )
            return replace(
                seen,
                firing=True,
                summary=f"{skill.name}: {label} {what}",
                figure=f"{label} {what} by {ts(deadline)[11:16]} UTC",
                window=f"slot time + {grace.total_seconds() / 60:g} min grace + "
                f"{skill.config.runtime.timeout} s run time",
                last_error=error,
            )
        slot = job.previous(slot - timedelta(seconds=1))  # not decided yet: the one before
    return base


def sync_finding(status: dict | None, limit: timedelta | None, moment: datetime) -> Finding:
    """The sheet sync's lag against its limit (no limit: Sheets is not configured)."""
    base = Finding(
        subject=SYNC_SUBJECT,
        rule="sync_lag",
        firing=None,
        channels=SYNC_CHANNELS,
        severity="warning",
        see="ecm-bot doctor (its sheet sync line) and the sync: process's log",
    )
    if limit is None:
        return replace(base, firing=False)
    if status is None:
        return base
    found = replace(
        base,
        threshold=f"{int(limit.total_seconds())} s",
        last_error=plain_error(status.get("last_error")),
    )
    ok = status.get("last_ok_at")
    if not ok:
        return replace(
            found,
            firing=bool(found.last_error),
            summary="the sheet sync has never succeeded",
            figure="no successful sync yet",
        )
    lag = int((moment - parse_ts(ok)).total_seconds())
    return replace(
        found,
        firing=lag > limit.total_seconds(),
        summary=f"the sheet sync is {lag} s behind",
        figure=f"last synced {lag} s ago (at {str(ok)[:19]} UTC)",
    )
