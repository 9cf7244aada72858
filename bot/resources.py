"""The ECM shared resources (queries, runbooks, config, guardrails): guarded loading for a
running skill, and the consistency checks behind ``ecm-bot skills validate``."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from bot.access.guard import Guard
from bot.errors import AccessDenied, InputError, NotFound
from bot.paths import CONFIG_DIR, QUERIES_DIR, RUNBOOKS_DIR

QUERY_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REASON_RE = re.compile(r"^[A-Z][A-Z0-9_]{2,63}$")
HEADER_FIELDS = ("name", "returns", "params", "role")


@functools.lru_cache(maxsize=64)
def _parse_yaml(path: Path, mtime: float) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_yaml(path: Path) -> dict:
    """Parse a YAML file once per modification (safe_load)."""
    return _parse_yaml(path, path.stat().st_mtime)


def query_header(sql: str) -> dict[str, str]:
    """The ``-- key: value`` header of a query file (continuation lines are joined)."""
    header: dict[str, str] = {}
    key = None
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        m = re.match(r"^(\w+):\s*(.*)$", body)
        if m and m.group(1) in HEADER_FIELDS:
            key = m.group(1)
            header[key] = m.group(2)
        elif key:
            header[key] += " " + body
    return header


class Resources:
    """Shared resources as one running skill may see them: every load goes through its guard."""

    def __init__(self, guard: Guard):
        self.guard = guard

    def query_sql(self, name: str) -> str:
        if not QUERY_NAME_RE.match(name):
            raise InputError(f"'{name}' is not a query name.")
        return self.guard.read_text(QUERIES_DIR / f"{name}.sql")

    def _yaml(self, filename: str) -> dict:
        path = self.guard.check_resource(CONFIG_DIR / filename)
        return load_yaml(path)

    def stuck_reasons(self) -> dict[str, dict]:
        return self._yaml("stuck-reasons.yaml")["reasons"]

    def reason(self, code: str) -> dict:
        if not REASON_RE.match(code or ""):
            raise InputError(f"'{code}' is not a stuck-reason code.")
        try:
            return self.stuck_reasons()[code]
        except KeyError:
            raise NotFound(f"Unknown stuck reason '{code}'.") from None

    def knowledge(self, code: str) -> dict:
        self.guard.check_tool("read_knowledge_graph")
        return self._yaml("knowledge-graph.yaml")["reasons"].get(code, {})

    def runbook(self, code: str) -> str:
        self.guard.check_tool("load_runbook")
        if not REASON_RE.match(code or ""):
            raise InputError(f"'{code}' is not a stuck-reason code.")
        return self.guard.read_text(RUNBOOKS_DIR / f"{code}.md")

    def scoring(self) -> dict:
        return self._yaml("scoring.yaml")

    def patterns(self) -> dict:
        return self._yaml("patterns.yaml")


def check_resources(registry) -> list[str]:
    """Consistency problems in shared/: reasons vs runbooks vs knowledge graph, query headers,
    and query roles vs the skills allowed to run them. Empty when all is well."""
    problems: list[str] = []
    reasons = load_yaml(CONFIG_DIR / "stuck-reasons.yaml").get("reasons", {})
    kg = load_yaml(CONFIG_DIR / "knowledge-graph.yaml").get("reasons", {})
    runbooks = {p.stem for p in RUNBOOKS_DIR.glob("*.md")}
    for code, entry in reasons.items():
        where = f"shared/config/stuck-reasons.yaml: reasons.{code}"
        if entry.get("runbook") != f"{code}.md":
            problems.append(f"{where}.runbook: expected '{code}.md'")
        if code not in runbooks:
            problems.append(f"{where}: no runbook shared/runbooks/{code}.md")
        if code not in kg:
            problems.append(f"{where}: no entry in shared/config/knowledge-graph.yaml")
        for key in ("title", "team", "sla_hours", "severity", "escalate_to", "actions"):
            if key not in entry:
                problems.append(f"{where}.{key}: field is required but missing")
        if not 2 <= len(entry.get("actions", [])) <= 4:
            problems.append(f"{where}.actions: give 2-4 action steps")
    for stem in sorted(runbooks - set(reasons)):
        problems.append(f"shared/runbooks/{stem}.md: not referenced by any stuck reason")
    for code, entry in kg.items():
        if code not in reasons:
            problems.append(f"shared/config/knowledge-graph.yaml: reasons.{code}: unknown reason")
        for rel in entry.get("related", []):
            if rel not in reasons:
                problems.append(
                    f"shared/config/knowledge-graph.yaml: reasons.{code}.related: "
                    f"unknown reason '{rel}'"
                )
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        header = query_header(path.read_text(encoding="utf-8"))
        for key in HEADER_FIELDS:
            if key not in header:
                problems.append(f"shared/queries/{path.name}: header field '{key}' is missing")
        if header.get("name") and header["name"] != path.stem:
            problems.append(f"shared/queries/{path.name}: header name is '{header['name']}'")
        manager_only = header.get("role", "").startswith("manager")
        for skill in registry:
            if skill.role != "field" or not manager_only:
                continue
            guard = Guard(skill)
            try:
                guard.check_resource(path)
            except AccessDenied:  # refused, as it should be
                continue
            problems.append(
                f"{skill.folder}/aspora.config.yaml: field skill may load "
                f"manager-only query {path.name}"
            )
    return problems
