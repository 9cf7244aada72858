"""Helpers for tests that need throwaway skill folders or a throwaway project root.

Every helper copies the real, valid files first and then lets the test mutate one thing, so a
failure points at exactly the change under test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.paths import PROJECT_ROOT, SHARED_DIR, SKILLS_DIR
from bot.yaml_safe import parse_yaml


def copy_skill(
    tmp_path: Path,
    role: str,
    name: str,
    *,
    into_role: str | None = None,
    into_name: str | None = None,
) -> Path:
    """Copy skills/<role>/<name> to tmp_path/skills/<into_role>/<into_name> and return it."""
    dest = tmp_path / "skills" / (into_role or role) / (into_name or name)
    shutil.copytree(SKILLS_DIR / role / name, dest)
    return dest


def make_project(tmp_path: Path) -> Path:
    """A copy of the project's skills/ and shared/ under tmp_path/project; returns its root."""
    root = tmp_path / "project"
    shutil.copytree(SKILLS_DIR, root / "skills")
    shutil.copytree(SHARED_DIR, root / "shared")
    return root


def edit_config(folder: Path, change: Callable[[dict], None]) -> Path:
    """Load the folder's aspora.config.yaml, apply ``change`` to the dict, write it back."""
    path = folder / "aspora.config.yaml"
    data = parse_yaml(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def edit_frontmatter(folder: Path, change: Callable[[dict], None]) -> Path:
    """Apply ``change`` to the SKILL.md frontmatter dict and write the file back."""
    path = folder / "SKILL.md"
    _, front, body = path.read_text(encoding="utf-8").split("---", 2)
    meta = parse_yaml(front)
    change(meta)
    dumped = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    path.write_text(f"---\n{dumped}---{body}", encoding="utf-8")
    return path


class RecordingSink:
    """A denial sink that keeps every refusal it is told about."""

    def __init__(self) -> None:
        self.records: list[dict[str, str]] = []

    def record_denial(
        self, *, caller: str, skill: str, role: str, resource: str, rule: str
    ) -> None:
        self.records.append(
            {"caller": caller, "skill": skill, "role": role, "resource": resource, "rule": rule}
        )


__all__ = [
    "PROJECT_ROOT",
    "RecordingSink",
    "copy_skill",
    "edit_config",
    "edit_frontmatter",
    "make_project",
]


def importable_code(tmp_path: Path, monkeypatch, module: str, source: str) -> Path:
    """``source`` as module ``module`` in a fresh folder on ``sys.path`` (for entry points of
    throwaway skills and candidates); returns the folder."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / f"{module}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(code))
    return code
