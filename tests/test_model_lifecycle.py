"""The models the skills configure stay current: the lifecycle catalog is strict and complete,
``skills validate`` warns and ``doctor`` fails or warns on retired, retiring or unknown
models, asking the provider (the real SDKs against the fakes on loopback) when a key is set;
and each adapter sends only what the model accepts."""

from __future__ import annotations

import socket
from datetime import date
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from fake_llm import FakeAnthropic, FakeOpenAI, text, thinking, tool_use
from helpers_skills import copy_skill, edit_config

from bot.agents.cost import PRICES_FILE
from bot.cli import load_commands
from bot.doctor import check_models as doctor_models
from bot.errors import SkillConfigError
from bot.llm import anthropic_model, openai_model
from bot.llm.anthropic_model import AnthropicModel
from bot.llm.catalog import assess, load_catalog, request_options
from bot.llm.declared_models import SOURCES, declared_literals, declared_models
from bot.llm.openai_model import OpenAIModel
from bot.llm.types import ToolCall, ToolSpec
from bot.model_health import check_models, configured, sdk_models
from bot.skills.registry import Registry
from bot.yaml_safe import parse_yaml

DAY = date(2026, 12, 1)  # the day the catalog was last read (DEC-015)
KEY = "sk-test-0123456789"
TOOL = ToolSpec("lookup_order", "Look up one order.", {"type": "object", "properties": {}})


def skill(name, primary, fallback):
    return SimpleNamespace(name=name, config=SimpleNamespace(model=SimpleNamespace(
        primary=primary, fallback=fallback)))  # fmt: skip


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the catalog and the configured models ---------------------------------------------------


def test_every_configured_model_is_priced_recorded_and_current():
    prices = parse_yaml(PRICES_FILE.read_text())["models"]
    catalog = load_catalog()
    reports = check_models(Registry.load(), DAY)
    assert {r.model for r in reports} == {
        "claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5", "gpt-6-sol", "gpt-6-luna",
    }  # fmt: skip
    for report in reports:
        assert report.model in prices, f"{report.model} has no price in llm-prices.yaml"
        record = catalog.get(report.model)
        assert record and record.provider == report.provider and record.status == "active"
        assert report.findings == [], (report.model, report.findings)


def test_the_models_retired_and_retiring_on_the_day_of_the_move_are_recorded():
    catalog = load_catalog()
    assert catalog.get("claude-sonnet-4-5").retires == date(2026, 11, 30)
    assert catalog.get("gpt-4o").retires == catalog.get("gpt-4o-mini").retires == date(2027, 1, 14)
    assert "claude-sonnet-4-5" not in sdk_models("anthropic")[0]  # the SDK no longer lists it


def test_the_catalog_refuses_an_unknown_field_naming_it(tmp_path):
    path = tmp_path / "model-lifecycle.yaml"
    path.write_text(
        "models:\n  m:\n    provider: anthropic\n    status: active\n    retirs: 2027-01-01\n"
        "    source: https://example.com\n    checked: 2026-12-01\n"
    )
    with pytest.raises(SkillConfigError) as err:
        load_catalog(path)
    assert "models.m.retirs" in str(err.value) and "unknown field" in str(err.value)


@pytest.mark.parametrize(
    ("model", "slot", "level", "says"),
    [
        ("claude-sonnet-4-5", "primary", "fail", "retired on 2026-11-30"),
        ("gpt-4o", "fallback", "warn", "retires on 2027-01-14, in 44 days"),
        ("claude-sonnet-4-7", "primary", "fail", "unknown to the installed anthropic SDK"),
        ("gpt-6-sol", "primary", "fail", "is an openai model, but model.primary"),
        ("gpt-6.2-sol", "fallback", "fail", "cannot call tools"),
        ("claude-opus-4-5", "primary", "warn", "no lifecycle record"),
    ],
    ids=["retired", "retiring", "unknown-to-sdk", "wrong-slot", "no-tools", "unrecorded"],
)
def test_a_configured_model_is_assessed(model, slot, level, says):
    provider = {"primary": "anthropic", "fallback": "openai"}[slot]
    known, name = sdk_models(provider)
    found = assess(model, slot, known, name, DAY)
    assert any(f.level == level and says in f.message for f in found), found


def test_a_date_past_the_announced_retirement_fails_even_before_the_catalog_says_retired():
    known, name = sdk_models("openai")
    (found,) = assess("gpt-4o", "fallback", known, name, date(2027, 1, 14))
    assert found.level == "fail" and "retired on 2027-01-14" in found.message


@pytest.mark.parametrize(
    "provider, adapter", [("anthropic", anthropic_model), ("openai", openai_model)]
)
def test_the_model_list_read_from_the_sdk_source_equals_the_imported_one(provider, adapter):
    assert declared_models(provider) == (adapter.known_models(), adapter.sdk_name())
    assert sdk_models(provider) == (adapter.known_models(), adapter.sdk_name())


