"""set-agent-away: a manager marks a field agent away ("away @sarah.ops until tomorrow", read
in the agent's time zone) or back ("back @sarah.ops"). The same handover as the agent's own
``away`` (``bot/sla/away_flow.py``); a manager deciding may leave a team without anyone on
shift, and the reply says so."""

from __future__ import annotations

from bot.runtime.roster import Roster
from bot.runtime.skill_run import SkillContext
from bot.sla.away_flow import come_back, go_away


def run(
    ctx: SkillContext, agent: str = "", until: object = None, back_agent: str = "", **_: object
) -> dict:
    for tool in ("assign_orders", "write_assignments", "read_roster"):
        ctx.tool(tool)
    roster = Roster.load(ctx.workbook)
    if back_agent:
        return come_back(ctx, roster.resolve_agent(back_agent))
    return go_away(ctx, roster.resolve_agent(agent), until, self_service=False)
