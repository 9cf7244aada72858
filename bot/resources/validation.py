"""The consistency checks of shared/ behind ``ecm-bot skills validate``."""

from __future__ import annotations

from bot.access.guard import Guard
from bot.errors import AccessDenied
from bot.paths import CONFIG_DIR, QUERIES_DIR, RUNBOOKS_DIR
from bot.resources.files import HEADER_FIELDS, load_yaml, query_header


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