def test_a_model_list_that_cannot_be_read_from_source_is_none_so_the_sdk_is_imported(
    tmp_path, monkeypatch
):
    package = tmp_path / "fakesdk"
    (package / "types").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert declared_literals("fakesdk", "types/model.py", "Model") == frozenset()  # no file
    (package / "types" / "model.py").write_text("Model = str\n")
    assert declared_literals("fakesdk", "types/model.py", "Model") == frozenset()  # no Literal
    (package / "types" / "model.py").write_text("Model = (\n")
    assert declared_literals("fakesdk", "types/model.py", "Model") == frozenset()  # unparsable
    (package / "types" / "model.py").write_text(
        "import typing\nOther = typing.Literal['x']\n"
        "Model: TypeAlias = Union[typing.Literal['a', 'b'], Literal['c'], str]\n"
    )
    assert declared_literals("fakesdk", "types/model.py", "Model") == {"a", "b", "c"}
    assert declared_literals("no_such_sdk_here", "types/model.py", "Model") == frozenset()


def test_when_the_sdk_moved_its_model_list_it_is_read_from_the_imported_sdk(monkeypatch):
    monkeypatch.setitem(SOURCES, "anthropic", ("anthropic", "types/moved.py", "Model"))
    assert declared_models("anthropic") is None
    assert sdk_models("anthropic") == (anthropic_model.known_models(), anthropic_model.sdk_name())


def test_models_are_grouped_by_model_and_slot_with_the_skills_naming_them():
    reports = configured([skill("a", "claude-haiku-5-5", "gpt-6-luna"),
                          skill("b", "claude-haiku-5-5", "gpt-6-sol")])  # fmt: skip
    assert [(r.model, r.slot, r.skills) for r in reports] == [
        ("claude-haiku-5-5", "primary", ["a", "b"]),
        ("gpt-6-luna", "fallback", ["a"]),
        ("gpt-6-sol", "fallback", ["b"]),
    ]


# --- ecm-bot skills validate ----------------------------------------------------------------


def test_skills_validate_warns_naming_the_skill_and_model_but_does_not_fail(tmp_path):
    folder = copy_skill(tmp_path, "manager", "triage-and-assign")
    edit_config(folder, lambda d: d["model"].update(primary="claude-sonnet-4-5", fallback="gpt-4o"))
    result = CliRunner().invoke(
        load_commands(), ["skills", "validate", "--skills-dir", str(tmp_path / "skills")]
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: triage-and-assign: model.primary claude-sonnet-4-5: retired on 2026-11-30"
        in result.stderr
    )
    assert "warning: triage-and-assign: model.fallback gpt-4o: " in result.stderr


def test_skills_validate_is_quiet_about_the_project_models():
    result = CliRunner().invoke(load_commands(), ["skills", "validate"])
    assert result.exit_code == 0 and "warning:" not in result.stderr, result.stderr


# --- ecm-bot doctor -------------------------------------------------------------------------


@pytest.fixture
def providers():
    with FakeAnthropic(api_key=KEY) as anthropic, FakeOpenAI(api_key=KEY) as openai:
        env = {
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_BASE_URL": anthropic.url,
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": openai.url,
        }
        yield SimpleNamespace(anthropic=anthropic, openai=openai, env=env)


def by_model(checks):
    return {c.system.removeprefix("model "): c for c in checks}


def test_doctor_checks_models_offline_without_keys():
    checks = by_model(doctor_models({}, DAY))
    assert set(checks) == {"claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5",
                           "gpt-6-sol", "gpt-6-luna"}  # fmt: skip
    assert all(c.status == "ok" for c in checks.values())
    assert "not asked: no ANTHROPIC_API_KEY" in checks["claude-sonnet-5-5"].detail
    assert "model.primary of " in checks["claude-sonnet-5-5"].detail
    assert "assign-tickets" in checks["claude-sonnet-5-5"].detail


def test_doctor_asks_each_provider_whether_it_serves_the_configured_models(providers):
    checks = by_model(doctor_models(providers.env, DAY))
    assert all(c.status == "ok" for c in checks.values()), checks
    assert "served by anthropic (active)" in checks["claude-opus-5-5"].detail
    assert "served by openai" in checks["gpt-6-luna"].detail
    assert sorted(providers.anthropic.model_lookups) == [
        "claude-haiku-5-5", "claude-opus-5-5", "claude-sonnet-5-5"]  # fmt: skip
    assert sorted(providers.openai.model_lookups) == ["gpt-6-luna", "gpt-6-sol"]


def test_a_model_the_provider_does_not_serve_fails(providers):
    providers.openai.served = {"gpt-6-sol": {}}  # gpt-6-luna: 404
    checks = by_model(doctor_models(providers.env, DAY))
    assert checks["gpt-6-luna"].status == "failing"
    assert "openai answers 404" in checks["gpt-6-luna"].detail and checks["gpt-6-luna"].fix
    assert checks["gpt-6-sol"].status == "ok"


