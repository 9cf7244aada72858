"""Skill folders load strictly: any invalid file fails with a message naming the file and field."""

from __future__ import annotations

import pytest
from helpers_skills import copy_skill, edit_config, edit_frontmatter

from bot.errors import SkillConfigError
from bot.skills.loader import load_skill
from bot.skills.registry import Registry

MANAGER_SKILLS = {
    "acknowledge-escalation",
    "triage-and-assign",
    "assign-tickets",
    "ecm-daily-flow",
    "pattern-intelligence",
    "run-ecm",
    "set-agent-away",
    "unowned-orders",
}
FIELD_SKILLS = {
    "my-tickets",
    "order-details",
    "resolve-ticket",
    "escalate-ticket",
    "take-ticket",
    "snooze-ticket",
    "set-away",
    "takeable-orders",
}


def _delete(*keys: str):
    def change(data: dict) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return change


def _set(value, *keys):
    def change(data: dict) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


def _add_tool(tool: str):
    return lambda data: data["permissions"]["tools"].append(tool)


# (role, skill, change to aspora.config.yaml, words the error must contain)
CONFIG_CASES = [
    pytest.param(
        "manager",
        "triage-and-assign",
        _delete("model", "cost_budget"),
        ["model.cost_budget", "required"],
        id="missing-model-cost-budget",
    ),
    pytest.param(
        "field",
        "my-tickets",
        _set("blue", "skill", "colour"),
        ["skill.colour", "unknown field"],
        id="unknown-field-skill-colour",
    ),
    pytest.param(
        "manager",
        "run-ecm",
        _set("slow", "runtime", "timeout"),
        ["runtime.timeout", "integer"],
        id="timeout-is-a-string",
    ),
    pytest.param(
        "field",
        "resolve-ticket",
        _set("other-skill", "skill", "name"),
        ["skill.name", "other-skill", "resolve-ticket"],
        id="config-name-differs-from-folder",
    ),
    pytest.param(
        "field",
        "order-details",
        _add_tool("score_orders"),
        ["permissions.tools", "score_orders", "DEC-011"],
        id="field-skill-granted-score-orders",
    ),
    pytest.param(
        "manager",
        "run-ecm",
        _add_tool("load_runbook"),
        ["permissions.tools", "load_runbook", "DEC-011"],
        id="manager-skill-granted-load-runbook",
    ),
    pytest.param(
        "field",
        "my-tickets",
        _add_tool("teleport"),
        ["permissions.tools", "teleport"],
        id="unknown-tool",
    ),
    pytest.param(
        "manager",
        "triage-and-assign",
        lambda d: d["triggers"][0]["cron"].update(schedule="61 25 * * *"),
        ["triggers.0.cron.schedule", "61 25 * * *"],
        id="invalid-cron",
    ),
    pytest.param(
        "manager",
        "triage-and-assign",
        lambda d: d["triggers"][0]["cron"].update(timezone="Mars/Olympus_Mons"),
        ["triggers.0.cron.timezone", "Mars/Olympus_Mons"],
        id="unknown-timezone",
    ),
    pytest.param(
        "manager",
        "triage-and-assign",
        lambda d: d["triggers"][0].update(command={"patterns": ["triage now"]}),
        ["triggers.0", "exactly one"],
        id="trigger-with-cron-and-command",
    ),
    pytest.param(
        "field",
        "my-tickets",
        lambda d: d["triggers"].append({}),
        ["triggers.1", "exactly one"],
        id="trigger-with-no-kind",
    ),
    pytest.param(
        "manager",
        "pattern-intelligence",
        _set("x" * 1025, "skill", "description"),
        ["skill.description", "1024"],
        id="config-description-too-long",
    ),
]


