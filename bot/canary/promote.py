"""Promotion and rollback of a candidate: one conditional change of its ``skill_releases``
row with its audit row, in one transaction (of two racing changes exactly one wins), then a
DM to the managers. The live version's files stay, so a rollback brings it back at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.canary.status import status
from bot.clock import ts
from bot.db.base import Database
from bot.errors import Conflict, InputError, NotFound
from bot.skills.loader import Skill
from bot.skills.registry import Registry
from bot.stores.releases import CANDIDATE, PROMOTED, ROLLED_BACK, Releases
from bot.stores.state import StateStore

Notify = Callable[[str], None]
ACTIONS = {PROMOTED: "canary_promote", ROLLED_BACK: "canary_rollback"}


def candidate_of(registry: Registry, name: str) -> Skill:
    """The live skill ``name``, which must have a candidate."""
    skill = registry.get(name)
    if skill.candidate is None:
        raise NotFound(
            f"{name} has no candidate version (a canary/ folder in its skill folder). "
            "`ecm-bot canary status` lists the candidates."
        )
    return skill


def promote(
    registry: Registry,
    db: Database,
    name: str,
    *,
    by: str,
    moment: datetime,
    notify: Notify | None = None,
    force: bool = False,
    reason: str = "",
) -> str:
    """Make ``name``'s candidate live for every request; refused while its promotion rule
    does not hold, unless ``force``."""
    skill = candidate_of(registry, name)
    entry = next(e for e in status(registry, db, moment) if e["skill"] == name)
    if not entry["rule_holds"] and not force:
        raise InputError(
            f"The promotion rule of {name} {entry['candidate_version']} does not hold yet: "
            f"{entry['why']}. Nothing was changed; add --force to promote it anyway."
        )
    why = reason or ("promoted by hand" if force and not entry["rule_holds"] else entry["why"])
    return _change(skill, db, PROMOTED, (CANDIDATE, ROLLED_BACK), by, why, moment, notify)


def rollback(
    registry: Registry,
    db: Database,
    name: str,
    *,
    by: str,
    moment: datetime,
    notify: Notify | None = None,
    reason: str = "",
) -> str:
    """Bring the live version back (a promoted candidate) or stop a running canary."""
    skill = candidate_of(registry, name)
    why = reason or "rolled back by hand"
    return _change(skill, db, ROLLED_BACK, (CANDIDATE, PROMOTED), by, why, moment, notify)


def _change(
    skill: Skill,
    db: Database,
    to_state: str,
    from_states: tuple[str, ...],
    by: str,
    why: str,
    moment: datetime,
    notify: Notify | None,
) -> str:
    candidate = skill.candidate
    assert candidate is not None and candidate.config.canary is not None
    releases, at = Releases(db), ts(moment)
    with db.transaction():
        releases.ensure(
            skill.name, candidate.version, candidate.config.canary.strategy, skill.version, at
        )
        before = releases.state(skill.name, candidate.version)
        assert before is not None
        changed = releases.change(
            skill.name,
            candidate.version,
            from_states=from_states,
            to_state=to_state,
            by=by,
            reason=why,
            at=at,
        )
        if not changed:
            raise Conflict(
                f"{skill.name} {candidate.version} is already {before['state'].replace('_', ' ')}"
                f" (by {before['changed_by']} at {before['changed_at']}); nothing was changed."
            )
        StateStore(db).audit(
            actor=by,
            action=ACTIONS[to_state],
            target=f"skill:{skill.name}",
            before={"state": before["state"], "live": _live(skill, before["state"])},
            after={"state": to_state, "live": _live(skill, to_state), "reason": why},
        )
    message = _message(skill, to_state, before["state"], by, why)
    if notify is not None:
        notify(message)
    return message


def _live(skill: Skill, state: str) -> str:
    assert skill.candidate is not None
    return skill.candidate.version if state == PROMOTED else skill.version


def _message(skill: Skill, to_state: str, was: str, by: str, why: str) -> str:
    assert skill.candidate is not None
    new, old = skill.candidate.version, skill.version
    if to_state == PROMOTED:
        return (
            f"🚀 {skill.name} {new} is now live for every request (was {old}), by {by}: {why}. "
            f"`ecm-bot canary rollback {skill.name}` brings {old} back."
        )
    if was == PROMOTED:
        return f"↩️ {skill.name} is back on {old} ({new} rolled back by {by}: {why})."
    return f"⏹️ The canary of {skill.name} {new} was stopped by {by}: {why}. {old} stays live."
