"""The language-model adapters and ModelPair, through the real anthropic and openai SDKs
against local fakes (tests/fake_llm.py): request shapes, response mapping, error mapping,
retry and fallback, and configuration from the environment."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from fake_llm import (
    FakeAnthropic,
    FakeOpenAI,
    error,
    overloaded,
    rate_limited,
    server_error,
    slow,
    text,
    tool_use,
    unauthorized,
)

from bot.llm.anthropic_model import AnthropicModel
from bot.llm.openai_model import OpenAIModel
from bot.llm.pair import ModelPair
from bot.llm.types import LlmReply, LlmUnavailable, ToolCall, ToolSpec

KEY = "sk-test-secret-0123456789"
SYSTEM = "You help ECM agents with stuck remittance orders."
LOOKUP = ToolSpec(
    name="lookup_order",
    description="Look up one order by id.",
    parameters={
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
)
CONVERSATION = [
    {"role": "user", "content": "Why is order A1 stuck?"},
    {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            ToolCall(id="call_1", name="lookup_order", arguments={"order_id": "A1"}),
            ToolCall(id="call_2", name="lookup_order", arguments={"order_id": "B2"}),
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "name": "lookup_order", "content": "A1: KYC"},
    {"role": "tool", "tool_call_id": "call_2", "name": "lookup_order", "content": "B2: paid"},
]


@pytest.fixture
def fake_anthropic():
    fake = FakeAnthropic(api_key=KEY).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_openai():
    fake = FakeOpenAI(api_key=KEY).start()
    yield fake
    fake.stop()


def anthropic_model(fake, timeout=5.0):
    return AnthropicModel(api_key=KEY, base_url=fake.url, timeout=timeout)


def openai_model(fake, timeout=5.0):
    return OpenAIModel(api_key=KEY, base_url=fake.url, timeout=timeout)


def ask(llm, model="test-model", messages=None, tools=(), temperature=0.2, max_tokens=300):
    return llm.complete(
        model=model,
        system=SYSTEM,
        messages=messages or [{"role": "user", "content": "Hello"}],
        tools=list(tools),
        temperature=temperature,
        max_tokens=max_tokens,
    )


@pytest.fixture(params=["anthropic", "openai"])
def provider(request, fake_anthropic, fake_openai):
    """(fake, model factory) for each provider, to run the error cases against both."""
    if request.param == "anthropic":
        return request.param, fake_anthropic, anthropic_model
    return request.param, fake_openai, openai_model


# --- Anthropic -------------------------------------------------------------------------


def test_anthropic_text_reply_usage_and_request_shape(fake_anthropic):
    fake_anthropic.script(text("Order A1 waits for KYC."))
    reply = ask(anthropic_model(fake_anthropic), model="claude-test", temperature=0.3)

    status, sent = fake_anthropic.responses[0]
    assert status == 200
    assert reply == LlmReply(
        text="Order A1 waits for KYC.",
        tool_calls=[],
        input_tokens=sent["usage"]["input_tokens"],
        output_tokens=sent["usage"]["output_tokens"],
        model="claude-test",
        provider="anthropic",
    )
    assert reply.input_tokens > 10 and reply.output_tokens >= 1
    body = fake_anthropic.requests[0]
    assert body["model"] == "claude-test"
    assert body["system"] == SYSTEM
    assert body["messages"] == [{"role": "user", "content": "Hello"}]
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 300
    assert "tools" not in body


def test_anthropic_tool_use_both_ways(fake_anthropic):
    fake_anthropic.script(
        tool_use([("lookup_order", {"order_id": "C3"}), ("list_tickets", {})], text="Checking.")
    )
    reply = ask(anthropic_model(fake_anthropic), messages=CONVERSATION, tools=[LOOKUP])

    assert reply.text == "Checking."
    assert reply.tool_calls == [
        ToolCall(id="toolu_fake1_0", name="lookup_order", arguments={"order_id": "C3"}),
        ToolCall(id="toolu_fake1_1", name="list_tickets", arguments={}),
    ]
    assert reply.output_tokens >= 40  # 20 per tool call
    body = fake_anthropic.requests[0]
    assert body["tools"] == [
        {
            "name": "lookup_order",
            "description": "Look up one order by id.",
            "input_schema": LOOKUP.parameters,
        }
    ]
    assert body["messages"] == [
        {"role": "user", "content": "Why is order A1 stuck?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "call_1",
                    "name": "lookup_order",
                    "input": {"order_id": "A1"},
                },
                {
                    "type": "tool_use",
                    "id": "call_2",
                    "name": "lookup_order",
                    "input": {"order_id": "B2"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "A1: KYC"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "B2: paid"},
            ],
        },
    ]


def test_anthropic_user_turn_after_tool_results_joins_them(fake_anthropic):
    messages = [
        *CONVERSATION[:3],
        {"role": "user", "content": "Also B2?"},
        {"role": "assistant", "content": "", "tool_calls": []},  # empty turns are dropped
    ]
    fake_anthropic.script(text("ok"))
    ask(anthropic_model(fake_anthropic), messages=messages)
    sent = fake_anthropic.requests[0]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "A1: KYC"},
        {"type": "text", "text": "Also B2?"},
    ]


# --- OpenAI ----------------------------------------------------------------------------


def test_openai_text_reply_usage_and_request_shape(fake_openai):
    fake_openai.script(text("Order A1 waits for KYC."))
    reply = ask(openai_model(fake_openai), model="gpt-test", temperature=0.7, max_tokens=123)

    _, sent = fake_openai.responses[0]
    assert reply == LlmReply(
        text="Order A1 waits for KYC.",
        tool_calls=[],
        input_tokens=sent["usage"]["prompt_tokens"],
        output_tokens=sent["usage"]["completion_tokens"],
        model="gpt-test",
        provider="openai",
    )
    body = fake_openai.requests[0]
    assert body["model"] == "gpt-test"
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Hello"},
    ]
    assert body["temperature"] == 0.7
    assert body["max_completion_tokens"] == 123
    assert "tools" not in body


def test_openai_tool_use_both_ways(fake_openai):
    fake_openai.script(tool_use([("lookup_order", {"order_id": "C3"}), ("broken", "{not json")]))
    reply = ask(openai_model(fake_openai), messages=CONVERSATION, tools=[LOOKUP])

    assert reply.text == ""  # content is null when the model only calls tools
    assert reply.tool_calls == [
        ToolCall(id="call_fake1_0", name="lookup_order", arguments={"order_id": "C3"}),
        ToolCall(id="call_fake1_1", name="broken", arguments={}),  # invalid JSON -> {}
    ]
    body = fake_openai.requests[0]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "lookup_order",
                "description": "Look up one order by id.",
                "parameters": LOOKUP.parameters,
            },
        }
    ]
    assistant = body["messages"][2]
    assert assistant["role"] == "assistant" and assistant["content"] == "Let me check."
    assert assistant["tool_calls"] == [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "lookup_order", "arguments": json.dumps({"order_id": oid})},
        }
        for i, oid in ((1, "A1"), (2, "B2"))
    ]
    assert body["messages"][3:] == [
        {"role": "tool", "tool_call_id": "call_1", "content": "A1: KYC"},
        {"role": "tool", "tool_call_id": "call_2", "content": "B2: paid"},
    ]


# --- errors, both providers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "status"),
    [(overloaded(), None), (server_error(), 500), (rate_limited(), 429)],
    ids=["overloaded", "5xx", "429"],
)
def test_overload_server_errors_and_rate_limits_are_transient(provider, response, status):
    name, fake, make = provider
    fake.script(response)
    with pytest.raises(LlmUnavailable) as caught:
        ask(make(fake))
    expected = status or (529 if name == "anthropic" else 503)
    assert caught.value.transient
    assert name in str(caught.value) and str(expected) in str(caught.value)
    assert KEY not in str(caught.value)


def test_bad_key_is_not_transient_and_never_named(provider):
    name, fake, _ = provider
    make = AnthropicModel if name == "anthropic" else OpenAIModel
    with pytest.raises(LlmUnavailable) as caught:
        ask(make(api_key="sk-wrong-key-987654321", base_url=fake.url, timeout=5.0))
    assert not caught.value.transient
    assert name in str(caught.value) and "401" in str(caught.value)
    assert "sk-wrong-key-987654321" not in str(caught.value)


def test_bad_request_is_not_transient(provider):
    name, fake, make = provider
    fake.script(error(400, message="max_tokens: too large"))
    with pytest.raises(LlmUnavailable) as caught:
        ask(make(fake))
    assert not caught.value.transient
    assert "400" in str(caught.value) and "max_tokens: too large" in str(caught.value)


def test_slow_answer_beyond_the_timeout_is_transient(provider):
    name, fake, make = provider
    fake.script(slow(2.0))
    with pytest.raises(LlmUnavailable) as caught:
        ask(make(fake, timeout=0.1))
    assert caught.value.transient and name in str(caught.value)
    assert "tim" in str(caught.value).lower()  # reported as a timeout, not another failure
    assert len(fake.requests) == 1


def test_connection_refused_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens here
    for llm in (
        AnthropicModel(api_key=KEY, base_url=f"http://127.0.0.1:{port}", timeout=2),
        OpenAIModel(api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1", timeout=2),
    ):
        with pytest.raises(LlmUnavailable) as caught:
            ask(llm)
        assert caught.value.transient and llm.provider in str(caught.value)


# --- ModelPair -------------------------------------------------------------------------


def pair_of(fake_anthropic, fake_openai, **kwargs):
    kwargs.setdefault("wait_seconds", 0)
    return ModelPair(anthropic_model(fake_anthropic), openai_model(fake_openai), **kwargs)


def pair_ask(pair):
    return pair.complete(
        primary_model="claude-primary",
        fallback_model="gpt-fallback",
        system=SYSTEM,
        messages=[{"role": "user", "content": "Hello"}],
        tools=[LOOKUP],
        temperature=0,
        max_tokens=200,
    )


def test_pair_primary_fine_uses_no_fallback(fake_anthropic, fake_openai):
    fake_anthropic.script(text("from claude"))
    reply, used_fallback = pair_ask(pair_of(fake_anthropic, fake_openai))
    assert (reply.text, reply.provider, used_fallback) == ("from claude", "anthropic", False)
    assert fake_anthropic.models == ["claude-primary"] and fake_openai.requests == []


def test_pair_retries_a_transient_error_once_then_succeeds(fake_anthropic, fake_openai):
    fake_anthropic.script(overloaded(), text("second try"))
    reply, used_fallback = pair_ask(pair_of(fake_anthropic, fake_openai))
    assert (reply.text, used_fallback) == ("second try", False)
    assert len(fake_anthropic.requests) == 2 and fake_openai.requests == []


def test_pair_primary_overloaded_twice_falls_back(fake_anthropic, fake_openai):
    fake_anthropic.script(overloaded(), overloaded())
    fake_openai.script(text("from gpt"))
    reply, used_fallback = pair_ask(pair_of(fake_anthropic, fake_openai))
    assert (reply.text, reply.provider, used_fallback) == ("from gpt", "openai", True)
    assert len(fake_anthropic.requests) == 2
    assert fake_openai.models == ["gpt-fallback"]
    assert fake_openai.requests[0]["tools"][0]["function"]["name"] == "lookup_order"


def test_pair_non_transient_primary_error_is_not_retried(fake_anthropic, fake_openai):
    fake_anthropic.script(unauthorized())
    fake_openai.script(text("ok"))
    reply, used_fallback = pair_ask(pair_of(fake_anthropic, fake_openai))
    assert used_fallback and reply.provider == "openai"
    assert len(fake_anthropic.requests) == 1


def test_pair_both_down_raises_naming_both(fake_anthropic, fake_openai):
    fake_anthropic.script(overloaded(), overloaded())
    fake_openai.script(server_error(), server_error())
    with pytest.raises(LlmUnavailable) as caught:
        pair_ask(pair_of(fake_anthropic, fake_openai))
    message = str(caught.value)
    assert caught.value.transient
    assert "anthropic/claude-primary" in message and "529" in message
    assert "openai/gpt-fallback" in message and "500" in message
    assert len(fake_anthropic.requests) == 2 and len(fake_openai.requests) == 2


def test_pair_with_missing_models(fake_openai):
    fake_openai.script(text("ok"))
    reply, used_fallback = pair_ask(ModelPair(None, openai_model(fake_openai)))
    assert used_fallback and fake_openai.models == ["gpt-fallback"]
    with pytest.raises(LlmUnavailable) as caught:
        pair_ask(ModelPair(None, None))
    assert caught.value.transient and "not configured" in str(caught.value)


# --- configuration from the environment ------------------------------------------------


def test_from_env_without_keys_is_none(monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert ModelPair.from_env() is None
    assert ModelPair.from_env({"ANTHROPIC_API_KEY": " ", "OPENAI_API_KEY": ""}) is None


def test_from_env_with_keys_calls_both_fakes(monkeypatch, fake_anthropic, fake_openai):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_anthropic.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("ECM_LLM_TIMEOUT", "7.5")
    pair = ModelPair.from_env()
    assert pair.primary.timeout == pair.fallback.timeout == 7.5
    assert not pair.primary.loaded and not pair.fallback.loaded  # made on first use
    assert isinstance(pair.primary.model, AnthropicModel)
    assert isinstance(pair.fallback.model, OpenAIModel)
    assert pair.primary.model.timeout == pair.fallback.model.timeout == 7.5

    fake_anthropic.script(text("hi from claude"))
    reply, used_fallback = pair_ask(pair)
    assert (reply.text, used_fallback) == ("hi from claude", False)
    fake_openai.script(text("hi from gpt"))
    assert ask(pair.fallback, model="gpt-direct").text == "hi from gpt"
    assert fake_openai.models == ["gpt-direct"]


def test_from_env_with_only_openai_goes_straight_to_the_fallback(fake_openai):
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake_openai.url, "ECM_LLM_TIMEOUT": "x"}
    pair = ModelPair.from_env(env)
    assert pair.primary is None and pair.fallback.timeout == 30.0
    fake_openai.script(text("ok"))
    reply, used_fallback = pair_ask(pair)
    assert used_fallback and reply.provider == "openai"
    assert fake_openai.models == ["gpt-fallback"]


def test_keys_that_are_set_but_unused_import_no_vendor_sdk():
    """The adapters (and the SDKs) are imported when a model is first asked, not when the
    pair is made (the import itself: test_from_env_with_keys_calls_both_fakes)."""
    code = (
        "import sys\n"
        "from bot.llm.pair import ModelPair\n"
        "pair = ModelPair.from_env({'ANTHROPIC_API_KEY': 'k', 'OPENAI_API_KEY': 'k'})\n"
        "assert pair.primary.provider == 'anthropic' and pair.fallback.provider == 'openai'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('anthropic', 'openai')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_lazy_models_name_their_adapters_providers():
    pair = ModelPair.from_env({"ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k"})
    assert pair.primary.provider == AnthropicModel.provider
    assert pair.fallback.provider == OpenAIModel.provider