def test_a_model_the_provider_deprecates_is_a_warning_and_a_retired_one_fails(providers):
    providers.anthropic.served = {
        "claude-sonnet-5-5": {"lifecycle": "deprecated", "retires_at": "2027-01-20T00:00:00Z"},
        "claude-opus-5-5": {"lifecycle": "retired", "retires_at": "2026-11-01T00:00:00Z"},
        "claude-haiku-5-5": {"lifecycle": "deprecated", "retires_at": "2027-06-01T00:00:00Z"},
    }
    checks = by_model(doctor_models(providers.env, DAY))
    assert checks["claude-sonnet-5-5"].status == "warning"
    assert "anthropic says it retires on 2027-01-20" in checks["claude-sonnet-5-5"].detail
    assert checks["claude-opus-5-5"].status == "failing"
    assert checks["claude-haiku-5-5"].status == "warning"
    assert "deprecated, retiring on 2027-06-01" in checks["claude-haiku-5-5"].detail


def test_an_unreachable_provider_is_failing_and_says_where_it_looked():
    url = f"http://127.0.0.1:{closed_port()}"
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": url}
    checks = by_model(doctor_models(env, DAY))
    detail = checks["claude-haiku-5-5"].detail
    assert checks["claude-haiku-5-5"].status == "failing"
    assert "could not be reached at" in detail and url in detail and KEY not in detail
    assert checks["gpt-6-sol"].status == "ok"  # no OpenAI key: not asked


def test_a_rejected_key_is_failing_without_showing_the_key(providers):
    env = {**providers.env, "OPENAI_API_KEY": "sk-wrong-key-0000"}
    check = by_model(doctor_models(env, DAY))["gpt-6-sol"]
    assert check.status == "failing" and "HTTP 401" in check.detail
    assert "sk-wrong-key-0000" not in check.detail


# --- what the adapters send --------------------------------------------------------------------


def test_request_options_come_from_the_catalog():
    assert request_options("claude-sonnet-5-5") == request_options("claude-haiku-5-5")
    assert not request_options("claude-sonnet-5-5").sampling
    assert request_options("claude-sonnet-5-5").effort == "low"
    assert request_options("gpt-6-sol").sampling and request_options("gpt-6-sol").effort == "none"
    unknown = request_options("some-new-model")
    assert unknown.sampling and unknown.effort is None


def test_anthropic_sends_no_temperature_to_a_model_that_refuses_it(providers):
    llm = AnthropicModel(api_key=KEY, base_url=providers.anthropic.url)
    providers.anthropic.script(text("a"), text("b"))
    for model in ("claude-sonnet-5-5", "claude-haiku-4-5"):
        llm.complete(model=model, system="s", messages=[{"role": "user", "content": "hi"}],
                     tools=[], temperature=0.3, max_tokens=50)  # fmt: skip
    new, legacy = providers.anthropic.requests
    assert "temperature" not in new and new["output_config"] == {"effort": "low"}
    assert legacy["temperature"] == 0.3 and "output_config" not in legacy


def test_openai_sends_reasoning_effort_none_so_gpt6_may_call_functions(providers):
    llm = OpenAIModel(api_key=KEY, base_url=providers.openai.url)
    providers.openai.script(tool_use("lookup_order", {}), text("b"))
    for model in ("gpt-6-sol", "gpt-test"):
        llm.complete(model=model, system="s", messages=[{"role": "user", "content": "hi"}],
                     tools=[TOOL], temperature=0.2, max_tokens=50)  # fmt: skip
    gpt6, other = providers.openai.requests
    assert gpt6["reasoning_effort"] == "none" and gpt6["temperature"] == 0.2
    assert "reasoning_effort" not in other and other["temperature"] == 0.2


def test_thinking_blocks_go_back_unchanged_with_the_tool_turn(providers):
    llm = AnthropicModel(api_key=KEY, base_url=providers.anthropic.url)
    providers.anthropic.script(
        thinking("check the order first", tool_use("lookup_order", {"order_id": "A1"})),
        text("It is waiting for KYC."),
    )
    ask = {"model": "claude-sonnet-5-5", "system": "s", "tools": [TOOL], "temperature": 0.2,
           "max_tokens": 50}  # fmt: skip
    messages: list[dict] = [{"role": "user", "content": "Why is A1 stuck?"}]
    first = llm.complete(messages=messages, **ask)
    assert first.reasoning == (
        {"type": "thinking", "thinking": "check the order first", "signature": "sig1"},
    )
    (call,) = first.tool_calls
    messages += [
        {"role": "assistant", "content": first.text, "tool_calls": first.tool_calls,
         "reasoning": first.reasoning},
        {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": "A1: KYC"},
    ]  # fmt: skip
    assert llm.complete(messages=messages, **ask).text == "It is waiting for KYC."
    sent = providers.anthropic.requests[1]["messages"][1]["content"]
    assert sent[0] == dict(first.reasoning[0]) and sent[-1]["type"] == "tool_use"
    assert isinstance(call, ToolCall)
