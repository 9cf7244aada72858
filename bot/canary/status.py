"""What ``ecm-bot canary status`` and App Home show of each candidate: its strategy and
state, its runs so far (shadow: each run's diff; split: both versions' success rate and p95
over the window) and whether its promotion rule holds (or, for a split, whether it fails)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.canary.store import CanaryStore
from bot.clock import ts
from bot.skills.loader import Skill
from bot.skills.registry import Registry
from bot.stores.releases import CANDIDATE, Releases, VersionFigures


def candidates(registry: Registry) -> list[Skill]:
    """The live skills that have a candidate, in name order."""
    return [s for s in registry if s.candidate is not None]


def _figures(f: VersionFigures) -> dict:
    rate = f.success_rate
    return {
        "runs": f.runs,
        "ok": f.ok,
        "success_rate": round(rate, 4) if rate is not None else None,
        "p95_ms": f.p95_ms,
    }


def shadow_verdict(skill: Skill, runs: list[dict]) -> tuple[bool, str]:
    """(the rule holds, why): the latest ``min_runs`` shadow runs each ended ok and changed
    fewer than ``max_diff`` of the orders."""
    canary = skill.candidate.config.canary if skill.candidate else None
    assert canary is not None
    rule = canary.promote
    if len(runs) < rule.min_runs:
        return False, f"{len(runs)} of the {rule.min_runs} shadow runs it needs"
    latest = runs[-rule.min_runs :]
    failed = [r for r in latest if r["outcome"] != "ok"]
    if failed:
        return False, f"{len(failed)} of the latest {rule.min_runs} shadow runs failed"
    over = [r for r in latest if float(r["diff"] or 0) >= rule.max_diff]
    if over:
        worst = max(float(r["diff"] or 0) for r in over)
        return False, (
            f"{len(over)} of the latest {rule.min_runs} runs changed {rule.max_diff:.0%} of "
            f"the orders or more (up to {worst:.1%})"
        )
    return True, f"the latest {rule.min_runs} shadow runs each changed under {rule.max_diff:.0%}"


def split_verdict(
    skill: Skill, live: VersionFigures, cand: VersionFigures
) -> tuple[bool | None, str]:
    """(True: the rule holds, False: it fails and the candidate is rolled back, None: not
    enough runs yet; why). Fails below the skill's success_rate_threshold (the live or the
    candidate config's, whichever is higher) or more than the split's ``margin`` below the
    live version's rate."""
    candidate = skill.candidate
    assert candidate is not None and candidate.config.canary is not None
    split = candidate.config.canary.split
    threshold = max(  # a candidate may tighten its threshold, never loosen it
        skill.config.monitoring.success_rate_threshold,
        candidate.config.monitoring.success_rate_threshold,
    )
    rate = cand.success_rate
    if rate is None or cand.runs < split.min_runs:
        return None, f"{cand.runs} of the {split.min_runs} candidate runs it needs"
    if rate < threshold:
        return False, f"its success rate {rate:.1%} is below the threshold {threshold:.0%}"
    theirs = live.success_rate
    if theirs is not None and rate < theirs - split.margin:
        return False, (
            f"its success rate {rate:.1%} is more than {split.margin:.0%} below the live "
            f"version's {theirs:.1%}"
        )
    return True, f"its success rate {rate:.1%} holds (threshold {threshold:.0%})"


def split_figures(
    releases: Releases, skill: Skill, moment: datetime
) -> tuple[VersionFigures, VersionFigures, int]:
    """(live, candidate, window minutes) of a split candidate."""
    candidate = skill.candidate
    assert candidate is not None and candidate.config.canary is not None
    minutes = candidate.config.canary.split.window_minutes
    since, until = ts(moment - timedelta(minutes=minutes)), ts(moment + timedelta(seconds=1))
    return (
        releases.figures(skill.name, skill.version, since, until),
        releases.figures(skill.name, candidate.version, since, until),
        minutes,
    )


def status(registry: Registry, db, moment: datetime) -> list[dict]:
    """One entry per candidate (see the module docstring)."""
    releases, store = Releases(db), CanaryStore(db)
    out = []
    for skill in candidates(registry):
        candidate = skill.candidate
        assert candidate is not None and candidate.config.canary is not None
        canary = candidate.config.canary
        row = releases.state(skill.name, candidate.version)
        entry: dict = {
            "skill": skill.name,
            "live_version": skill.version,
            "candidate_version": candidate.version,
            "strategy": canary.strategy,
            "state": row["state"] if row else CANDIDATE,
            "changed_at": row["changed_at"] if row else None,
            "changed_by": row["changed_by"] if row else None,
            "auto_promote": canary.promote.auto,
        }
        if canary.strategy == "shadow":
            runs = store.runs(skill.name, candidate.version)
            holds, why = shadow_verdict(skill, runs)
            entry["rule"] = {
                "max_diff": canary.promote.max_diff,
                "min_runs": canary.promote.min_runs,
            }
            entry["runs"] = [_run(r) for r in runs]
        else:
            live, cand, minutes = split_figures(releases, skill, moment)
            verdict, why = split_verdict(skill, live, cand)
            holds = verdict is True
            entry["rule"] = {
                "share": canary.split.share,
                "margin": canary.split.margin,
                "window_minutes": minutes,
                "min_runs": canary.split.min_runs,
                "success_rate_threshold": max(
                    skill.config.monitoring.success_rate_threshold,
                    candidate.config.monitoring.success_rate_threshold,
                ),
            }
            entry["versions"] = {skill.version: _figures(live), candidate.version: _figures(cand)}
            entry["failing"] = verdict is False
        entry["rule_holds"], entry["why"] = holds, why
        out.append(entry)
    return out


def _run(r: dict) -> dict:
    return {
        "run": r["id"],
        "at": r["at"],
        "live_run": r["live_execution_id"],
        "workflow_id": r["workflow_id"],
        "outcome": r["outcome"],
        "error": r["error"],
        "orders": r["orders"],
        "agent_share": _share(r["agent_differs"], r["orders"]),
        "priority_share": _share(r["priority_differs"], r["orders"]),
        "share": r["diff"],
        "only_live": r["only_live"],
        "only_candidate": r["only_candidate"],
    }


def _share(part: object, whole: object) -> float | None:
    if part is None:
        return None
    return round(int(str(part)) / int(str(whole)), 4) if whole else 0.0
