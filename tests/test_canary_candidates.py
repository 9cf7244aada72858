"""Candidate versions: a ``canary/`` folder inside the skill folder, naming only what differs,
loaded strictly (the same schema, one error naming its file and field), listed beside the live
version, and never wider than it — at load time and, through ``CandidateGuard``, at run
time in its role."""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers_skills import RecordingSink

from bot.access.candidate import CandidateGuard
from bot.cli import cli
from bot.errors import AccessDenied, SkillConfigError
from bot.paths import CONFIG_DIR, PROJECT_ROOT, RUNBOOKS_DIR, SHARED_DIR, SKILLS_DIR
from bot.skills.candidates import load_candidate
from bot.skills.loader import load_skill
from bot.skills.registry import Registry
from bot.yaml_safe import parse_yaml

EXAMPLE = PROJECT_ROOT / "examples" / "canary" / "triage-and-assign"
TRIAGE = "triage-and-assign"


def write_candidate(folder: Path, overlay: dict, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "aspora.config.yaml").write_text(yaml.safe_dump(overlay), encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def base_overlay(**extra) -> dict:
    return {
        "skill": {"name": TRIAGE, "version": "1.2.0"},
        "canary": {"strategy": "shadow"},
        **extra,
    }


@pytest.fixture
def project():
    """A throwaway project inside the project root whose triage-and-assign has a canary/."""
    root = PROJECT_ROOT / f"tmp-canary-test-{uuid.uuid4().hex[:8]}"
    shutil.copytree(SKILLS_DIR, root / "skills")
    shutil.copytree(SHARED_DIR, root / "shared")
    shutil.copytree(EXAMPLE, root / "skills" / "manager" / TRIAGE / "canary")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def live(registry: Registry):
    return registry.get(TRIAGE)


# -- the form ---------------------------------------------------------------------------------
def test_the_example_candidate_names_only_what_differs_and_inherits_the_rest(registry):
    cand = load_candidate(live(registry), EXAMPLE)
    assert (cand.name, cand.role, cand.version, cand.track) == (
        TRIAGE,
        "manager",
        "1.1.0",
        "candidate",
    )
    assert cand.config.canary.strategy == "shadow"
    assert cand.config.canary.promote.max_diff == 0.05 and cand.config.canary.promote.min_runs == 3
    assert cand.config.triggers == live(registry).config.triggers  # inherited
    assert cand.config.permissions == live(registry).config.permissions
    assert cand.folder == live(registry).folder and cand.source == EXAMPLE
    assert cand.skill_md == EXAMPLE / "SKILL.md" and "Candidate 1.1.0" in cand.description


def test_a_canary_folder_gives_the_skill_a_candidate_listed_beside_it(project):
    reg = Registry.load(project / "skills")
    skill = reg.get(TRIAGE)
    assert skill.candidate is not None and skill.candidate.version == "1.1.0"
    assert len(reg) == len(Registry.load())  # a candidate is not a skill of its own
    runner = CliRunner()
    out = runner.invoke(cli, ["skills", "list", "--skills-dir", str(project / "skills")])
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if f" {TRIAGE} " in line)
    assert "1.0.0" in row and "1.1.0 (shadow)" in row
    listed = runner.invoke(
        cli, ["skills", "list", "--json", "--skills-dir", str(project / "skills")]
    )
    entry = next(e for e in json.loads(listed.output) if e["name"] == TRIAGE)
    assert entry["version"] == "1.0.0" and entry["candidate"]["version"] == "1.1.0"
    assert entry["candidate"]["strategy"] == "shadow"
    valid = runner.invoke(cli, ["skills", "validate", "--skills-dir", str(project / "skills")])
    assert valid.exit_code == 0, valid.output
    assert "(and 1 candidate version)" in valid.output


