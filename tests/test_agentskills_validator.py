"""Every skill folder is a valid Agent Skill for the reference validator (library and CLI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import skills_ref
from helpers_skills import copy_skill, edit_frontmatter

from bot.paths import SKILLS_DIR

FOLDERS = sorted(p for p in SKILLS_DIR.glob("*/*") if p.is_dir())
IDS = [f"{p.parent.name}/{p.name}" for p in FOLDERS]
AGENTSKILLS = Path(sys.executable).parent / "agentskills"


def _cli_validate(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(AGENTSKILLS), "validate", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_there_are_sixteen_skill_folders():
    assert len(FOLDERS) == 16


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_the_reference_library_finds_no_problem(folder):
    assert skills_ref.validate(folder) == []


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_the_agentskills_cli_accepts_the_folder(folder):
    result = _cli_validate(folder)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_agentskills_cli_rejects_a_broken_folder(tmp_path):
    # Control: the validator is really checking, so the passes above mean something.
    folder = copy_skill(tmp_path, "field", "my-tickets")
    edit_frontmatter(folder, lambda meta: meta.update(name="not-the-folder"))

    assert skills_ref.validate(folder) != []
    assert _cli_validate(folder).returncode != 0
