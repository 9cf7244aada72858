"""The provider-neutral language-model interface. Core code uses only this module; the
adapters (anthropic_model.py, openai_model.py) translate to and from each SDK.

Messages are plain dicts:
- {"role": "user", "content": str}
- {"role": "assistant", "content": str, "tool_calls": [ToolCall, ...], "reasoning": (...)}
- {"role": "tool", "tool_call_id": str, "name": str, "content": str}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from bot.errors import AssistantUnavailable


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: name, what it does, and a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class LlmReply:
    """One model response: text and/or tool calls, with token usage."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    provider: str = ""
    reasoning: tuple[dict, ...] = ()
    """The provider's thinking blocks, exactly as returned: a tool loop sends them back with
    the assistant turn (``{"role": "assistant", ..., "reasoning": reply.reasoning}``)."""


@dataclass(frozen=True)
class ServedModel:
    """What a provider says of a model it serves (``client.models.retrieve``)."""

    id: str
    lifecycle: str | None = None  # the provider's word ("active", "deprecated"...), if any
    retires: date | None = None  # its announced retirement or shutdown date, if any


class LlmUnavailable(AssistantUnavailable):
    """The provider could not answer. ``transient`` errors (overloaded, 5xx, timeout,
    connection) are worth a brief retry; others (auth, bad request) are not."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class LanguageModel(Protocol):
    """One provider's chat model with tool use."""

    provider: str

    def complete(
        self,
        *,
        model: str,
        system: str,
        messages: list[dict],
        tools: list[ToolSpec],
        temperature: float,
        max_tokens: int,
    ) -> LlmReply:
        """One completion; raise LlmUnavailable when the provider can't answer."""
        ...
