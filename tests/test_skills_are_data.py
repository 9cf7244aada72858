"""Skills are data end to end: a new skill is only a folder (SKILL.md, aspora.config.yaml and
the code its entry point names), found, routed (chat and Slack), guarded and row-scoped
without editing any module; and skill names stay out of the bot's modules."""

from __future__ import annotations

import ast
import json
import shutil
import uuid
from pathlib import Path

import pytest
from conftest import MANAGER, SARAH
from fake_slack import FakeSlack
from helpers_skills import importable_code
from slack_harness import serve_bot

from bot.errors import AccessDenied
from bot.paths import PROJECT_ROOT, SHARED_DIR, SKILLS_DIR
from bot.runtime.dispatch import handle_message
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.skills.registry import Registry

BOT = PROJECT_ROOT / "bot"
MAX_SKILL_NAME_LITERALS = 0  # from 43, then 16: see ARCHITECTURE.md "Skills are data"
SARAH_ID = "U0SARAH003"
NAME = "shift-handover"
MODULE = f"ecm_test_skill_{uuid.uuid4().hex[:8]}"

SKILL_MD = f"""\
---
name: {NAME}
description: >-
  Lists the calling field agent's own open order IDs for a shift handover. Use when a field
  agent says "handover".
---

## Steps

1. Read only the caller's rows of the Assignments tab.
2. Reply with the order IDs, one line.
"""

CONFIG = f"""\
skill:
  name: {NAME}
  domain: ecm
  role: field
  version: 1.0.0
  description: Lists the caller's own order IDs for a shift handover.
runtime:
  entry_point: {MODULE}:run
  timeout: 30
model:
  primary: claude-haiku-5-5
  fallback: gpt-6-luna
  temperature: 0.2
  max_tokens: 1000
  cost_budget:
    max_per_execution: 0.01
    monthly_limit: 5.0
triggers:
- message:
    patterns:
    - handover
permissions:
  tools:
  - read_my_queue
  apis:
  - workbook
  - slack
  shared_resources:
  - ../../../shared/config/stuck-reasons.yaml
  blocked_resources:
  - ../../manager/
  sheets_access:
    Assignments:
      read: own
      write: none
monitoring:
  success_rate_threshold: 0.95
  latency_p95_threshold: 5
  alert_on_failure: false
  custom_metrics: []
output:
  view: {MODULE}:present
"""

CODE = '''\
"""The shift-handover skill's code (its entry point) and its presenter."""


def run(ctx, probe="", **_):
    ctx.tool("read_my_queue")
    if probe:
        ctx.guard.read_text(probe)
    rows = ctx.workbook.read("Assignments")
    return {
        "agent": ctx.caller.email,
        "owners": sorted({r["Assigned Agent"] for r in rows}),
        "orders": sorted(r["Order ID"] for r in rows),
    }


def present(data):
    return f"HANDOVER {data['agent']}: {len(data['orders'])} orders"
'''


