"""Which version of a skill one request runs, chosen once per request (one write, one
version): the live version; its candidate for everyone once promoted (``skill_releases``);
or, for a split candidate, for the configured share of callers, sticky per caller (a hash of
the roster email, so an agent sees one version consistently). A shadow candidate never runs
here: its skill's code runs it beside the live run, as a dry run (``bot.canary.shadow``)."""

from __future__ import annotations

import hashlib

from bot.clock import now, ts
from bot.skills.loader import Skill
from bot.stores.releases import CANDIDATE, PROMOTED, ROLLED_BACK, Releases

LIVE, CANDIDATE_TRACK = "live", "candidate"


def split_bucket(skill: str, email: str) -> float:
    """Where a caller falls in [0, 1) for ``skill``'s split: the same every time."""
    digest = hashlib.sha256(f"{skill}\0{email.strip().lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_split(skill: str, email: str, share: float) -> bool:
    """Whether a caller's requests of ``skill`` run its split candidate."""
    return split_bucket(skill, email) < share


def release_state(releases: Releases, skill: Skill) -> str:
    """The candidate's state (``candidate`` until promoted or rolled back); its row is
    written the first time it is asked for."""
    candidate = skill.candidate
    assert candidate is not None and candidate.config.canary is not None
    row = releases.state(skill.name, candidate.version)
    if row is None:
        releases.ensure(
            skill.name,
            candidate.version,
            candidate.config.canary.strategy,
            skill.version,
            ts(now()),
        )
        return CANDIDATE
    return str(row["state"])


def choose(releases: Releases, skill: Skill, email: str, system: bool) -> tuple[Skill, str]:
    """(the version this request runs, its track: ``live`` or ``candidate``)."""
    candidate = skill.candidate
    if candidate is None or candidate.config.canary is None:
        return skill, LIVE
    state = release_state(releases, skill)
    if state == PROMOTED:
        return candidate, LIVE
    if state == ROLLED_BACK or candidate.config.canary.strategy != "split" or system:
        return skill, LIVE
    if in_split(skill.name, email, candidate.config.canary.split.share):
        return candidate, CANDIDATE_TRACK
    return skill, LIVE
