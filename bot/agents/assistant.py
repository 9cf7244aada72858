"""The assistant: which models serve a skill run, its monthly limit (with one alert to the
managers when it is reached), routing of free text, and narration that never fails the skill.
It implements the runtime's interface, ``bot.runtime.assistant.Assistant``."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from bot.agents.narrate import invented_figures, invented_identifiers, narrate
from bot.agents.router import choose
from bot.agents.session import BudgetExceeded, LlmSession
from bot.clock import now, ts
from bot.errors import AssistantUnavailable
from bot.llm.types import LlmUnavailable
from bot.runtime.assistant import Assistant as RuntimeAssistant
from bot.runtime.assistant import Pick
from bot.runtime.roster import Member, Roster
from bot.runtime.skill_run import SkillContext
from bot.skills.loader import Skill
from bot.skills.registry import Registry
from bot.stores.factory import Stores
from bot.stores.state import StateStore

log = logging.getLogger(__name__)
DEGRADED = (
    "⚠️ The assistant is degraded right now (no language model answered), so this is "
    "the standard answer; every figure above is complete."
)
NARRATION_MAX_TOKENS = {"field": 150, "manager": 400}  # a few sentences or bullets


class MonthlyLimitReached(AssistantUnavailable):
    """The skill has spent its monthly_limit this month: deterministic path only."""


class Assistant:
    """Language models for the agents, or None when no key is configured (see from_env)."""

    def __init__(self, models, notify: Callable[[str], None] | None = None):
        self.models = models
        self.notify = notify or (lambda message: log.warning("%s", message))

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] = os.environ, notify: Callable[[str], None] | None = None
    ) -> Assistant | None:
        from bot.llm.pair import ModelPair

        models = ModelPair.from_env(env)
        return cls(models, notify) if models else None

    def session(self, skill: Skill, state: StateStore, max_output: int | None = None) -> LlmSession:
        """A session for one run of ``skill``; MonthlyLimitReached once its month is spent."""
        budget = skill.config.model.cost_budget
        month = ts(now())[:7]
        spent = state.spend(skill.name, month)
        if spent >= budget.monthly_limit:
            message = (
                f"💸 The {skill.name} skill has spent ${spent:.2f} of its "
                f"${budget.monthly_limit:.2f} monthly model budget; it runs without the "
                "language model until next month."
            )
            if state.alert_once(f"monthly:{skill.name}:{month}", message):
                self.notify(message)
            raise MonthlyLimitReached(message)
        return LlmSession(self.models, skill.config.model, max_output=max_output)

    def pick(self, registry: Registry, stores: Stores, caller: Member, text: str) -> Pick | None:
        """The model's pick among the caller's role's skills (None if none fits);
        AssistantUnavailable (with the degraded note) when no model can answer."""
        try:
            return choose(self, registry, stores, caller, text)
        except (LlmUnavailable, BudgetExceeded, MonthlyLimitReached) as exc:
            raise AssistantUnavailable(DEGRADED) from exc

    def narrate(self, ctx: SkillContext, data: dict) -> dict:
        """Add ``narrative`` (or an ``assistant_note``) to ``data``; return the usage."""
        if ctx.skill.config.narrate is None:
            return {}
        try:
            session = self.session(
                ctx.skill, ctx.stores.state, NARRATION_MAX_TOKENS[ctx.skill.role]
            )
        except MonthlyLimitReached:
            data["assistant_note"] = (
                "The assistant is paused for this skill: its monthly model budget is spent."
            )
            return {}
        try:
            text = narrate(ctx, session, data)
            invented = invented_figures(text, data)
            people = Roster.load(ctx.stores.workbook).members
            unknown = invented_identifiers(text, data, people, ctx.caller.email)
            if invented or unknown:  # every figure and identifier shown comes from code
                log.warning(
                    "narration for %s dropped: %d figure(s), %d identifier(s) not in its result",
                    ctx.skill.name,
                    len(invented),
                    unknown,
                )
                data["assistant_note"] = (
                    "The assistant's comment was withheld because it quoted figures or "
                    "identifiers the system did not compute."
                )
            else:
                data["narrative"] = text
        except LlmUnavailable as exc:
            log.warning("narration for %s unavailable: %s", ctx.skill.name, exc)
            data["assistant_note"] = DEGRADED
        except BudgetExceeded as exc:
            data["assistant_note"] = f"The assistant stopped early: {exc}."
        except Exception:
            log.exception("narration for %s failed", ctx.skill.name)
            data["assistant_note"] = DEGRADED
        return session.usage()


def _implements_the_runtime_interface(assistant: Assistant) -> RuntimeAssistant:
    return assistant  # mypy checks Assistant against bot.runtime.assistant.Assistant here
