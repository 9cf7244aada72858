"""Where the project's data-as-code lives: skill folders and the ECM shared resources.

The project root is a folder holding ``skills/`` and ``shared/``:
- ``ECM_PROJECT_ROOT`` when set (an optional override, e.g. a mounted copy of the skills);
- else the source checkout this package runs from (editable install, or running from the repo),
  so edits to the repo's top-level folders show up live;
- else the copy shipped inside the installed package (``bot/_data``, see setup.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
INSTALLED_ROOT = _PACKAGE / "_data"


def _is_root(path: Path) -> bool:
    return (path / "skills").is_dir() and (path / "shared").is_dir()


def find_project_root(env: Mapping[str, str] = os.environ) -> Path:
    """The folder holding ``skills/`` and ``shared/`` (see the module docstring)."""
    override = env.get("ECM_PROJECT_ROOT", "").strip()
    if override:
        return Path(override).expanduser()
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and _is_root(checkout):
        return checkout
    return INSTALLED_ROOT


PROJECT_ROOT = find_project_root()
SKILLS_DIR = PROJECT_ROOT / "skills"
SHARED_DIR = PROJECT_ROOT / "shared"
QUERIES_DIR = SHARED_DIR / "queries"
RUNBOOKS_DIR = SHARED_DIR / "runbooks"
CONFIG_DIR = SHARED_DIR / "config"
GUARDRAILS_FILE = SHARED_DIR / "guardrails.md"
ROLES = ("manager", "field")


def data_dir() -> Path:
    """The bot's data directory (ECM_DATA_DIR, default ./.ecm), created on first use."""
    path = Path(os.environ.get("ECM_DATA_DIR", ".ecm")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