@pytest.fixture
def project(monkeypatch, tmp_path):
    """A throwaway project (the real skills/ and shared/ plus one new skill folder) inside
    the project root, where the guard allows skill folders; the entry point's module on
    sys.path."""
    root = PROJECT_ROOT / f"tmp-skills-test-{uuid.uuid4().hex[:8]}"
    shutil.copytree(SKILLS_DIR, root / "skills")
    shutil.copytree(SHARED_DIR, root / "shared")
    folder = root / "skills" / "field" / NAME
    folder.mkdir()
    (folder / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    (folder / "aspora.config.yaml").write_text(CONFIG, encoding="utf-8")
    importable_code(tmp_path, monkeypatch, MODULE, CODE)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_adding_a_skill_is_only_a_folder(project, triaged, monkeypatch):
    from skills_ref import validate

    folder = project / "skills" / "field" / NAME
    assert validate(folder) == []
    registry = Registry.load(project / "skills")
    skill = registry.get(NAME)
    assert skill in registry.for_role("field")
    assert registry.search("handover", role="field")[0].name == NAME

    # chat: routed by its trigger, run for the caller, only the caller's rows (row rules)
    reply = handle_message(registry, triaged.stores, SARAH, "handover")
    assert reply.result is not None and reply.result.skill == NAME
    data = reply.result.data
    mine = {r["Order ID"] for r in triaged.rows("Assignments") if r["Assigned Agent"] == SARAH}
    assert data["owners"] == [SARAH] and set(data["orders"]) <= mine and data["orders"]

    # the guard: a field skill, so a manager is refused; a manager file or anything outside
    # the project is refused too
    manager = Roster.load(triaged.stores.workbook).resolve(MANAGER)
    if "field" not in manager.roles:
        with pytest.raises(AccessDenied):
            execute(registry, triaged.stores, NAME, manager)
    sarah = Roster.load(triaged.stores.workbook).resolve(SARAH)
    for probe in (str(SKILLS_DIR / "manager" / "CHARTER.md"), "../../manager/CHARTER.md"):
        with pytest.raises(AccessDenied):
            execute(registry, triaged.stores, NAME, sarah, {"probe": probe})
    with pytest.raises(AccessDenied):
        execute(registry, triaged.stores, NAME, sarah, {"probe": "/etc/passwd"})
    ok = execute(registry, triaged.stores, NAME, sarah, {"probe": "SKILL.md"})
    assert ok.data["owners"] == [SARAH]

    # Slack: the real Bolt app with this registry, presented by the skill's own presenter
    _through_slack(registry, triaged, monkeypatch)


def _through_slack(registry, triaged, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    served = serve_bot(registry, triaged.path, fake)
    try:
        assert served.dm(SARAH_ID, "handover").status == 200
        post = fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
        assert post["channel"] == f"D{SARAH_ID}"
        assert f"HANDOVER {SARAH}" in json.dumps(post, ensure_ascii=False)
    finally:
        served.stop()
        fake.stop()


def skill_name_literals(root: Path = PROJECT_ROOT) -> list[tuple[str, int, str]]:
    """String constants equal to a skill folder's name in bot/**/*.py outside bot/skill_code."""
    names = {p.name for p in (root / "skills").glob("*/*") if p.is_dir()}
    found = []
    for path in sorted((root / "bot").rglob("*.py")):
        if "skill_code" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append((str(path.relative_to(root)), node.lineno, node.value))
    return found


def test_skill_names_stay_out_of_the_bot_modules():
    found = skill_name_literals()
    assert len(found) <= MAX_SKILL_NAME_LITERALS, "\n".join(map(str, found))


def test_every_name_a_skill_config_gives_is_registered():
    from bot.agents.narrate import COMPACTORS
    from bot.cli import load_commands
    from bot.present import registered
    from bot.slack.delivery import FOLLOW_UPS

    commands = load_commands().commands
    listeners = "".join(p.read_text() for p in (BOT / "slack" / "listeners").glob("*.py"))
    for skill in Registry.load():
        out = skill.config.output
        assert out.view in registered(), skill.name
        assert set(out.follow_ups) <= set(FOLLOW_UPS), skill.name
        narration = skill.config.narrate
        if narration and narration.compact:
            assert narration.compact in COMPACTORS, skill.name
        assert set(skill.config.surfaces.cli) <= set(commands), skill.name
        for control in skill.config.surfaces.slack:  # a listener of the Slack app handles it
            assert f'("{control}")' in listeners, (skill.name, control)


def test_a_skill_config_section_is_strict(tmp_path):
    from helpers_skills import copy_skill, edit_config

    from bot.errors import SkillConfigError
    from bot.skills.loader import load_skill

    folder = copy_skill(tmp_path, "field", "resolve-ticket")
    edit_config(folder, lambda d: d["confirm"].update(unknown=1))
    with pytest.raises(SkillConfigError, match="confirm"):
        load_skill(folder)


def test_a_bot_control_belongs_to_one_skill(tmp_path):
    from helpers_skills import copy_skill, edit_config

    from bot.errors import SkillConfigError
    from bot.skills.loader import load_skill

    registry = Registry.load()
    assert registry.router("manager").config.surfaces.router
    assert registry.for_slack("run_triage").config.output.publish == "triage"
    folder = copy_skill(tmp_path, "field", "resolve-ticket")
    edit_config(folder, lambda d: d["surfaces"].update(slack=["run_triage"]))
    clash = load_skill(folder)
    with pytest.raises(SkillConfigError, match="surfaces.slack"):
        Registry([registry.get("triage-and-assign"), clash])
