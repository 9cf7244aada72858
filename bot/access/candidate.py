"""The guard of a candidate version (``bot/skills/candidates.py``): every decision is made by
the candidate's own rules, in its role (DEC-011, its blocks, its allow-list) *and* by its live
version's, so a candidate can never load, call or use more than its live version may. A shared
file its ``canary.replaces`` names is read from its own copy instead."""

from __future__ import annotations

import os
from pathlib import Path

from bot.access.guard import DenialSink, Guard
from bot.paths import PROJECT_ROOT
from bot.skills.loader import Skill


class CandidateGuard(Guard):
    """Access decisions for one run of a candidate version."""

    def __init__(
        self,
        candidate: Skill,
        live: Skill,
        *,
        caller: str = "system",
        denials: DenialSink | None = None,
        root: Path = PROJECT_ROOT,
    ):
        super().__init__(candidate, caller=caller, denials=denials, root=root)
        self.live = Guard(live, caller=caller, denials=denials, root=root)
        canary = candidate.config.canary
        source = Path(os.path.realpath(candidate.source or candidate.folder))
        self._swaps = {k: source / v for k, v in (canary.replaces if canary else {}).items()}

    def _decide(self, ref: str | Path, shown: str) -> Path:
        found = super()._decide(ref, shown)  # the candidate's own rules, in its role
        self.live.check_resource(ref)  # and never wider than its live version
        rel = self._relative(found)
        return self._swaps.get(rel or "", found)

    def check_tool(self, tool: str) -> None:
        super().check_tool(tool)
        self.live.check_tool(tool)

    def check_api(self, api: str) -> None:
        super().check_api(api)
        self.live.check_api(api)


def guard_for(skill: Skill, live: Skill | None, **kwargs) -> Guard:
    """The guard of a run of ``skill``: a ``CandidateGuard`` when it is a candidate."""
    if skill.track == "candidate" and live is not None:
        return CandidateGuard(skill, live, **kwargs)
    return Guard(skill, **kwargs)