@pytest.mark.parametrize(("role", "name", "change", "words"), CONFIG_CASES)
def test_an_invalid_config_fails_naming_the_file_and_the_field(tmp_path, role, name, change, words):
    folder = copy_skill(tmp_path, role, name)
    path = edit_config(folder, change)

    with pytest.raises(SkillConfigError) as caught:
        load_skill(folder)

    assert caught.value.path == str(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for word in words:
        assert word in message


def test_a_config_in_the_wrong_role_folder_fails_on_skill_role(tmp_path):
    folder = copy_skill(tmp_path, "manager", "run-ecm", into_role="field")

    with pytest.raises(SkillConfigError) as caught:
        load_skill(folder)

    assert caught.value.path == str(folder / "aspora.config.yaml")
    assert "skill.role" in str(caught.value)
    assert "manager" in str(caught.value)
    assert "skills/field/" in str(caught.value)


def test_a_missing_config_file_fails_naming_it(tmp_path):
    folder = copy_skill(tmp_path, "field", "my-tickets")
    (folder / "aspora.config.yaml").unlink()

    with pytest.raises(SkillConfigError) as caught:
        load_skill(folder)

    assert caught.value.path == str(folder / "aspora.config.yaml")
    assert "missing" in str(caught.value)


# (change to SKILL.md frontmatter, words the error must contain)
FRONTMATTER_CASES = [
    pytest.param(
        lambda m: m.update(name="someone-else"),
        ["'name'", "someone-else", "order-details"],
        id="name-differs-from-folder",
    ),
    pytest.param(lambda m: m.update(role="field"), ["'role'", "not allowed"], id="extra-key-role"),
    pytest.param(
        lambda m: m.update(description="y" * 1025),
        ["'description'", "1024"],
        id="description-over-1024-chars",
    ),
    pytest.param(
        lambda m: m.pop("description"), ["'description'", "required"], id="missing-description"
    ),
    pytest.param(lambda m: m.update(name="Order_Details"), ["'name'"], id="name-not-kebab-case"),
    pytest.param(
        lambda m: m.update(metadata={"owner": 7}), ["'metadata'"], id="metadata-value-not-a-string"
    ),
]


@pytest.mark.parametrize(("change", "words"), FRONTMATTER_CASES)
def test_invalid_skill_md_frontmatter_fails_naming_skill_md_and_the_field(tmp_path, change, words):
    folder = copy_skill(tmp_path, "field", "order-details")
    path = edit_frontmatter(folder, change)

    with pytest.raises(SkillConfigError) as caught:
        load_skill(folder)

    assert caught.value.path == str(path)
    for word in words:
        assert word in str(caught.value)


def test_a_description_of_exactly_1024_chars_is_accepted(tmp_path):
    folder = copy_skill(tmp_path, "field", "order-details")
    edit_frontmatter(folder, lambda m: m.update(description="z" * 1024))

    assert len(load_skill(folder).description) == 1024


def test_skill_md_without_frontmatter_fails(tmp_path):
    folder = copy_skill(tmp_path, "field", "my-tickets")
    (folder / "SKILL.md").write_text("# just a heading\n", encoding="utf-8")

    with pytest.raises(SkillConfigError) as caught:
        load_skill(folder)

    assert caught.value.path == str(folder / "SKILL.md")
    assert "frontmatter" in str(caught.value)


def test_registry_load_refuses_a_folder_with_one_bad_skill(tmp_path):
    copy_skill(tmp_path, "field", "my-tickets")
    bad = copy_skill(tmp_path, "field", "order-details")
    edit_config(bad, _delete("runtime", "timeout"))

    with pytest.raises(SkillConfigError) as caught:
        Registry.load(tmp_path / "skills")

    assert "runtime.timeout" in str(caught.value)
    assert str(bad) in str(caught.value)


def test_registry_load_refuses_an_unknown_role_folder(tmp_path):
    copy_skill(tmp_path, "field", "my-tickets", into_role="supervisor")

    with pytest.raises(SkillConfigError) as caught:
        Registry.load(tmp_path / "skills")

    assert "supervisor" in str(caught.value)
    assert "role" in str(caught.value)


# -- the real skills ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def test_all_sixteen_real_skills_load(registry):
    assert {s.name for s in registry} == MANAGER_SKILLS | FIELD_SKILLS
    assert {s.name for s in registry if s.role == "manager"} == MANAGER_SKILLS
    assert {s.name for s in registry if s.role == "field"} == FIELD_SKILLS


def test_triage_and_assign_has_the_documented_runtime_and_model(registry):
    cfg = registry.get("triage-and-assign").config

    assert (cfg.model.primary, cfg.model.fallback) == ("claude-sonnet-5-5", "gpt-6-sol")
    assert cfg.model.temperature == 0.3
    assert cfg.model.max_tokens == 8000
    assert cfg.model.cost_budget.max_per_execution == 0.50
    assert cfg.model.cost_budget.monthly_limit == 150
    assert cfg.runtime.timeout == 120


def test_triage_and_assign_runs_on_the_documented_cron_and_commands(registry):
    triggers = registry.get("triage-and-assign").config.triggers
    crons = [t.cron for t in triggers if t.cron]
    commands = [p for t in triggers if t.command for p in t.command.patterns]

    assert [(c.schedule, c.timezone) for c in crons] == [("0 7,14,20 * * *", "Asia/Dubai")]
    assert "@ecm-manager triage" in commands
    assert "run triage" in commands


def test_triage_and_assign_reports_its_custom_metrics(registry):
    metrics = registry.get("triage-and-assign").config.monitoring.custom_metrics

    assert {"orders_triaged", "assignment_accuracy"} <= set(metrics)


def test_pattern_intelligence_uses_the_opus_model(registry):
    assert registry.get("pattern-intelligence").config.model.primary == "claude-opus-5-5"


@pytest.mark.parametrize("name", sorted(FIELD_SKILLS))
def test_every_field_skill_uses_the_small_models_and_budget(registry, name):
    cfg = registry.get(name).config

    assert (cfg.model.primary, cfg.model.fallback) == ("claude-haiku-5-5", "gpt-6-luna")
    assert cfg.model.cost_budget.max_per_execution == 0.02
    assert cfg.model.cost_budget.monthly_limit == 50
    assert cfg.runtime.timeout == 30


def test_my_tickets_answers_the_documented_messages_and_reports_active_agents(registry):
    cfg = registry.get("my-tickets").config
    patterns = [p for t in cfg.triggers if t.message for p in t.message.patterns]

    assert {"my tickets", "my queue", "show my work"} <= set(patterns)
    assert "active_agents" in cfg.monitoring.custom_metrics


def test_a_loaded_skill_keeps_its_skill_md_description_and_body(registry):
    skill = registry.get("order-details")

    assert skill.description.startswith("Opens one order")
    assert "---" not in skill.body.splitlines()[0]
    assert skill.body.startswith("## Steps")


def test_a_config_read_again_is_reused_and_an_edit_is_seen_at_once(tmp_path):
    folder = copy_skill(tmp_path, "field", "my-tickets")
    config = folder / "aspora.config.yaml"
    first = load_skill(folder).config
    assert load_skill(folder).config is first  # the same text: parsed and checked once
    config.write_text(config.read_text().replace("version: 1.0.0", "version: 1.0.1"))
    assert load_skill(folder).config.skill.version == "1.0.1"  # same size, same second
    config.write_text(config.read_text().replace("version: 1.0.1", "version: [1"))
    with pytest.raises(SkillConfigError, match="not valid YAML"):
        load_skill(folder)
    with pytest.raises(SkillConfigError, match="not valid YAML"):  # each time it is read
        load_skill(folder)
