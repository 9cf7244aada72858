"""Boundaries that must stay visible: the core imports no vendor SDK, field code never imports
triage, and no vendor database driver leaks into the core."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
VENDORS = (
    "slack_bolt", "slack_sdk", "anthropic", "openai", "gspread", "redshift_connector", "psycopg",
    "psycopg_pool", "sqlite3",
)  # fmt: skip
CORE = ("skills", "access", "triage", "runtime", "skill_code", "context", "render", "agents")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_imports_no_vendor_sdk():
    for package in CORE:
        for path in (BOT / package).rglob("*.py"):
            bad = {m for m in imports(path) if m.split(".")[0] in VENDORS}
            assert not bad, f"{path} imports {bad}"


def test_field_skill_code_never_imports_triage_or_manager_code():
    files = list((BOT / "skill_code" / "field").glob("*.py"))
    assert len(files) >= 5
    for path in files:
        bad = {m for m in imports(path) if m.startswith(("bot.triage", "bot.skill_code.manager"))}
        assert not bad, f"{path} imports {bad}"


def test_each_roles_catalog_never_names_a_skill_of_the_other_role():
    from bot.context.builder import catalog_text
    from bot.skills.registry import Registry

    registry = Registry.load()
    for role, other in (("manager", "field"), ("field", "manager")):
        text = catalog_text(registry, role)
        charter = (BOT.parent / "skills" / role / "CHARTER.md").read_text(encoding="utf-8")
        for skill in registry.for_role(other):
            assert skill.name not in text, f"{role} catalog names {skill.name}"
            assert skill.name not in charter, f"{role} charter names {skill.name}"


def test_running_a_field_skill_loads_no_triage_module(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, bot.runtime.dispatch, bot.skill_code.field.my_tickets, "
        "bot.skill_code.field.order_details, bot.skill_code.field.resolve_ticket, "
        "bot.skill_code.field.escalate_ticket\n"
        "bad = [m for m in sys.modules if m.startswith(('bot.triage', 'bot.skill_code.manager'))]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
