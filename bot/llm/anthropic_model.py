"""The Anthropic Messages API behind the LanguageModel interface.

Translates neutral messages (see types.py) into Anthropic content blocks and back, and turns
every SDK failure into LlmUnavailable: overloaded (529), 5xx, 408/429, timeouts and connection
errors are transient; anything else (401, 400, 404...) is not. Error messages name the
provider, model and HTTP status, never the API key. What a model accepts (temperature or not,
an effort level) comes from the catalog (catalog.py); thinking blocks a reply carries go back
unchanged with its assistant turn.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, get_args, get_origin

import anthropic

from bot.llm.catalog import request_options
from bot.llm.types import LlmReply, LlmUnavailable, ServedModel, ToolCall, ToolSpec


@functools.cache
def _http_client() -> anthropic.DefaultHttpxClient:
    """One pooled HTTP client per process for every model of this provider (the SDK's default
    client, with its timeouts and limits): each new client re-reads the CA bundle, 30 ms."""
    return anthropic.DefaultHttpxClient()


PROVIDER = "anthropic"
_TRANSIENT_STATUSES = frozenset({408, 409, 429})
_MAX_DETAIL = 200


class AnthropicModel:
    """Claude through the official SDK. ``api_key`` / ``base_url`` default to the
    ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL environment variables (read by the SDK).
    The SDK's own retries are off: ModelPair decides about retrying."""

    provider = PROVIDER

    def __init__(
        self, api_key: str | None = None, base_url: str | None = None, timeout: float = 30.0
    ):
        self.timeout = float(timeout)
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=self.timeout,
            http_client=_http_client(),
        )

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
        kwargs: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "messages": to_anthropic_messages(messages),
        }
        options = request_options(model)
        if options.sampling:
            # messages.create in this SDK has no ``temperature`` parameter; older models accept
            # it, the 5.x models answer 400 to any sampling parameter (see the catalog).
            kwargs["extra_body"] = {"temperature": temperature}
        if options.effort:
            kwargs["output_config"] = {"effort": options.effort}
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
        try:
            response = self._client.messages.create(**kwargs)
        except anthropic.APITimeoutError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} timed out after {self.timeout:g}s (model {model})", transient=True
            ) from exc
        except anthropic.APIConnectionError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} could not be reached (model {model})", transient=True
            ) from exc
        except anthropic.APIStatusError as exc:
            raise _status_error(exc, model, self._client.api_key) from None
        except anthropic.AnthropicError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} failed: {type(exc).__name__} (model {model})", transient=False
            ) from None
        except TypeError as exc:  # the SDK's "Could not resolve authentication method"
            if "authentication" not in str(exc):
                raise
            raise LlmUnavailable(f"{PROVIDER} has no API key configured", transient=False) from None
        return from_anthropic_response(response, model)

    def lookup(self, model: str) -> ServedModel | None:
        """What the provider says of ``model`` (GET /v1/models/{id}); None when it answers 404.
        Raises LlmUnavailable when it cannot be asked (unreachable, timeout, bad key)."""
        try:
            info = self._client.models.retrieve(model)
        except anthropic.NotFoundError:
            return None
        except anthropic.APITimeoutError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} timed out after {self.timeout:g}s at {self._client.base_url}",
                transient=True,
            ) from exc
        except anthropic.APIConnectionError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} could not be reached at {self._client.base_url}", transient=True
            ) from exc
        except anthropic.APIStatusError as exc:
            raise _status_error(exc, model, self._client.api_key) from None
        retires = getattr(info, "retires_at", None)
        return ServedModel(
            id=info.id,
            lifecycle=getattr(info, "lifecycle", None),
            retires=retires.date() if retires else None,
        )


def known_models() -> frozenset[str]:
    """The model ids the installed SDK lists (``anthropic.types.Model``)."""
    return frozenset(_literals(anthropic.types.Model))


def sdk_name() -> str:
    return f"anthropic SDK {anthropic.__version__}"


def _literals(alias: Any) -> list[str]:
    """The string values of a Literal, or of the Literals inside a Union."""
    if get_origin(alias) is Literal:
        return [a for a in get_args(alias) if isinstance(a, str)]
    return [v for arg in get_args(alias) for v in _literals(arg)]


def to_anthropic_messages(messages: list[dict]) -> list[dict]:
    """Neutral messages -> Anthropic messages. Consecutive ``tool`` messages become one user
    message of ``tool_result`` blocks; a user message right after them joins that message."""
    out: list[dict] = []
    results: list[dict] = []

    def flush() -> None:
        if results:
            out.append({"role": "user", "content": list(results)})
            results.clear()

    for message in messages:
        role = message.get("role")
        if role == "tool":
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": message["tool_call_id"],
                    "content": str(message.get("content") or ""),
                }
            )
            continue
        if role == "user":
            text = str(message.get("content") or "")
            if results:
                if text:
                    results.append({"type": "text", "text": text})
                flush()
            else:
                out.append({"role": "user", "content": text})
            continue
        flush()
        if role != "assistant":
            raise ValueError(f"unknown message role {role!r}")
        text = str(message.get("content") or "")
        calls = message.get("tool_calls") or []
        # thinking blocks go back first, unchanged (required in a tool loop with thinking on)
        thinking = [dict(b) for b in message.get("reasoning") or ()]
        if not calls:
            if text:  # the API rejects empty assistant turns; drop them
                content: Any = [*thinking, {"type": "text", "text": text}] if thinking else text
                out.append({"role": "assistant", "content": content})
            continue
        blocks: list[dict] = thinking + ([{"type": "text", "text": text}] if text else [])
        for call in calls:
            call_id, name, arguments = _call_fields(call)
            blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
        out.append({"role": "assistant", "content": blocks})
    flush()
    return out


def from_anthropic_response(response: Any, model: str) -> LlmReply:
    texts: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[dict] = []
    for block in response.content or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(block.text)
        elif kind in ("thinking", "redacted_thinking"):
            thinking.append(block.model_dump(mode="json", exclude_none=True))
        elif kind == "tool_use":
            arguments = block.input if isinstance(block.input, dict) else {}
            calls.append(ToolCall(id=block.id, name=block.name, arguments=dict(arguments)))
    usage = getattr(response, "usage", None)
    return LlmReply(
        text="".join(texts),
        tool_calls=calls,
        input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        model=getattr(response, "model", None) or model,
        provider=PROVIDER,
        reasoning=tuple(thinking),
    )


def _call_fields(call: Any) -> tuple[str, str, dict]:
    if isinstance(call, ToolCall):
        return call.id, call.name, dict(call.arguments)
    return str(call["id"]), str(call["name"]), dict(call.get("arguments") or {})


def _status_error(exc: anthropic.APIStatusError, model: str, key: str | None) -> LlmUnavailable:
    status = exc.status_code
    transient = status >= 500 or status in _TRANSIENT_STATUSES
    kind = exc.type if isinstance(getattr(exc, "type", None), str) else type(exc).__name__
    message = f"{PROVIDER} returned HTTP {status} ({kind}) for model {model}"
    detail = exc.api_message if isinstance(getattr(exc, "api_message", None), str) else ""
    if detail and status not in (401, 403):
        message += f": {_scrub(detail, key)}"
    return LlmUnavailable(message, transient=transient)


def _scrub(text: str, key: str | None) -> str:
    if key:
        text = text.replace(key, "[redacted]")
    return text[:_MAX_DETAIL]
