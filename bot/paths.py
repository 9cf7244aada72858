"""Where the project's data-as-code lives: skill folders and the ECM shared resources."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("ECM_PROJECT_ROOT", Path(__file__).resolve().parent.parent))
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
