"""ecm-daily-flow: triage, then pattern-intelligence, then one digest; one workflow id links
the steps (each step is its own execution whose parent is this one). ``steps`` names the skill
of each step, so Slack posts the triage step the way that skill's config says (the summary in
the triage channel) while the digest goes to the manager."""

from __future__ import annotations

from bot.runtime.executor import execute
from bot.runtime.skill_run import SkillContext


def run(ctx: SkillContext, **_: object) -> dict:
    ctx.tool("run_skill")
    steps = {}
    names = {"triage": "triage-and-assign", "patterns": "pattern-intelligence"}
    for name in names.values():
        result = execute(
            ctx.registry,
            ctx.stores,
            name,
            ctx.caller,
            {},
            trigger=ctx.trigger,
            workflow_id=ctx.workflow_id,
            parent_id=ctx.execution_id,
        )
        steps[name] = result.data
    triage, patterns = steps["triage-and-assign"], steps["pattern-intelligence"]
    c = triage["counts"]
    top = patterns["anomalies"][:3]
    highlights = [
        f"{c['assigned']} of {c['pending']} stuck orders assigned "
        f"({c['new']} new, {c['moved']} moved, {c['closed']} closed)",
        f"{c['unassigned']} unassigned, {c['escalated']} escalated",
    ]
    highlights += [
        f"{a['dimension']} {a['value']}: {a['observed']} in {patterns['window_hours']}h "
        f"vs {a['baseline']} expected ({a['ratio']}×)"
        for a in top
    ]
    ctx.metrics["digests_written"] = 1
    return {
        "workflow_id": ctx.workflow_id,
        "triage": triage,
        "patterns": patterns,
        "highlights": highlights,
        "steps": names,
    }
