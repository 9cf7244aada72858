"""An agent's context: fixed order, role-scoped catalog, only the resources a request needs,
and a small share of the "monolith" that would load everything."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import bot.cli.context_cmd  # noqa: F401 - registers the `context` command
from bot.access.guard import Guard
from bot.briefing.builder import build_context, catalog_text, monolith_parts
from bot.cli import cli
from bot.errors import InputError
from bot.paths import GUARDRAILS_FILE, RUNBOOKS_DIR, SKILLS_DIR
from bot.skills.registry import Registry

REASON = "LULU_NOT_CONFIRMED"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="module")
def monolith_tokens(registry) -> int:
    return sum(p.tokens for p in monolith_parts(registry))


def context_for(registry, name, reason=None):
    return build_context(registry, name, Guard(registry.get(name)), reason=reason)


def _catalog_entries(text: str) -> list[str]:
    return re.findall(r"^- ([a-z0-9-]+): ", text, flags=re.MULTILINE)


def _runbooks() -> list:
    return sorted(RUNBOOKS_DIR.glob("*.md"))


# -- order and content ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("order-details", REASON, id="field-order-details"),
        pytest.param("triage-and-assign", None, id="manager-triage"),
    ],
)
def test_context_is_guardrails_charter_catalog_skill_then_resources(registry, name, reason):
    skill = registry.get(name)
    parts = context_for(registry, name, reason)

    assert [p.label for p in parts[:4]] == [
        "guardrails",
        f"{skill.role} charter",
        f"{skill.role} skill catalog",
        f"SKILL.md of {name}",
    ]
    assert parts[0].text == GUARDRAILS_FILE.read_text(encoding="utf-8")
    assert parts[1].text == (SKILLS_DIR / skill.role / "CHARTER.md").read_text(encoding="utf-8")
    assert parts[2].text == catalog_text(registry, skill.role)
    assert parts[3].text == skill.skill_md.read_text(encoding="utf-8")
    assert len(parts) > 4


@pytest.mark.parametrize(
    ("role", "other"),
    [pytest.param("field", "manager", id="field"), pytest.param("manager", "field", id="manager")],
)
def test_a_role_catalog_lists_only_that_roles_skills(registry, role, other):
    text = catalog_text(registry, role)

    assert _catalog_entries(text) == [s.name for s in registry.for_role(role)]
    for skill in registry.for_role(other):
        assert f"- {skill.name}:" not in text
        assert skill.description not in text


def test_order_details_for_a_reason_carries_exactly_that_runbook(registry):
    parts = context_for(registry, "order-details", REASON)
    runbook_parts = [p for p in parts if p.label.startswith("runbooks/")]

    assert [p.label for p in runbook_parts] == [f"runbooks/{REASON}.md"]
    assert runbook_parts[0].text == (RUNBOOKS_DIR / f"{REASON}.md").read_text(encoding="utf-8")
    joined = "\n".join(p.text for p in parts)
    for runbook in _runbooks():
        if runbook.stem != REASON:
            assert runbook.read_text(encoding="utf-8") not in joined


def test_order_details_includes_only_the_reasons_entry_of_per_reason_files(registry):
    parts = context_for(registry, "order-details", REASON)
    per_reason = [p for p in parts if p.label.endswith(f"[{REASON}]")]

    assert {p.label for p in per_reason} == {
        f"config/stuck-reasons.yaml [{REASON}]",
        f"config/knowledge-graph.yaml [{REASON}]",
    }
    for part in per_reason:
        assert REASON in part.text
        assert "FALCON_REJECTED" not in part.text


@pytest.mark.parametrize("name", ["order-details", "my-tickets", "escalate-ticket"])
def test_an_unknown_reason_is_an_input_error_naming_it(registry, name):
    with pytest.raises(InputError, match="Unknown stuck reason 'NOT_A_REAL_REASON'"):
        context_for(registry, name, "NOT_A_REAL_REASON")


@pytest.mark.parametrize("reason", ["lulu", "../../etc/passwd", "LULU_NOT_CONFIRMED.md"])
def test_a_malformed_reason_is_an_input_error(registry, reason):
    with pytest.raises(InputError, match="stuck-reason code"):
        context_for(registry, "order-details", reason)


@pytest.mark.parametrize(
    "name",
    ["triage-and-assign", "assign-tickets", "ecm-daily-flow", "pattern-intelligence", "run-ecm"],
)
def test_a_manager_context_never_includes_runbook_text(registry, name):
    parts = context_for(registry, name, REASON)
    joined = "\n".join(p.text for p in parts)

    assert not [p.label for p in parts if "runbooks/" in p.label]
    for runbook in _runbooks():
        assert runbook.read_text(encoding="utf-8") not in joined


# -- budget ---------------------------------------------------------------------------------


def test_manager_triage_context_is_at_most_a_quarter_of_the_monolith(registry, monolith_tokens):
    total = sum(p.tokens for p in context_for(registry, "triage-and-assign"))

    assert total <= 0.25 * monolith_tokens


def test_field_order_details_context_is_at_most_a_tenth_of_the_monolith(registry, monolith_tokens):
    total = sum(p.tokens for p in context_for(registry, "order-details", REASON))

    assert total <= 0.10 * monolith_tokens


def test_the_monolith_holds_every_skill_and_runbook(registry):
    labels = {p.label for p in monolith_parts(registry)}

    assert {f"{s.name}/SKILL.md" for s in registry} <= labels
    assert {f"runbooks/{r.name}" for r in _runbooks()} <= labels


# -- the CLI --------------------------------------------------------------------------------


def test_context_command_prints_a_table_against_the_monolith():
    result = CliRunner().invoke(
        cli, ["context", "--role", "field", "--skill", "order-details", "--reason", REASON]
    )

    assert result.exit_code == 0, result.output
    assert "tokens" in result.output
    assert f"runbooks/{REASON}.md" in result.output
    assert "monolith" in result.output


def test_context_command_refuses_a_skill_of_the_other_role():
    result = CliRunner().invoke(cli, ["context", "--role", "field", "--skill", "triage-and-assign"])

    assert result.exit_code == 2
    assert "'triage-and-assign' is a manager skill" in result.stderr
    assert "field agent cannot activate it" in result.stderr