def test_validate_refuses_a_candidate_replacing_a_file_the_live_version_may_not_load(project):
    canary = project / "skills" / "manager" / TRIAGE / "canary"
    shutil.copy(canary / "scoring.yaml", canary / "patterns.yaml")
    path = canary / "aspora.config.yaml"
    data = parse_yaml(path.read_text())
    data["canary"]["replaces"] = {"shared/config/patterns.yaml": "patterns.yaml"}
    path.write_text(yaml.safe_dump(data))
    out = CliRunner().invoke(cli, ["skills", "validate", "--skills-dir", str(project / "skills")])
    assert out.exit_code == 1
    assert "canary.replaces.shared/config/patterns.yaml" in out.output
    assert "the live version may not load it" in out.output


# -- strict validation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overlay", "field", "words"),
    [
        (base_overlay(canary={"strategy": "shadow", "oops": 1}), "canary.oops", "unknown field"),
        ({"skill": {"name": TRIAGE, "version": "1.2.0"}}, "canary", "required"),
        ({"canary": {"strategy": "shadow"}}, "skill.version", "required"),
        (base_overlay(skill={"name": TRIAGE, "version": "1.0.0"}), "skill.version", "live"),
        (base_overlay(skill={"name": TRIAGE, "version": "2"}), "skill.version", "pattern"),
        (
            base_overlay(skill={"name": TRIAGE, "version": "1.2.0", "role": "field"}),
            "skill.role",
            "keeps",
        ),
        (base_overlay(triggers=[{"command": {"patterns": ["x"]}}]), "triggers", "like its live"),
        (base_overlay(output={"reply": True}), "output", "like its live"),
        (base_overlay(canary={"strategy": "split"}), "canary.strategy", "field skills"),
        (
            base_overlay(canary={"strategy": "shadow", "split": {"share": 1.5}}),
            "canary.split.share",
            "less than",
        ),
        (
            base_overlay(
                canary={"strategy": "shadow", "replaces": {"shared/config/scoring.yaml": "../x"}}
            ),
            "canary.replaces.shared/config/scoring.yaml",
            "in the candidate's folder",
        ),
        (
            base_overlay(canary={"strategy": "shadow", "replaces": {"../etc/passwd": "SKILL.md"}}),
            "canary.replaces.../etc/passwd",
            "under shared/",
        ),
    ],
)
def test_a_bad_candidate_is_one_error_naming_its_file_and_field(
    registry, tmp_path, overlay, field, words
):
    folder = write_candidate(tmp_path / "canary", overlay)
    with pytest.raises(SkillConfigError) as err:
        load_candidate(live(registry), folder)
    assert err.value.path == str(folder / "aspora.config.yaml")
    assert f"field '{field}'" in err.value.problem and words in err.value.problem


def _permissions(registry, **change) -> dict:
    perms = live(registry).config.permissions.model_dump()
    perms.update(change)
    return perms


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tools": ["read_pending_list", "load_runbook"]}, "permissions.tools"),  # DEC-011
        ({"tools": ["read_pending_list", "read_knowledge_graph"]}, "permissions.tools"),
        ({"tools": ["read_pending_list", "read_dashboard"]}, "permissions.tools"),
        (
            {"shared_resources": ["../../../shared/config/patterns.yaml"]},
            "permissions.shared_resources",
        ),
        ({"blocked_resources": ["../../../shared/runbooks/"]}, "permissions.blocked_resources"),
    ],
)
def test_a_candidate_may_never_widen_what_its_live_version_may_use(
    registry, tmp_path, change, field
):
    folder = write_candidate(
        tmp_path / "canary", base_overlay(permissions=_permissions(registry, **change))
    )
    with pytest.raises(SkillConfigError) as err:
        load_candidate(live(registry), folder)
    assert f"field '{field}'" in err.value.problem


