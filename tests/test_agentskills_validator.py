"""Every skill folder is a valid Agent Skill for the reference validator (library and CLI).

The CLI's ``validate`` command runs in process through click's CliRunner on the installed
``agentskills`` script's own entry point (``skills_ref.cli.main``, the same code path); the
installed script itself is run once on a valid folder and once on a broken one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import skills_ref
from click.testing import CliRunner, Result
from helpers_skills import copy_skill, edit_frontmatter
from skills_ref.cli import main as agentskills_main

from bot.paths import SKILLS_DIR

FOLDERS = sorted(p for p in SKILLS_DIR.glob("*/*") if p.is_dir())
IDS = [f"{p.parent.name}/{p.name}" for p in FOLDERS]
AGENTSKILLS = Path(sys.executable).parent / "agentskills"


def _cli_validate(folder: Path) -> subprocess.CompletedProcess:
    """The installed ``agentskills`` command, as a real process."""
    return subprocess.run(
        [str(AGENTSKILLS), "validate", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _cli_validate_in_process(folder: Path) -> Result:
    """The same CLI's ``validate`` command, in this process."""
    return CliRunner().invoke(agentskills_main, ["validate", str(folder)])


def test_there_are_sixteen_skill_folders():
    assert len(FOLDERS) == 16


def test_the_installed_cli_runs_the_cli_object_tested_in_process():
    script = AGENTSKILLS.read_text(encoding="utf-8")
    assert "from skills_ref.cli import main" in script and "main()" in script


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_the_reference_library_finds_no_problem(folder):
    assert skills_ref.validate(folder) == []


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_the_agentskills_cli_accepts_the_folder(folder):
    result = _cli_validate_in_process(folder)

    assert result.exit_code == 0, result.output
    assert f"Valid skill: {folder}" in result.output


def test_the_installed_agentskills_command_accepts_a_folder():
    folder = SKILLS_DIR / "field" / "my-tickets"
    result = _cli_validate(folder)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Valid skill: {folder}" in result.stdout


def test_the_agentskills_cli_rejects_a_broken_folder(tmp_path):
    # Control: the validator is really checking, so the passes above mean something.
    folder = copy_skill(tmp_path, "field", "my-tickets")
    edit_frontmatter(folder, lambda meta: meta.update(name="not-the-folder"))

    assert skills_ref.validate(folder) != []
    in_process = _cli_validate_in_process(folder)
    assert in_process.exit_code == 1 and "Validation failed" in in_process.output
    installed = _cli_validate(folder)
    assert installed.returncode != 0 and "Validation failed" in installed.stderr
