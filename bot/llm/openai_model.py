"""The OpenAI Chat Completions API behind the LanguageModel interface.

Translates neutral messages (see types.py) into chat messages with function tool calls and
back, and turns every SDK failure into LlmUnavailable: 5xx, 408/409/429, timeouts and
connection errors are transient; anything else (401, 400, 404...) is not. Error messages
name the provider, model and HTTP status, never the API key. What a model accepts
(temperature or not, a reasoning effort) comes from the catalog (catalog.py).
"""

from __future__ import annotations

import functools
import json
from datetime import date
from typing import Any, get_args

import openai

from bot.llm.catalog import request_options
from bot.llm.types import LlmReply, LlmUnavailable, ServedModel, ToolCall, ToolSpec


@functools.cache
def _http_client() -> openai.DefaultHttpxClient:
    """One pooled HTTP client per process for every model of this provider (the SDK's default
    client, with its timeouts and limits): each new client re-reads the CA bundle, 30 ms."""
    return openai.DefaultHttpxClient()


PROVIDER = "openai"
_TRANSIENT_STATUSES = frozenset({408, 409, 429})
_MAX_DETAIL = 200


class OpenAIModel:
    """A chat model through the official SDK. ``api_key`` / ``base_url`` default to the
    OPENAI_API_KEY / OPENAI_BASE_URL environment variables (read by the SDK, which raises
    ``openai.OpenAIError`` at construction when no key is found). The SDK's own retries are
    off: ModelPair decides about retrying."""

    provider = PROVIDER

    def __init__(
        self, api_key: str | None = None, base_url: str | None = None, timeout: float = 30.0
    ):
        self.timeout = float(timeout)
        self._client = openai.OpenAI(
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
            "messages": [{"role": "system", "content": system}, *to_openai_messages(messages)],
            # ``max_tokens`` is deprecated for chat completions and refused by reasoning models.
            "max_completion_tokens": max_tokens,
        }
        options = request_options(model)  # what this model accepts (shared/config catalog)
        if options.sampling:
            kwargs["temperature"] = temperature
        if options.effort:  # GPT-6 calls functions on Chat Completions only with "none"
            kwargs["reasoning_effort"] = options.effort
        if tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
        try:
            response = self._client.chat.completions.create(**kwargs)
        except openai.APITimeoutError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} timed out after {self.timeout:g}s (model {model})", transient=True
            ) from exc
        except openai.APIConnectionError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} could not be reached (model {model})", transient=True
            ) from exc
        except openai.APIStatusError as exc:
            raise _status_error(exc, model, self._client.api_key) from None
        except openai.OpenAIError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} failed: {type(exc).__name__} (model {model})", transient=False
            ) from None
        return from_openai_response(response, model)

    def lookup(self, model: str) -> ServedModel | None:
        """What the provider says of ``model`` (GET /v1/models/{id}); None when it answers 404.
        Raises LlmUnavailable when it cannot be asked (unreachable, timeout, bad key)."""
        try:
            info = self._client.models.retrieve(model)
        except openai.NotFoundError:
            return None
        except openai.APITimeoutError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} timed out after {self.timeout:g}s at {self._client.base_url}",
                transient=True,
            ) from exc
        except openai.APIConnectionError as exc:
            raise LlmUnavailable(
                f"{PROVIDER} could not be reached at {self._client.base_url}", transient=True
            ) from exc
        except openai.APIStatusError as exc:
            raise _status_error(exc, model, self._client.api_key) from None
        shutdown = getattr(info, "shutdown_date", None)
        try:
            retires = date.fromisoformat(str(shutdown)[:10]) if shutdown else None
        except ValueError:
            retires = None
        return ServedModel(id=info.id, retires=retires)


def known_models() -> frozenset[str]:
    """The chat model ids the installed SDK lists (``openai.types.ChatModel``)."""
    return frozenset(a for a in get_args(openai.types.ChatModel) if isinstance(a, str))


def sdk_name() -> str:
    return f"openai SDK {openai.__version__}"


def to_openai_messages(messages: list[dict]) -> list[dict]:
    """Neutral messages -> chat-completion messages (without the system message)."""
    out: list[dict] = []
    for message in messages:
        role = message.get("role")
        if role == "user":
            out.append({"role": "user", "content": str(message.get("content") or "")})
        elif role == "assistant":
            text = str(message.get("content") or "")
            calls = message.get("tool_calls") or []
            if not calls:
                out.append({"role": "assistant", "content": text})
                continue
            out.append(
                {
                    "role": "assistant",
                    "content": text or None,
                    "tool_calls": [_tool_call_param(call) for call in calls],
                }
            )
        elif role == "tool":
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": message["tool_call_id"],
                    "content": str(message.get("content") or ""),
                }
            )
        else:
            raise ValueError(f"unknown message role {role!r}")
    return out


def from_openai_response(response: Any, model: str) -> LlmReply:
    choices = getattr(response, "choices", None) or []
    message = choices[0].message if choices else None
    calls: list[ToolCall] = []
    for call in (getattr(message, "tool_calls", None) or []) if message else []:
        function = getattr(call, "function", None)
        if function is None:  # a custom (non-function) tool call: not offered by this bot
            continue
        calls.append(
            ToolCall(id=call.id, name=function.name, arguments=_parse_arguments(function.arguments))
        )
    usage = getattr(response, "usage", None)
    return LlmReply(
        text=(getattr(message, "content", None) or "") if message else "",
        tool_calls=calls,
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        model=getattr(response, "model", None) or model,
        provider=PROVIDER,
    )


def _parse_arguments(raw: Any) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _tool_call_param(call: Any) -> dict:
    if isinstance(call, ToolCall):
        call_id, name, arguments = call.id, call.name, call.arguments
    else:
        call_id, name, arguments = call["id"], call["name"], call.get("arguments") or {}
    return {
        "id": str(call_id),
        "type": "function",
        "function": {"name": str(name), "arguments": json.dumps(arguments)},
    }


def _status_error(exc: openai.APIStatusError, model: str, key: str | None) -> LlmUnavailable:
    status = exc.status_code
    transient = status >= 500 or status in _TRANSIENT_STATUSES
    body = exc.body if isinstance(exc.body, dict) else {}
    kind = body.get("code") or body.get("type") or type(exc).__name__
    message = f"{PROVIDER} returned HTTP {status} ({kind}) for model {model}"
    detail = body.get("message")
    if isinstance(detail, str) and detail and status not in (401, 403):
        message += f": {_scrub(detail, key)}"
    return LlmUnavailable(message, transient=transient)


def _scrub(text: str, key: str | None) -> str:
    if key:
        text = text.replace(key, "[redacted]")
    return text[:_MAX_DETAIL]