def test_a_split_candidate_may_not_use_a_system_its_live_version_does_not(registry, tmp_path):
    snooze = registry.get("snooze-ticket")
    perms = snooze.config.permissions.model_dump()
    perms["apis"] = [*perms["apis"], "warehouse"]
    overlay = {
        "skill": {"name": "snooze-ticket", "version": "1.1.0"},
        "canary": {"strategy": "split"},
        "permissions": perms,
    }
    folder = write_candidate(tmp_path / "canary", overlay)
    with pytest.raises(SkillConfigError, match="field 'permissions.apis': 'warehouse'"):
        load_candidate(snooze, folder)
    perms["apis"] = perms["apis"][:-1]
    assert (
        load_candidate(snooze, write_candidate(folder, overlay)).config.canary.strategy == "split"
    )


def test_a_candidate_may_narrow_what_its_live_version_may_use(registry, tmp_path):
    narrower = _permissions(registry, apis=["warehouse", "workbook"])
    folder = write_candidate(tmp_path / "canary", base_overlay(permissions=narrower))
    cand = load_candidate(live(registry), folder)
    assert cand.config.permissions.apis == ["warehouse", "workbook"]


def test_a_candidate_skill_md_is_checked_like_any_other(registry, tmp_path):
    folder = write_candidate(
        tmp_path / "canary", base_overlay(), {"SKILL.md": "---\nname: other\ndescription: x\n---\n"}
    )
    with pytest.raises(SkillConfigError, match="field 'name' is 'other'"):
        load_candidate(live(registry), folder)


def test_a_live_config_may_not_carry_a_canary_section(tmp_path):
    from helpers_skills import copy_skill, edit_config

    folder = copy_skill(tmp_path, "manager", TRIAGE)
    edit_config(folder, lambda d: d.update(canary={"strategy": "shadow"}))
    with pytest.raises(SkillConfigError, match="only a candidate's config"):
        load_skill(folder)


# -- the guard applies to candidates, in their role, never wider than live ------------------------
def test_the_candidate_guard_reads_its_own_copy_of_a_replaced_file(registry):
    cand = load_candidate(live(registry), EXAMPLE)
    guard = CandidateGuard(cand, live(registry))
    assert guard.check_resource(CONFIG_DIR / "scoring.yaml") == (EXAMPLE / "scoring.yaml").resolve()
    assert (
        guard.check_resource(CONFIG_DIR / "stuck-reasons.yaml") == CONFIG_DIR / "stuck-reasons.yaml"
    )


def test_the_candidate_guard_keeps_the_hard_rules_of_its_role(registry):
    sink = RecordingSink()
    cand = load_candidate(live(registry), EXAMPLE)
    guard = CandidateGuard(cand, live(registry), caller="maya", denials=sink)
    with pytest.raises(AccessDenied, match="Runbooks belong to field skills"):
        guard.check_resource(RUNBOOKS_DIR / "LULU_NOT_CONFIRMED.md")
    with pytest.raises(AccessDenied):
        guard.check_tool("load_runbook")
    with pytest.raises(AccessDenied):
        guard.check_resource("../../field/my-tickets/SKILL.md")
    assert len(sink.records) == 3 and all(d["skill"] == TRIAGE for d in sink.records)


def test_the_candidate_guard_asks_the_live_rules_too_even_of_a_wider_config(registry):
    """A candidate config built around the loader (wider than live) is still refused at run
    time: every decision is the candidate's own and the live version's."""
    cand = load_candidate(live(registry), EXAMPLE)
    perms = cand.config.permissions.model_copy(
        update={
            "tools": [*cand.config.permissions.tools, "detect_anomalies"],
            "shared_resources": [
                *cand.config.permissions.shared_resources,
                "../../../shared/config/patterns.yaml",
            ],
            "apis": ["warehouse"],
        }
    )
    wider = replace(cand, config=cand.config.model_copy(update={"permissions": perms}))
    guard = CandidateGuard(wider, live(registry))
    with pytest.raises(AccessDenied, match="shared_resources"):
        guard.check_resource(CONFIG_DIR / "patterns.yaml")
    with pytest.raises(AccessDenied, match="permissions.tools"):
        guard.check_tool("detect_anomalies")
    with pytest.raises(AccessDenied, match="permissions.apis"):
        guard.check_api("workbook")  # narrower than live: its own rule refuses
