"""A primary language model with a fallback: a brief retry on transient failures, then the
other provider. When neither can answer, LlmUnavailable(transient=True) names both failures
and the bot carries on deterministically."""

from __future__ import annotations

import importlib
import logging
import math
import os
import threading
from collections.abc import Mapping

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_fixed

from bot.llm.types import LanguageModel, LlmReply, LlmUnavailable, ToolSpec
from bot.observability import tracing

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, LlmUnavailable) and exc.transient


class ModelPair:
    """``primary`` (normally Anthropic) and ``fallback`` (normally OpenAI); either may be None.
    Each is tried up to ``retries`` times on transient errors, ``wait_seconds`` apart."""

    def __init__(
        self,
        primary: LanguageModel | None,
        fallback: LanguageModel | None,
        retries: int = 2,
        wait_seconds: float = 0.2,
    ):
        self.primary = primary
        self.fallback = fallback
        self.retries = max(1, int(retries))
        self.wait_seconds = max(0.0, float(wait_seconds))

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
    ) -> tuple[LlmReply, bool]:
        """The reply and whether the fallback produced it."""
        failures: list[str] = []
        for llm, model, is_fallback in (
            (self.primary, primary_model, False),
            (self.fallback, fallback_model, True),
        ):
            label = "fallback" if is_fallback else "primary"
            if llm is None:
                failures.append(f"{label}: not configured")
                continue
            try:
                reply = self._attempt(
                    llm,
                    model=model,
                    system=system,
                    messages=messages,
                    tools=tools,
                    temperature=temperature,
                    max_tokens=max_tokens,
                )
            except LlmUnavailable as exc:
                log.warning("%s model %s/%s unavailable: %s", label, llm.provider, model, exc)
                failures.append(f"{label} {llm.provider}/{model}: {exc}")
                continue
            return reply, is_fallback
        raise LlmUnavailable(
            "no language model answered (" + "; ".join(failures) + ")", transient=True
        )

    def _attempt(self, llm: LanguageModel, **kwargs) -> LlmReply:
        retrying = Retrying(
            stop=stop_after_attempt(self.retries),
            wait=wait_fixed(self.wait_seconds),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        return retrying(traced_complete, llm, **kwargs)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ModelPair | None:
        """Anthropic as primary when ANTHROPIC_API_KEY is set, OpenAI as fallback when
        OPENAI_API_KEY is set (ANTHROPIC_BASE_URL / OPENAI_BASE_URL optional); None when
        neither is set. ECM_LLM_TIMEOUT is the per-request timeout in seconds (default 30)."""
        anthropic_key = (env.get("ANTHROPIC_API_KEY") or "").strip()
        openai_key = (env.get("OPENAI_API_KEY") or "").strip()
        if not anthropic_key and not openai_key:
            return None
        timeout = _timeout(env.get("ECM_LLM_TIMEOUT"))
        primary = fallback = None
        if anthropic_key:
            primary = LazyModel(
                "anthropic",
                "bot.llm.anthropic_model:AnthropicModel",
                api_key=anthropic_key,
                base_url=env.get("ANTHROPIC_BASE_URL") or None,
                timeout=timeout,
            )
        if openai_key:
            fallback = LazyModel(
                "openai",
                "bot.llm.openai_model:OpenAIModel",
                api_key=openai_key,
                base_url=env.get("OPENAI_BASE_URL") or None,
                timeout=timeout,
            )
        return cls(primary, fallback)


class LazyModel:
    """A provider's adapter, made on its first call: its module and the vendor SDK are
    imported then, not before, so a key that is set costs nothing until a model is asked
    (a skill run with no narration, a fallback never needed). ``provider`` and ``timeout``
    are known without it."""

    def __init__(self, provider: str, adapter: str, *, timeout: float, **options: object):
        self.provider = provider
        self.timeout = timeout
        self._adapter = adapter
        self._options = {**options, "timeout": timeout}
        self._model: LanguageModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> LanguageModel:
        """The adapter itself (made now if it was not yet)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    module, name = self._adapter.split(":")
                    factory = getattr(importlib.import_module(module), name)
                    self._model = factory(**self._options)
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def complete(self, **kwargs) -> LlmReply:
        return self.model.complete(**kwargs)

    def __getattr__(self, name: str):  # anything else the adapter offers (lookup, ...)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.model, name)


def traced_complete(llm: LanguageModel, **kwargs) -> LlmReply:
    """One provider call as a GenAI client span, ``chat {model}`` (OpenTelemetry GenAI
    conventions, latest experimental: operation, provider, requested and answering model,
    token usage, finish reason). Message content is never recorded."""
    model = kwargs["model"]
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": llm.provider,
        "gen_ai.request.model": model,
        "gen_ai.request.temperature": kwargs.get("temperature"),
        "gen_ai.request.max_tokens": kwargs.get("max_tokens"),
    }
    with tracing.span(f"chat {model}", attributes, kind="client") as span:
        reply = llm.complete(**kwargs)
        span.set_attribute("gen_ai.response.model", reply.model or model)
        span.set_attribute("gen_ai.usage.input_tokens", reply.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", reply.output_tokens)
        span.set_attribute(
            "gen_ai.response.finish_reasons", ("tool_calls",) if reply.tool_calls else ("stop",)
        )
        return reply


def _timeout(raw: str | None) -> float:
    if not raw or not raw.strip():
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        log.warning("ECM_LLM_TIMEOUT=%r is not a number; using %gs", raw, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT
    if not math.isfinite(value) or value <= 0:
        log.warning("ECM_LLM_TIMEOUT=%r is not a positive number; using %gs", raw, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT
    return value
