"""The registry: skills by role, ranked search, trigger matching, and the `skills` CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from helpers_skills import copy_skill, edit_config

from bot.cli import load_commands
from bot.errors import NotFound
from bot.skills.registry import Registry

MANAGER_SKILLS = [
    "acknowledge-escalation",
    "assign-tickets",
    "ecm-daily-flow",
    "pattern-intelligence",
    "run-ecm",
    "set-agent-away",
    "triage-and-assign",
    "unowned-orders",
]
FIELD_SKILLS = [
    "escalate-ticket",
    "my-tickets",
    "order-details",
    "resolve-ticket",
    "set-away",
    "snooze-ticket",
    "take-ticket",
    "takeable-orders",
]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        pytest.param("manager", MANAGER_SKILLS, id="manager"),
        pytest.param("field", FIELD_SKILLS, id="field"),
    ],
)
def test_for_role_returns_exactly_that_roles_skills_in_name_order(registry, role, expected):
    skills = registry.for_role(role)

    assert [s.name for s in skills] == expected
    assert {s.role for s in skills} == {role}


def test_get_an_unknown_skill_raises_not_found_with_a_hint(registry):
    with pytest.raises(NotFound, match="skills list"):
        registry.get("make-coffee")


@pytest.mark.parametrize(
    ("text", "first"),
    [
        pytest.param("resolve", "resolve-ticket", id="resolve"),
        pytest.param("triage", "triage-and-assign", id="triage"),
        pytest.param("escalate a ticket", "escalate-ticket", id="escalate"),
        pytest.param("my tickets", "my-tickets", id="my-tickets"),
        pytest.param("show patterns spiking", "pattern-intelligence", id="patterns"),
    ],
)
def test_search_ranks_the_best_skill_first(registry, text, first):
    assert registry.search(text)[0].name == first


def test_search_with_a_role_returns_only_that_roles_skills(registry):
    found = registry.search("assign reassign ticket", role="field")

    assert found
    assert {s.role for s in found} == {"field"}
    assert "assign-tickets" not in [s.name for s in found]


def test_search_for_a_manager_only_word_finds_no_field_skill(registry):
    assert registry.search("triage", role="field") == []


def test_search_for_unrelated_words_finds_nothing(registry):
    assert registry.search("zzqx wombat") == []


def test_search_respects_the_limit(registry):
    assert len(registry.search("ticket", limit=2)) == 2


@pytest.mark.parametrize(
    ("message", "roles", "skill", "args"),
    [
        pytest.param("my tickets", ("field",), "my-tickets", {}, id="field-my-tickets"),
        pytest.param("My Tickets?", ("field",), "my-tickets", {}, id="field-my-tickets-any-case"),
        pytest.param(
            "@ecm-manager triage",
            ("manager",),
            "triage-and-assign",
            {},
            id="manager-mention-triage",
        ),
        pytest.param("run triage", ("manager",), "triage-and-assign", {}, id="manager-run-triage"),
        pytest.param(
            "resolve AE136ABC00 replayed webhook, LULU confirmed",
            ("field",),
            "resolve-ticket",
            {"order_id": "AE136ABC00", "notes": "replayed webhook, LULU confirmed"},
            id="field-resolve-with-notes",
        ),
        pytest.param(
            "order AE136ABC00",
            ("field",),
            "order-details",
            {"order_id": "AE136ABC00"},
            id="field-order-details",
        ),
        pytest.param(
            "<@U0123ABC> escalate AE136ABC00 LuLu portal down",
            ("field",),
            "escalate-ticket",
            {"order_id": "AE136ABC00", "reason": "LuLu portal down"},
            id="field-escalate-after-slack-mention",
        ),
        pytest.param(
            "run daily flow",
            ("manager",),
            "ecm-daily-flow",
            {},
            id="manager-more-literal-words-win",
        ),
    ],
)
def test_match_picks_the_skill_and_captures_its_arguments(registry, message, roles, skill, args):
    found = registry.match(message, roles)

    assert found is not None
    assert found.skill.name == skill
    assert found.args == args


@pytest.mark.parametrize(
    ("message", "roles"),
    [
        pytest.param("run triage", ("field",), id="manager-command-from-a-field-agent"),
        pytest.param("my tickets", ("manager",), id="field-message-from-a-manager"),
        pytest.param("what is the weather in Dubai", ("manager", "field"), id="unrelated-text"),
        pytest.param("", ("manager", "field"), id="empty-message"),
        pytest.param("my tickets please now", ("field",), id="extra-words-after-a-fixed-phrase"),
        pytest.param("resolve", ("field",), id="missing-required-argument"),
    ],
)
def test_match_returns_none_when_no_trigger_of_those_roles_fits(registry, message, roles):
    assert registry.match(message, roles) is None


# -- the CLI --------------------------------------------------------------------------------


def test_skills_list_prints_every_skill_with_its_role():
    result = CliRunner().invoke(load_commands(), ["skills", "list"])

    assert result.exit_code == 0, result.output
    for name in MANAGER_SKILLS + FIELD_SKILLS:
        assert name in result.output
    assert "0 7,14,20 * * *" in result.output


def test_skills_list_for_one_role_leaves_out_the_other_role():
    result = CliRunner().invoke(load_commands(), ["skills", "list", "--role", "field"])

    assert result.exit_code == 0, result.output
    for name in FIELD_SKILLS:
        assert name in result.output
    for name in MANAGER_SKILLS:
        assert name not in result.output


def test_skills_search_prints_the_best_match_first():
    result = CliRunner().invoke(load_commands(), ["skills", "search", "resolve"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("field/resolve-ticket:")


def test_skills_validate_passes_on_the_real_project():
    # Fails while bot/skill_code/* (the skills' entry points) or a runbook is still missing.
    result = CliRunner().invoke(load_commands(), ["skills", "validate"])

    assert result.exit_code == 0, result.stderr
    assert "OK: 16 skills" in result.stdout


def test_skills_validate_fails_naming_the_file_of_an_invalid_skill(tmp_path):
    folder = copy_skill(tmp_path, "field", "my-tickets")
    edit_config(folder, lambda data: data["skill"].update(colour="blue"))
    result = CliRunner().invoke(
        load_commands(), ["skills", "validate", "--skills-dir", str(tmp_path / "skills")]
    )

    assert result.exit_code == 1
    assert str(folder / "aspora.config.yaml") in result.stderr
    assert "skill.colour" in result.stderr
