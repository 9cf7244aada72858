"""set-away: the caller says they are away ("away until tomorrow", "away until 17:00",
"away until 2026-12-03 09:00", in their own time zone) or back ("back"). Going away hands their
open, unpinned tickets to others by the planner's rules and gives them no new work until then
(``bot/sla/away_flow.py``); the last agent on shift for a team is refused and the managers are
told instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import InputError
from bot.sla.away_flow import come_back, go_away

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext


def run(ctx: SkillContext, until: object = None, back: object = None, **_: object) -> dict:
    ctx.tool("update_my_ticket")
    if back is not None:  # "back" (the pattern captures any words after it)
        if str(back).strip():
            raise InputError(
                "Say just `back` when you return; only an ECM manager can mark someone else "
                "back, so nothing was changed."
            )
        return come_back(ctx, ctx.caller)
    return go_away(ctx, ctx.caller, until, self_service=True)
