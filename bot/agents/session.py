"""One execution's use of the models: fallback, token and cost accounting, and the budget.

Before each call the session estimates its cost (prompt tokens at ~4 characters each, plus the
full ``max_tokens`` of output); a call that would take the execution over max_per_execution is
not made (BudgetExceeded), which is what stops a tool loop."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

from bot.agents.cost import cost
from bot.briefing.tokens import estimate_tokens
from bot.errors import AssistantUnavailable
from bot.llm.types import LlmReply, LlmUnavailable, ToolSpec
from bot.skills.schema import ModelSection


class BudgetExceeded(AssistantUnavailable):
    """The next model call would take this execution over its per-execution budget."""


class Models(Protocol):
    """What the session needs of ``bot.llm.pair.ModelPair``."""

    def complete(
        self,
        *,
        primary_model: str,
        fallback_model: str,
        system: str,
        messages: list[dict],
        tools: list[ToolSpec],
        temperature: float,
        max_tokens: int,
    ) -> tuple[LlmReply, bool]: ...


@dataclass
class LlmSession:
    models: Models  # a ModelPair: complete(primary_model=, fallback_model=, ...) -> (reply, bool)
    block: ModelSection
    max_output: int | None = None
    spent: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    model_used: str = ""
    fallback_used: bool = False
    tool_calls: list[dict] = field(default_factory=list)
    calls: int = 0

    @property
    def max_tokens(self) -> int:
        cap = self.block.max_tokens
        return min(cap, self.max_output) if self.max_output else cap

    def estimate(self, system: str, messages: list[dict], tools: list[ToolSpec]) -> float:
        prompt = (
            system + json.dumps(messages, default=str) + json.dumps([t.__dict__ for t in tools])
        )
        model = self.block.primary
        return cost(model, estimate_tokens(prompt), self.max_tokens)

    def complete(self, system: str, messages: list[dict], tools: list[ToolSpec]) -> LlmReply:
        """One call within budget, primary first then fallback; accounts for what it used."""
        budget = self.block.cost_budget.max_per_execution
        if self.spent + self.estimate(system, messages, tools) > budget:
            raise BudgetExceeded(
                f"the next model call would exceed this skill's ${budget:.2f} per-run budget"
            )
        reply, fell_back = self.models.complete(
            primary_model=self.block.primary,
            fallback_model=self.block.fallback,
            system=system,
            messages=messages,
            tools=tools,
            temperature=self.block.temperature,
            max_tokens=self.max_tokens,
        )
        self.calls += 1
        self.tokens_in += reply.input_tokens
        self.tokens_out += reply.output_tokens
        model = reply.model or (self.block.fallback if fell_back else self.block.primary)
        self.spent += cost(model, reply.input_tokens, reply.output_tokens)
        self.model_used = model
        self.fallback_used = self.fallback_used or fell_back
        return reply

    def usage(self) -> dict:
        """The fields an execution record keeps."""
        return {
            "model": self.model_used or None,
            "fallback_used": int(self.fallback_used),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": round(self.spent, 6),
            "tool_calls": self.tool_calls,
        }


__all__ = ["BudgetExceeded", "LlmSession", "LlmUnavailable"]
